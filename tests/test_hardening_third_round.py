"""Hardening, third round: new inputs of the hardening issue's kinds, found by attacking the
restructured code. Each test failed before its fix; the item, the input, what happened and what is
expected are in its docstring. Everything is real: the deployed
handlers, the emulator over loopback, SQLite stores, the ``pushfn`` CLI's ``main``.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HTTP_DIR = Path(__file__).resolve().parent / "http"
if str(HTTP_DIR) not in sys.path:
    sys.path.insert(0, str(HTTP_DIR))

from http_support import (  # noqa: E402
    DEVICE,
    OTHER_DEVICE,
    HttpEnv,
    bearer,
    call_handler,
    configure,
    encode,
    make_client,
    platform_event,
    push_body,
)

from pushfn.http import reset_default_app  # noqa: E402
from pushfn.idempotency.stores.sqlite import SqliteStore  # noqa: E402
from pushfn.push import NO_RETRY, Timeout  # noqa: E402
from pushfn.runtime import Runtime, reset_runtime, set_runtime  # noqa: E402
from pushfn.triggers.events.http import fc2_environ  # noqa: E402
from pushfn.triggers.events.queue import SqsRecord, sqs_event  # noqa: E402


@pytest.fixture
def http_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: Any) -> Iterator[HttpEnv]:
    configure(monkeypatch, tmp_path)
    emulator.register_device(DEVICE)
    emulator.register_device(OTHER_DEVICE)
    client = make_client(emulator)
    set_runtime(Runtime(client=client))
    try:
        yield HttpEnv(emulator, client)
    finally:
        reset_runtime()
        reset_default_app()
        client.close()


@pytest.fixture
def queue_runtime(emulator: Any, tmp_path: Path) -> Iterator[Runtime]:
    client = emulator.client(timeout=Timeout(connect=2.0, read=5.0), retry=NO_RETRY)
    runtime = Runtime(client=client, store=SqliteStore(tmp_path / "idempotency.db"))
    set_runtime(runtime)
    try:
        yield runtime
    finally:
        reset_runtime()
        client.close()


def send(platform: str, body: Any, headers: dict[str, str], path: str = "/push", method: str = "POST") -> Any:
    return call_handler(platform_event(platform, method, path, headers, encode(body)), platform)


def wsgi(environ: dict[str, Any]) -> tuple[str, bytes]:
    """Call the real handler the way FC 2.0 does; returns (status line, body)."""
    from pushfn.http import handler

    seen: list[str] = []
    body = b"".join(handler(environ, lambda status, headers, exc_info=None: seen.append(status)))
    return seen[0], body


# --- item 3: a caller's IdempotentToken ------------------------------------------------------------------


def test_item3_a_callers_idempotent_token_is_not_replaced_over_http(http_env: HttpEnv) -> None:
    """Item 3 (the opposite side: never two pushes). Input: the same ``/push`` body carrying
    ``"IdempotentToken": X`` sent twice with two ``Idempotency-Key`` s (or twice after the dedupe
    window). Was: two pushes: the guard's fresh token silently replaces the caller's X (with
    ``PUSHFN_HTTP_DEDUPE_SECONDS=0`` the same two requests push once, CloudPush dropping the repeat
    of X). Expected: X is sent (one push), or the field is refused with a 400 — never ignored."""
    token = str(uuid.uuid4())
    body = push_body(IdempotentToken=token)
    answers = [send("fc3-bytes", body, {**bearer(), "Idempotency-Key": key}) for key in ("k-1", "k-2")]
    if all(a.status == 202 for a in answers):
        assert len(http_env.pushes()) == 1, [p["params"].get("IdempotentToken") for p in http_env.pushes()]
    else:
        assert {a.status for a in answers} == {400}
        assert http_env.pushes() == []


def test_item3_a_callers_idempotent_token_is_not_replaced_in_queue_messages(
    emulator: Any, queue_runtime: Runtime
) -> None:
    """Item 3, queue function. Input: two SQS messages (ids ``a1``, ``a2``) whose push spec carries the
    producer's ``"IdempotentToken": X``. Was: two pushes (the guard's token replaces X).
    Expected: one push, or both refused as invalid — the producer's token is never silently dropped."""
    from functions.queue_push.index import handler

    spec = {"Target": "ACCOUNT", "TargetValue": "user-1", "DeviceType": "ALL", "PushType": "NOTICE",
            "Title": "T", "Body": "B", "IdempotentToken": str(uuid.uuid4())}  # fmt: skip
    handler(sqs_event([SqsRecord(json.dumps(spec), message_id=m) for m in ("a1", "a2")]), None)
    assert len([p for p in emulator.pushes() if p.get("action") == "Push"]) <= 1


# --- item 10: the field named for a lone surrogate ---------------------------------------------------------


def test_item10_a_lone_surrogate_in_a_mass_push_task_names_the_task_like_every_other_rule(http_env: HttpEnv) -> None:
    """Item 10. Input: ``POST /mass-push`` ``{"PushTask": [{..., "Body": "\\ud800"}]}``. Was: the
    problem names ``PushTask.0.Body`` (JSON position), while every other rule on the same field
    (a NUL: ``PushTask.1.Body``), ``client.mass_push`` and the queue's model errors number tasks from 1
    as on the wire. Expected: ``PushTask.1.Body``."""
    surrogate = json.dumps({"PushTask": [push_body(Body="\ud800")]}).encode()  # "\\ud800" on the wire
    nul = {"PushTask": [push_body(Body="a\x00b")]}
    fields = []
    for body in (surrogate, nul):
        answer = send("fc3-bytes", body, bearer(), "/mass-push")
        assert answer.status == 400, answer.body
        fields.append([e["field"] for e in answer.json()["errors"]])
    assert fields[0] == fields[1] == ["PushTask.1.Body"]


# --- item 16: FC 2.0 WSGI bodies ---------------------------------------------------------------------------


class _TextInput:
    """A ``wsgi.input`` that wrongly hands out ``str`` (a misbehaving server or middleware)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def read(self, size: int = -1) -> str:
        text, self._text = self._text, ""
        return text


class ClientDisconnected(Exception):
    """What werkzeug raises from ``wsgi.input`` when the client goes away mid-body."""


class _RaisingInput:
    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def read(self, size: int = -1) -> bytes:
        raise self._exc


@pytest.mark.parametrize("chunked", [True, False])
def test_item16_a_wsgi_input_returning_str_is_a_400_not_an_exception(http_env: HttpEnv, chunked: bool) -> None:
    """Item 16. Input: an FC 2.0 environ whose ``wsgi.input.read()`` returns ``str`` (chunked, and with a
    Content-Length). Was: ``TypeError`` escapes the handler (a traceback, no answer). Expected: a 400
    ``malformed-event`` (the handler never raises)."""
    body = json.dumps(push_body())
    environ = fc2_environ("POST", "/push", body.encode(), bearer(), chunked=chunked)
    environ["wsgi.input"] = _TextInput(body)
    status, answer = wsgi(environ)
    assert status.startswith("400"), answer
    assert http_env.pushes() == []


@pytest.mark.parametrize("exc", [ClientDisconnected("client went away"), EOFError(), RuntimeError("read failed")])
def test_item16_a_wsgi_input_that_raises_is_a_400_not_an_exception(http_env: HttpEnv, exc: BaseException) -> None:
    """Item 16. Input: a chunked FC 2.0 request whose ``wsgi.input.read()`` raises something other than
    ``OSError``/``ValueError`` (werkzeug's ``ClientDisconnected``, ``EOFError``, ``RuntimeError``). Was:
    the exception escapes the handler. Expected: a 400 ``malformed-event`` like ``ConnectionResetError``."""
    environ = fc2_environ("POST", "/push", b"{}", bearer(), chunked=True)
    environ["wsgi.input"] = _RaisingInput(exc)
    status, answer = wsgi(environ)
    assert status.startswith("400"), answer


@pytest.mark.parametrize("length", ["\u0661\u0662", "1_0", "abc", "-5", "0x10"])
def test_item16_a_content_length_that_is_not_ascii_digits_is_refused_by_name(http_env: HttpEnv, length: str) -> None:
    """Item 16 (and the "ASCII digits only" rule of durations). Input: a valid ``/push`` body with
    ``CONTENT_LENGTH`` ``"١٢"`` (Arabic-Indic 12) or ``"1_0"`` — read as 12 / 10 bytes by ``int()``, so
    the body is cut and answered "not valid JSON" — or ``"abc"``, ``"-5"``, ``"0x10"`` — read as 0 and
    answered "the body is empty" although a body was sent. Expected: a 400 naming the content length
    (``malformed-event``), never a truncated read or a claim that nothing was sent."""
    raw = json.dumps(push_body()).encode()
    environ = fc2_environ("POST", "/push", raw, bearer())
    environ["CONTENT_LENGTH"] = length
    status, answer = wsgi(environ)
    assert status.startswith("400"), answer
    problem = json.loads(answer)
    assert "content-length" in json.dumps(problem).lower(), problem
    assert http_env.pushes() == []


# --- item 21: CLI error paths ------------------------------------------------------------------------------


def test_item21_a_config_file_that_is_not_utf8_is_bad_input_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], emulator: Any
) -> None:
    """Item 21. Input: ``PUSHFN_CONFIG_FILE`` pointing at a file that starts with bytes ``ff fe`` (a
    UTF-16 BOM: saved by Notepad), credentials expected from it, then ``pushfn push …``. Was:
    ``UnicodeDecodeError`` escapes ``main`` (a traceback). Expected: exit 2, one ``pushfn:`` line
    naming the file (like a file that is not valid INI)."""
    from pushfn.cli import main

    config = tmp_path / "config.ini"
    config.write_bytes("[push_config]\nPUSH_APP_KEY=23267207\n".encode("utf-16"))
    monkeypatch.setenv("PUSHFN_CONFIG_FILE", str(config))
    monkeypatch.setenv("PUSH_ENDPOINT", emulator.url)
    argv = ["push", "--target", "ALL", "--target-value", "ALL", "--device-type", "ANDROID",
            "--push-type", "NOTICE", "--title", "t", "--body", "b"]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("pushfn:") and str(config) in err, err


def test_item21_an_undecodable_alias_for_the_emulator_is_bad_input_not_a_network_failure(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 21 (and item 10: lone surrogates). Input: ``pushfn emulator devices add <id> --alias
    $'a\\xff'`` (argv bytes that are not UTF-8 arrive as ``"a\\udcff"``). Was: the emulator registers
    the device with that alias, then fails to encode its answer; the CLI says "network failure talking
    to 127.0.0.1:… is 'pushfn emulator' running there?" and exits 4. Expected: exit 2 naming the
    alias, and nothing registered."""
    from pushfn.cli import main

    monkeypatch.setenv("PUSH_ENDPOINT", emulator.url)
    code = main(["emulator", "devices", "add", DEVICE, "--alias", "a\udcff"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "alias" in err.lower(), err
    assert emulator.devices() == []
