"""Item 18 through the queue and timer functions: a device id used as a JSON key (or a template name) that
holds a control character or a lone surrogate is shown escaped in ``problems[].field`` and the message; no
log line of the job carries the full device id."""

from __future__ import annotations

import json
import logging

import pytest
from functions.queue_push.index import handler as queue_handler
from functions.scheduled_push.index import handler as timer_handler

from pushfn.logs import JsonFormatter
from pushfn.triggers.events.queue import SqsRecord, sqs_event
from pushfn.triggers.events.timer import fc_timer_event

DEVICE = "e2ba19de97604f55b165576736477b74"
PUSH = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}
#: (what, the body's JSON text): each refused with the device id, escaped, in its problem's field or message.
BODIES = [
    ("tab before a key", json.dumps({**PUSH, "\t" + DEVICE: 1})),
    ("NUL before a key", json.dumps({**PUSH, "\x00" + DEVICE: 1})),
    ("U+2028 before a key", json.dumps({**PUSH, "\u2028" + DEVICE: 1})),
    ("lone surrogate before a key", json.dumps({**PUSH, "\ud800" + DEVICE: 1})),
    ("duplicate escaped key", '{"Title": "T", "\\t' + DEVICE + '": 1, "\\t' + DEVICE + '": 2}'),
    ("template name", json.dumps({"template": "\x01" + DEVICE, "params": {}})),
]


def _run(kind: str, body: str) -> None:
    if kind == "queue":
        queue_handler(sqs_event([SqsRecord(body=body, message_id="m-1")]), None)
    else:
        timer_handler(fc_timer_event(body, trigger_name="t", trigger_time="2026-01-01T00:00:00Z"), None)


@pytest.mark.parametrize("kind", ["queue", "timer"])
@pytest.mark.parametrize(("what", "body"), BODIES, ids=[b[0] for b in BODIES])
def test_no_job_log_line_holds_a_device_id_after_an_escape(emulator, runtime, caplog, kind, what, body) -> None:
    """Regression: the masking pattern wanted no letter or digit before a device id, so the ``t`` of ``\\t``
    or the digits of ``\\x00`` / ``\\u2028`` joined it into a longer run and the full id was logged."""
    caplog.set_level(logging.INFO)
    _run(kind, body)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"problems"' in line for line in lines)  # the refusal was logged, with its problems
    assert not [line for line in lines if DEVICE in line]
    assert not emulator.pushes()
