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


#: Bodies that echo one caller-chosen text (``{text}``) back in a problem, each cut somewhere.
ECHOED = {
    "unknown kind (cut at 40)": lambda text: json.dumps({"kind": text, "version": 1}),
    "unknown field (cut at 64)": lambda text: json.dumps({**PUSH, text: 1}),
    "duplicate key (cut at 64)": lambda text: '{"Title": "T", "' + text + '": 1, "' + text + '": 2}',
    "unknown template (cut at 64)": lambda text: json.dumps({"template": text}),
}


@pytest.mark.parametrize("kind", ["queue", "timer"])
@pytest.mark.parametrize("what", list(ECHOED))
def test_a_device_id_cut_short_in_a_problem_is_masked_before_the_cut(emulator, runtime, caplog, kind, what) -> None:
    """Regression: a value or key shown in a problem was cut (40 or 64 characters) before the log's masking
    ran, and a device id cut in the middle is no longer shaped like one: up to 30 of its 32 characters were
    logged as they are. Every cut now masks device ids first, wherever the cut falls."""
    caplog.set_level(logging.INFO)
    for prefix in range(0, 70, 3):
        _run(kind, ECHOED[what]("x" * prefix + "-" + DEVICE))
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"problems"' in line for line in lines)
    assert not [line for line in lines if DEVICE[:5] in line]  # mask() shows the first four, no more


#: Keys and values that put a device id into a problem where ``\b[0-9a-fA-F]{32}\b`` saw none.
REPORTED = {
    "after an underscore": {**PUSH, "_" + DEVICE: 1},
    "between underscores": {**PUSH, "a_" + DEVICE + "_b": 1},
    "after a tab": {**PUSH, "\t" + DEVICE: 1},
    "after NUL": {**PUSH, "\x00" + DEVICE: 1},
    "in a relative time": {**PUSH, "push_time": "+_" + DEVICE},
}


@pytest.mark.parametrize("what", list(REPORTED))
def test_the_tick_answer_and_the_dead_letter_mask_the_device_id(emulator, runtime, tmp_path, monkeypatch, what):
    """Regression (item 18, every field of every record): the answer of an invalid tick (returned to the
    platform, printed by ``pushfn invoke``) and a dead letter's ``failure`` were masked by a private pattern of
    32 hex digits between word boundaries, so an id after ``_`` or an escape stood there in full; only the
    log filter masked the log lines. One notion of a device id now: the masking module's."""
    from pushfn.jobs.dead_letter import DEAD_LETTER_ENV

    dead = tmp_path / "dead"
    monkeypatch.setenv(DEAD_LETTER_ENV, str(dead))
    body = json.dumps(REPORTED[what])

    summary = timer_handler(fc_timer_event(body, trigger_name="t", trigger_time="2026-01-01T00:00:00Z"), None)
    queue_handler(sqs_event([SqsRecord(body=body, message_id="m-1")]), None)

    assert summary["status"] == "invalid" and summary["problems"]
    assert DEVICE[:5] not in json.dumps(summary, ensure_ascii=False)
    [letter] = [json.loads(path.read_text(encoding="utf-8")) for path in dead.glob("*.json")]
    assert letter["failure"]["problems"] and letter["body"] == body  # the body is kept as sent, to fix and resend
    assert DEVICE[:5] not in json.dumps(letter["failure"], ensure_ascii=False)
    assert not emulator.pushes()
