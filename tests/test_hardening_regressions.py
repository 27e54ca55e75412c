"""Hardening regressions: new inputs of the hardening issue's kinds, found by attacking the fixes
(a second round) and the restructured code (a third round).

Each test failed before its fix; the item number, the input, what happened and what is expected
are in its docstring. Everything is real: the deployed handlers, the emulator over loopback,
SQLite stores, the file dead-letter destination, the ``pushfn`` CLI's ``main``.
"""

from __future__ import annotations

import hashlib
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
    webhook_headers,
)

from pushfn.http import reset_default_app  # noqa: E402
from pushfn.idempotency.stores.sqlite import SqliteStore  # noqa: E402
from pushfn.jobs.dead_letter import DEAD_LETTER_ENV  # noqa: E402
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


def _queue_push(title: str) -> dict[str, Any]:
    return {"Target": "ACCOUNT", "TargetValue": "user-1", "DeviceType": "ALL", "PushType": "NOTICE",
            "Title": title, "Body": "B"}  # fmt: skip


def _titles(emulator: Any) -> list[str]:
    return [p["params"].get("Title") for p in emulator.pushes() if p.get("action") in ("Push", "MassPush")]


# --- item 2: weak API keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("weak_key", ["abc", "x" * 23, "short-key"])
def test_item2_a_short_api_key_never_authenticates_even_when_its_hash_is_configured(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, weak_key: str
) -> None:
    """Item 2 ("the same rule for API keys"). Input: ``PUSHFN_API_KEYS=tenant-z:<sha256("abc")>`` (the
    hash computed with ``sha256sum``, not ``hash_api_key``) and ``Authorization: Bearer abc``.
    Was: 202 and a push. Expected: a key under 24 bytes never authenticates (401), like a
    weak webhook secret; the length can only be checked on the presented key."""
    digest = hashlib.sha256(weak_key.encode()).hexdigest()
    configure(monkeypatch, tmp_path, {"PUSHFN_API_KEYS": f"tenant-z:{digest}"})
    answer = send("fc3-bytes", push_body(Title=f"weak {len(weak_key)}"), bearer(weak_key))
    assert answer.status in (401, 500), answer.body
    assert http_env.pushes() == []


# --- item 1: a signed request's key and scope cannot be reached by an unsigned caller ----------------------


def test_item1_an_api_key_tenant_named_webhook_does_not_share_the_signed_webhooks_scope(
    http_env: HttpEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Item 1 (another way to reach a signed webhook's dedupe key without the signature). Input:
    ``PUSHFN_API_KEYS=webhook:<hash>`` (``webhook`` is a valid tenant name) and a bearer request with
    ``Idempotency-Key: msg_shared`` before a signed webhook with ``webhook-id: msg_shared`` and another
    body. Was: both land in one scope ("webhook"): the signed webhook is refused 422 and never
    pushed (and the same body would be answered from the bearer caller's record). Expected: tenants
    cannot collide with the internal scopes (``webhook``, ``anonymous``, ``public``), so the signed
    webhook pushes."""
    from pushfn.http import hash_api_key

    key = "pk_live_tenant_webhook_0123456789"
    configure(monkeypatch, tmp_path, {"PUSHFN_API_KEYS": f"webhook:{hash_api_key(key)}"})
    first = send("fc3-bytes", push_body(Title="from bearer"), {**bearer(key), "Idempotency-Key": "msg_shared"})
    assert first.status == 202, first.body
    body = encode(push_body(Title="from signed webhook"))
    signed = send("fc3-bytes", body, webhook_headers(body, msg_id="msg_shared"))
    assert signed.status == 202, signed.body
    assert sorted(p["params"]["Title"] for p in http_env.pushes()) == ["from bearer", "from signed webhook"]


# --- item 9: wrong types accepted and sent ------------------------------------------------------------------


@pytest.mark.parametrize("empty", [[], ()])
def test_item9_an_empty_send_channels_list_is_refused_not_sent_as_an_empty_parameter(
    emulator: Any, push_client: Any, empty: Any
) -> None:
    """Item 9. Input: ``client.push({..., "SendChannels": []})``. Was: accepted and sent as
    ``SendChannels=`` (an empty string on the wire). Over HTTP the same JSON is a 400 ("item 1 is
    empty"). Expected: InvalidRequestError naming SendChannels; nothing sent."""
    from pushfn.push.errors import InvalidRequestError

    emulator.register_device(DEVICE)
    with pytest.raises(InvalidRequestError) as exc:
        push_client.push(push_body(SendChannels=empty))
    assert "SendChannels" in {p.field for p in exc.value.problems}
    assert emulator.pushes() == []


# --- item 14: SQS ids of odd kinds --------------------------------------------------------------------------


@pytest.mark.parametrize("message_id", ["   ", "\u2028", "m\n1", "m\x01", "m\u0085"])
def test_item14_a_valid_message_with_an_unprintable_sqs_message_id_is_still_pushed(
    emulator: Any, queue_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message_id: str
) -> None:
    """Item 14. Input: an SQS record with a valid push body and ``messageId`` ``"   "`` (or U+2028,
    ``"m\\n1"``, ``"m\\x01"``, ``"m\\x85"``). Was: dead-lettered as ``invalid_key`` ("idempotency
    key is empty" / "contains non-printable characters"), never pushed — while ``messageId: ""`` is
    documented as unusable and processed by content. Expected: an id that cannot be a key is treated
    like a missing one (keyed by content or digest) and the good message is pushed."""
    from functions.queue_push.index import handler

    monkeypatch.setenv(DEAD_LETTER_ENV, str(tmp_path / "dead"))
    reply = handler(sqs_event([SqsRecord(json.dumps(_queue_push("odd id")), message_id=message_id)]), None)
    assert reply == {"batchItemFailures": []}
    assert _titles(emulator) == ["odd id"]


# --- item 17: dead-letter destinations ----------------------------------------------------------------------


def test_item17_a_nul_in_the_dead_letter_url_is_not_an_uncaught_exception(
    emulator: Any, queue_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 17 (dead-letter names with NUL). Input: ``PUSHFN_DEAD_LETTER_URL=file:///tmp/dl%00x`` and a
    message that is not JSON. Was: ``ValueError: embedded null byte`` escapes the handler (a
    traceback; on SQS the whole batch is retried). Expected: a configuration error reported once
    and the message handed back (transient, listed in ``batchItemFailures``), no exception."""
    from functions.queue_push.index import handler

    monkeypatch.setenv(DEAD_LETTER_ENV, f"file://{tmp_path}/dl%00x")
    reply = handler(sqs_event([SqsRecord("not json", message_id="m-nul")]), None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m-nul"}]}


def test_item17_a_single_slash_file_url_is_the_absolute_directory_not_a_relative_one(
    emulator: Any, queue_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 17/19 (file: URIs). Input: ``PUSHFN_DEAD_LETTER_URL=file:/<abs dir>`` (RFC 8089's short
    form of a file URL). Was: taken as a plain relative path: letters land in
    ``./file:/<abs dir>`` under the current directory (the operator's directory stays empty).
    Expected: the absolute directory ``/<abs dir>``, or a configuration error."""
    from functions.queue_push.index import handler

    target = tmp_path / "letters"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DEAD_LETTER_ENV, f"file:{target}")
    reply = handler(sqs_event([SqsRecord("not json", message_id="m-file")]), None)
    assert reply == {"batchItemFailures": []}
    assert len(list(target.glob("*.json"))) == 1
    assert not (tmp_path / "file:").exists()


# --- item 22: pushfn store ----------------------------------------------------------------------------------


def test_item22_store_show_on_a_store_that_does_not_exist_is_not_no_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 22. Input: ``pushfn store --url sqlite:///<tmp>/no-such-dir/x.db show k1``. Was: exit
    1 "no record for key …" — as if the store had been searched. Expected: the store cannot be
    opened (its folder does not exist): exit 3 or 4 (store failed / unreachable) or 2, never 1."""
    from pushfn.cli import main

    url = f"sqlite:///{tmp_path}/no-such-dir/x.db"
    code = main(["store", "--url", url, "show", "k1"])
    err = capsys.readouterr().err
    assert code != 1, err
    assert not (tmp_path / "no-such-dir").exists()


@pytest.mark.parametrize("argv", [["list", "--url"], ["show", "k1", "--url"], ["init", "--url"]])
def test_item22_every_store_subcommand_takes_url_as_the_readme_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Item 22. Input: ``pushfn store list --url sqlite:///<tmp>/s.db`` (README: "All take ``--url
    URL``", listed after each subcommand's own options). Was: exit 2 "unrecognized arguments:
    --url …"; ``pushfn store list --help`` does not mention ``--url``. Expected: the option works
    after the subcommand too (and its --help describes it)."""
    from pushfn.cli import main

    url = f"sqlite:///{tmp_path}/s.db"
    assert main(["store", "--url", url, "init"]) == 0
    capsys.readouterr()
    try:
        code = main(["store", *argv, url])
    except SystemExit as exc:  # argparse refused the option
        code = exc.code
    err = capsys.readouterr().err
    assert "unrecognized arguments" not in err
    assert code in (0, 1), err


# --- third round: the restructured code ---------------------------------------------------------


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
