"""No secret, session token or full device id reaches a log line or an exception message.

Every log record pushfn emits during a mix of successful, retried and failing calls is rendered with
the JSON formatter the functions use (so structured extras are checked too).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushfn.logs import JsonFormatter, MaskingFilter, get_logger, scrub
from pushfn.push import PushError, StaticCredentials, Timeout

SECRET = "Sup3rSecretAccessKeyValue000000"
TOKEN = "CAIS-session-token-value-0000000000"
DEVICES = ["e2ba19de97604f55b165576736477b74", "92a1da34bdfd4c9692714917ce22d53d"]


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_no_secret_or_device_id_in_logs_or_errors(captured, client_factory) -> None:
    from pushfn.emulator import Emulator

    texts: list[str] = []
    with Emulator(host="127.0.0.1", port=0, security_tokens={"STS.LeakTestKey": (SECRET, TOKEN)}) as emu:
        for device in DEVICES:
            emu.register_device(device, aliases=("alice",))
        good = StaticCredentials("STS.LeakTestKey", SECRET, TOKEN)
        bad = StaticCredentials("STS.LeakTestKey", "x" + SECRET, TOKEN)
        push = {
            "Target": "DEVICE",
            "TargetValue": ",".join(DEVICES),
            "DeviceType": "ANDROID",
            "PushType": "NOTICE",
            "Title": "t",
            "Body": "b",
        }
        for version in ("v2", "v3"):
            client = client_factory(
                emu, credentials=good, signature_version=version, timeout=Timeout(connect=1, read=0.3)
            )
            emu.add_fault("throttle", count=1)
            client.push(push)
            emu.add_fault("latency", count=1, latency_ms=800)
            client.push(push)
            client.call("QueryDevicesByAlias", {"Alias": "alice"})
            for failing, creds in ((push, bad), ({**push, "Title": "x" * 300}, good)):
                with pytest.raises(PushError) as info:
                    client_factory(emu, credentials=creds, signature_version=version).push(failing)
                texts += [str(info.value), repr(info.value)]
    logged = captured.getvalue()
    assert "push call ok" in logged  # the capture really saw the client's records
    for text in [logged, *texts]:
        assert SECRET not in text
        assert TOKEN not in text
        for device in DEVICES:
            assert device not in text


# --- issue 13 item 18: masking covers every field of every record ----------------------------------------

KEYED = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # a device id used as a JSON *key*: it lands in problems[].field


class RecordDump(logging.Formatter):
    """What a platform formatter that prints every attribute of a record (Lambda's JSON format does
    that with extras) would write: proves the records themselves are scrubbed, not only our formatter."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record.__dict__, default=str) + (record.exc_text or "") + super().format(record)


@pytest.fixture
def every_format() -> Iterator[list[io.StringIO]]:
    streams = [io.StringIO(), io.StringIO()]
    handlers = [logging.StreamHandler(streams[0]), logging.StreamHandler(streams[1])]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(RecordDump("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield streams
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_device_id_used_as_a_json_key_never_reaches_a_log_line(every_format, emulator, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from functions.queue_push.index import handler as queue_handler
    from functions.scheduled_push.index import handler as timer_handler

    from pushfn.http import handler as http_handler
    from pushfn.http import reset_default_app
    from pushfn.runtime import Runtime, reset_runtime, set_runtime
    from pushfn.triggers.events.http import fc3_event
    from pushfn.triggers.events.queue import sqs_event
    from pushfn.triggers.events.timer import fc_timer_event

    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", f"sqlite:///{tmp_path}/idempotency.db")
    monkeypatch.setenv("PUSHFN_DEAD_LETTER_URL", f"file://{tmp_path}/dead")
    reset_default_app()
    client = emulator.client()
    set_runtime(Runtime(client=client))
    spec = {"Target": "DEVICE", "TargetValue": DEVICES[0], "DeviceType": "ANDROID", "PushType": "NOTICE",
            "Title": "t", "Body": f"for {DEVICES[1]}", KEYED: "x", "ExtParameters": {KEYED: DEVICES[0]}}  # fmt: skip
    try:
        http = http_handler(
            fc3_event("POST", "/push", json.dumps(spec).encode(), {"Content-Type": "application/json"}), None
        )
        assert http["statusCode"] == 400 and KEYED in http["body"]  # the caller sees its own field named
        queue_handler(sqs_event([json.dumps(spec)]), None)
        timer_handler(fc_timer_event(json.dumps(spec)), None)
    finally:
        reset_runtime()
        reset_default_app()
        client.close()
    for stream in every_format:
        logged = stream.getvalue()
        assert "unknown" in logged or "problems" in logged  # the failures really were logged
        for device in [KEYED, *DEVICES]:
            assert device not in logged


@pytest.mark.parametrize(
    ("fields", "message", "args"),
    [
        ({"problems": [{"field": KEYED, "rule": "unknown"}]}, "invalid", ()),
        ({KEYED: {"nested": [{"deeper": f"PushTask.1.{KEYED}"}]}}, "spec %s", (KEYED,)),
        ({"targets": DEVICES}, "pushed to %s and %s", tuple(DEVICES)),
        ({"access_key_secret": SECRET, "security_token": TOKEN, "Authorization": f"Bearer {SECRET}"}, "creds", ()),
        ({"detail": f"AccessKeySecret={SECRET}&SecurityToken={TOKEN}"}, "query %s", (f"Signature={SECRET}",)),
        ({"set": {KEYED}, "tuple": (KEYED,), "obj": Exception(KEYED)}, "whsec_cHVzaGZuLXRlc3Qtd2ViaG9vaw== %s", (1,)),
    ],
)
def test_scrubber_covers_values_keys_nesting_args_and_secret_names(every_format, fields, message, args) -> None:  # type: ignore[no-untyped-def]
    leaks = [KEYED, *DEVICES, SECRET, TOKEN, "cHVzaGZuLXRlc3Qtd2ViaG9vaw=="]
    try:
        raise ValueError(f"boom for {KEYED} with {SECRET=}")
    except ValueError:
        get_logger("pushfn.test_no_leaks").error(message, *args, extra={"fields": fields}, exc_info=True)
    for stream in every_format:  # our formatter, and a platform formatter printing the raw record
        logged = stream.getvalue()
        assert "test_no_leaks" in logged
        assert not [leak for leak in leaks if leak in logged]
    # Another library's logger has no filter: our formatter is the last line of defence.
    every_format[0].truncate(0)
    logging.getLogger("otherlib").warning(message, *args, extra={"fields": fields})
    assert "otherlib" in every_format[0].getvalue()
    assert not [leak for leak in leaks if leak in every_format[0].getvalue()]


def test_json_formatter_scrubs_records_of_any_logger() -> None:
    record = logging.LogRecord("urllib3", logging.INFO, __file__, 1, "GET /?d=%s", (KEYED,), None)
    record.fields = {KEYED: {"token": TOKEN}, "list": [f"x.{KEYED}"]}  # type: ignore[attr-defined]
    line = JsonFormatter().format(record)
    assert KEYED not in line and TOKEN not in line and json.loads(line)["message"] == "GET /?d=0f1e…(32)"


def test_other_ids_are_left_alone() -> None:
    """Only 32-character runs look like device ids: hashes, UUIDs, MessageIds stay readable."""
    sha = "request-sha256:" + "ab" * 32
    uuid = "868f2620-c9b1-56f2-9c13-d3a725efd3d3"
    assert scrub({"key": sha, "token_id": uuid, "message_id": "500000000006"}) == {
        "key": sha,
        "token_id": uuid,
        "message_id": "500000000006",
    }


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.sampled_from([KEYED, f"x.{KEYED}", f"{KEYED}-y", 1, None, True, "plain"]),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from([KEYED, "field", f"a{KEYED}"[1:], "k"]), children, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_property_a_device_id_anywhere_in_fields_is_masked(value) -> None:  # type: ignore[no-untyped-def]
    record = logging.LogRecord("pushfn.x", logging.INFO, __file__, 1, "m", (), None)
    record.fields = {"value": value}  # type: ignore[attr-defined]
    assert KEYED not in JsonFormatter().format(record)
    MaskingFilter().filter(record)
    assert KEYED not in json.dumps(record.fields, default=str)  # type: ignore[attr-defined]
