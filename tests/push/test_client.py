"""PushClient against the emulator over real HTTP on loopback, plus retry rules on a mock transport."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from pushfn.push import (
    AmbiguousResponseError,
    AuthError,
    ConnectError,
    InvalidRequestError,
    MockTransport,
    PreparedRequest,
    PushClient,
    RawResponse,
    Retry,
    ServerError,
    ServiceError,
    StaticCredentials,
    ThrottledError,
    Timeout,
)
from pushfn.push.transport import StdlibTransport

DEVICE = "e2ba19de97604f55b165576736477b74"
OTHER = "92a1da34bdfd4c9692714917ce22d53d"
NOTICE = {
    "Target": "DEVICE",
    "TargetValue": f"{DEVICE},{OTHER}",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Order shipped",
    "Body": "Your parcel is on its way",
}


class CountingTransport:
    """The real (default) transport, counting what it sends (to see retries from the outside)."""

    def __init__(self) -> None:
        self.inner = StdlibTransport()
        self.sent: list[PreparedRequest] = []

    def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
        self.sent.append(request)
        return self.inner.send(request, timeout)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def counting(emulator: object, client_factory) -> Iterator[tuple[PushClient, CountingTransport]]:
    transport = CountingTransport()
    client = client_factory(None, transport=transport)
    yield client, transport
    client.close()


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_push_succeeds_and_is_recorded(emulator, version: str, client_factory) -> None:
    emulator.register_device(DEVICE)
    emulator.register_device(OTHER)
    with client_factory(None, signature_version=version) as client:
        result = client.push(NOTICE)
    pushes = emulator.pushes()
    assert len(pushes) == 1
    assert pushes[0]["message_id"] == result.message_id and result.request_id
    assert pushes[0]["params"]["Title"] == "Order shipped"
    assert sorted(pushes[0]["devices"]) == sorted([DEVICE, OTHER])


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_sts_credentials_are_accepted(version: str, client_factory) -> None:
    from pushfn.emulator import Emulator

    with Emulator(host="127.0.0.1", port=0, security_tokens={"STS.NTempKey": ("sts-secret", "sts-token")}) as emu:
        sts = StaticCredentials("STS.NTempKey", "sts-secret", "sts-token")
        with client_factory(emu, credentials=sts, signature_version=version) as client:
            assert client.push(NOTICE).message_id
        wrong = StaticCredentials("STS.NTempKey", "sts-secret", "other-token")
        with (
            client_factory(emu, credentials=wrong, signature_version=version) as client,
            pytest.raises(AuthError) as info,
        ):
            client.push(NOTICE)
        assert info.value.code.startswith("InvalidSecurityToken")
        assert len(emu.pushes()) == 1


def test_internal_error_then_success_is_retried(emulator, counting) -> None:
    client, transport = counting
    emulator.add_fault("internal_error", count=1)
    result = client.push(NOTICE)
    assert len(transport.sent) == 2
    assert [p["message_id"] for p in emulator.pushes()] == [result.message_id]


def test_throttling_is_retried_with_growing_backoff(emulator, client_factory) -> None:
    sleeps: list[float] = []
    retry = Retry(max_attempts=4, backoff=0.01, throttle_backoff=0.02, jitter=False, sleep=sleeps.append)
    emulator.add_fault("throttle", count=2)
    with client_factory(None, retry=retry) as client:
        result = client.push(NOTICE)
    assert sleeps == [0.02, 0.04]  # throttle base, doubled; no jitter for a deterministic check
    assert len(emulator.pushes()) == 1 and result.message_id


def test_throttling_exhausts_retries_with_a_typed_error(emulator, client_factory) -> None:
    emulator.add_fault("throttle", count=10)
    with client_factory(None) as client, pytest.raises(ThrottledError) as info:
        client.push(NOTICE)
    assert info.value.code == "Throttling.User" and info.value.http_status == 400 and info.value.retryable
    assert emulator.pushes() == []


def test_service_validation_error_is_not_retried(emulator, counting) -> None:
    client, transport = counting
    # Bypass our own validation to see the service's: a 201-byte title.
    query = {**NOTICE, "AppKey": str(emulator.settings.app_keys[0]), "Title": "x" * 201}
    with pytest.raises(ServiceError) as info:
        client._send("Push", query, {})
    assert len(transport.sent) == 1
    assert info.value.http_status == 400 and not info.value.retryable and "Title" in info.value.code
    assert emulator.pushes() == []


def test_unknown_app_key_is_refused_with_the_service_code(emulator, client_factory) -> None:
    with client_factory(None, app_key=99999999) as client, pytest.raises(ServiceError) as info:
        client.push(NOTICE)
    assert "AppKey" in info.value.code and info.value.request_id


@pytest.mark.parametrize("fault", ["latency", "drop"])
def test_lost_answer_is_retried_with_the_same_token_and_pushes_once(emulator, fault: str, counting) -> None:
    client, transport = counting
    client.timeout = Timeout(connect=2.0, read=0.5)
    emulator.add_fault(fault, count=1, latency_ms=1500)
    result = client.push(NOTICE)
    assert len(transport.sent) == 2
    tokens = {_query(p)["IdempotentToken"] for p in transport.sent}
    assert len(tokens) == 1  # the retry carried the same IdempotentToken
    pushes = emulator.pushes()
    assert len(pushes) == 1 and pushes[0]["message_id"] == result.message_id


def test_lost_answer_without_token_is_not_retried(emulator, client_factory) -> None:
    emulator.add_fault("drop", count=1)
    with client_factory(None, auto_idempotent_token=False) as client, pytest.raises(AmbiguousResponseError) as info:
        client.push(NOTICE)
    assert info.value.maybe_sent
    assert len(emulator.pushes()) == 1  # it did reach the service: a blind retry would have pushed twice


def test_explicit_token_dedupes_across_calls(push_client, emulator) -> None:
    token = "6f1c1d52-3d1c-4f7a-9a43-2b0b6c1f0e11"
    first = push_client.push(NOTICE, idempotent_token=token)
    second = push_client.push(NOTICE, idempotent_token=token)
    assert first.message_id == second.message_id and len(emulator.pushes()) == 1


def test_wrong_secret_is_a_clear_auth_error_without_leaks(emulator, caplog, client_factory) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        client_factory(None, credentials=StaticCredentials(emulator.settings.access_key_id, "wrong-secret")) as client,
        pytest.raises(AuthError) as info,
    ):
        client.push(NOTICE)
    assert info.value.code == "SignatureDoesNotMatch" and info.value.request_id
    text = str(info.value) + caplog.text
    assert "server string to sign" not in text and DEVICE not in text and "wrong-secret" not in text


def test_expired_timestamp_is_refused(emulator, client_factory) -> None:
    with client_factory(None, clock=lambda: time.time() - 20 * 60) as client, pytest.raises(AuthError) as info:
        client.push(NOTICE)
    assert info.value.code == "InvalidTimeStamp.Expired"


def test_unknown_access_key_is_refused(emulator, client_factory) -> None:
    with (
        client_factory(None, credentials=StaticCredentials("nobody", "x")) as client,
        pytest.raises(AuthError) as info,
    ):
        client.push(NOTICE)
    assert info.value.code == "InvalidAccessKeyId.NotFound"


def test_reused_nonce_is_refused_and_the_client_re_signs(emulator, push_client, client_factory) -> None:
    prepared = push_client.prepare("Push", NOTICE)
    transport = StdlibTransport()
    first = transport.send(prepared, Timeout())
    replay = transport.send(prepared, Timeout())
    assert first.status == 200
    assert replay.status == 400 and json.loads(replay.body)["Code"] == "SignatureNonceUsed"

    class ReplayOnce:
        """A proxy that replays an old request once: the service refuses the nonce, we re-sign."""

        def __init__(self) -> None:
            self.calls = 0

        def send(self, request: PreparedRequest, timeout: Timeout) -> RawResponse:
            self.calls += 1
            return transport.send(prepared if self.calls == 1 else request, timeout)

        def close(self) -> None:
            return None

    proxy = ReplayOnce()
    with client_factory(None, transport=proxy) as client:
        assert client.push(NOTICE).message_id
    assert proxy.calls == 2


def test_connection_refused_is_a_connect_error_never_sent() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    client = PushClient(
        endpoint=f"http://127.0.0.1:{port}",
        app_key=1,
        credentials=StaticCredentials("a", "b"),
        retry=Retry(max_attempts=2, backoff=0.001),
    )
    with pytest.raises(ConnectError) as info:
        client.push(NOTICE)
    assert not info.value.maybe_sent


def test_mass_push_and_device_association(push_client, emulator) -> None:
    emulator.register_device(DEVICE)
    push_client.call("BindAlias", {"DeviceId": DEVICE, "AliasName": "alice"})
    aliases = push_client.call("QueryAliases", {"DeviceId": DEVICE}).data
    assert [a["AliasName"] for a in aliases["AliasInfos"]["AliasInfo"]] == ["alice"]
    result = push_client.mass_push(
        {
            "PushTask": [
                {**NOTICE, "Target": "ALIAS", "TargetValue": "alice", "Title": "Hi Alice"},
                {**NOTICE, "Title": "Hi all"},
            ]
        }
    )
    assert len(result.message_ids) == 2
    recorded = emulator.pushes()
    assert recorded[0]["action"] == "MassPush" or len(recorded) == 2


def test_invalid_input_never_reaches_the_network() -> None:
    transport = MockTransport(lambda req: RawResponse(200, body=b'{"RequestId":"x","MessageId":"1"}'))
    client = PushClient(
        endpoint="http://127.0.0.1:1", app_key=1, credentials=StaticCredentials("a", "b"), transport=transport
    )
    with pytest.raises(InvalidRequestError) as info:
        client.push({**NOTICE, "Title": "x" * 201})
    assert info.value.problems[0].field == "Title"
    with pytest.raises(InvalidRequestError):
        client.push(NOTICE, idempotent_token="not-a-uuid")
    assert transport.requests == []


def _mock_client(responses: list[RawResponse], **kwargs: object) -> tuple[PushClient, MockTransport]:
    queue = list(responses)
    transport = MockTransport(lambda req: queue.pop(0))
    client = PushClient(
        endpoint="https://cloudpush.aliyuncs.com",
        app_key=23267207,
        credentials=StaticCredentials("a", "b"),
        transport=transport,
        retry=Retry(max_attempts=3, backoff=0, throttle_backoff=0),
        **kwargs,
    )  # type: ignore[arg-type]
    return client, transport


def _error(status: int, code: str) -> RawResponse:
    return RawResponse(status, body=json.dumps({"Code": code, "Message": "m", "RequestId": "r"}).encode())


OK = RawResponse(200, body=b'{"RequestId":"r1","MessageId":"42"}')


def test_server_error_without_token_is_not_blindly_retried() -> None:
    client, transport = _mock_client([_error(500, "InternalError"), OK], auto_idempotent_token=False)
    with pytest.raises(ServerError) as info:
        client.push(NOTICE)
    assert len(transport.requests) == 1 and info.value.maybe_sent


def test_server_error_with_token_is_retried() -> None:
    client, transport = _mock_client([_error(503, "ServiceUnavailable"), OK])
    assert client.push(NOTICE).message_id == "42" and len(transport.requests) == 2


def test_ambiguity_is_remembered_when_a_later_attempt_is_refused() -> None:
    client, _ = _mock_client([_error(500, "InternalError"), _error(400, "InvalidParameter")])
    with pytest.raises(ServiceError) as info:
        client.push(NOTICE)
    assert info.value.code == "InvalidParameter" and info.value.maybe_sent


def test_retry_after_header_is_honoured() -> None:
    sleeps: list[float] = []
    throttled = RawResponse(
        400,
        {"x-acs-retry-after": "300"},
        json.dumps({"Code": "Throttling.User", "Message": "m", "RequestId": "r"}).encode(),
    )
    client, _ = _mock_client([throttled, OK])
    client.retry = Retry(max_attempts=3, backoff=0, throttle_backoff=0, sleep=sleeps.append)
    client.push(NOTICE)
    assert sleeps == [0.3]


def test_non_json_success_is_a_typed_error() -> None:
    client, _ = _mock_client([RawResponse(200, body=b"<html>proxy</html>")], auto_idempotent_token=False)
    with pytest.raises(ServiceError) as info:
        client.push(NOTICE)
    assert info.value.code == "InvalidResponse"


def test_v2_wire_format_matches_the_sdk_shape() -> None:
    client, transport = _mock_client([OK])
    client.push(NOTICE)
    query = _query(transport.requests[0])
    for name, value in {
        "Action": "Push",
        "Version": "2016-08-01",
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "RegionId": "cn-hangzhou",
        "AppKey": "23267207",
    }.items():
        assert query[name] == value
    assert "Signature" in query and transport.requests[0].method == "POST"


def _query(prepared: PreparedRequest) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(prepared.url).query, keep_blank_values=True))


# --- issue 13 item 13: x-acs-retry-after means throttling, whatever the Code (as the official SDK) ---------


def _refusal(status: int, code: str, retry_after: str | None, header: str = "x-acs-retry-after") -> RawResponse:
    headers = {} if retry_after is None else {header: retry_after}
    return RawResponse(status, headers, json.dumps({"Code": code, "Message": "m", "RequestId": "r"}).encode())


def _sleeping_client(responses: list[RawResponse], **kwargs: object) -> tuple[PushClient, MockTransport, list[float]]:
    sleeps: list[float] = []
    client, transport = _mock_client(responses, **kwargs)
    client.retry = Retry(max_attempts=3, backoff=0, throttle_backoff=0, sleep=sleeps.append)
    return client, transport, sleeps


@pytest.mark.parametrize(
    ("code", "status", "header", "millis"),
    [
        ("Flow.Limited", 400, "x-acs-retry-after", "200"),  # the input
        ("Flow.Limited", 429, "X-Acs-Retry-After", "1"),
        ("InvalidParameter", 400, "x-acs-retry-after", "1500"),
        ("Forbidden.RAM", 403, "x-acs-retry-after", "250"),
        ("QuotaExceeded", 400, "x-acs-retry-after", "9999"),
        ("Throttling.User", 400, "x-acs-retry-after", "10000"),  # exactly the cap: still waited
        ("ServiceUnavailable", 503, "x-acs-retry-after", "300"),
    ],
)
def test_positive_retry_after_is_throttling_whatever_the_code_and_waits_that_long(
    code: str, status: int, header: str, millis: str
) -> None:
    client, transport, sleeps = _sleeping_client([_refusal(status, code, millis, header), OK])
    assert client.push(NOTICE).message_id == "42"
    assert sleeps == [int(millis) / 1000] and len(transport.requests) == 2
    tokens = {parse_qs(urlsplit(r.url).query)["IdempotentToken"][0] for r in transport.requests}
    assert len(tokens) == 1  # the retry carries the same token


@pytest.mark.parametrize(
    ("code", "millis", "retried"),
    [
        ("Flow.Limited", 200, True),
        ("InvalidParameter", 1500, True),
        ("Flow.Limited", 0, False),
        ("Flow.Limited", None, False),
    ],
)
def test_retry_after_over_http_against_the_emulator(
    emulator, client_factory, code: str, millis: int | None, retried: bool
) -> None:
    """The issue's input on the wire: the emulator answers ``Flow.Limited`` (HTTP 400) with
    ``x-acs-retry-after: 200``; the client waits exactly 0.2 s (recorded, not slept) and the one retry,
    with the same IdempotentToken, pushes once. Zero or no header: an ordinary refusal, not retried."""
    sleeps: list[float] = []
    client = client_factory(retry=Retry(max_attempts=3, backoff=0, throttle_backoff=0, sleep=sleeps.append))
    emulator.add_fault("throttle", code=code, retry_after_ms=millis, actions=["Push"])
    if retried:
        result = client.push(NOTICE)
        assert sleeps == [millis / 1000] and [p["message_id"] for p in emulator.pushes()] == [result.message_id]
        calls = [c for c in emulator.calls() if c["action"] == "Push"]
        assert sorted(c["status"] for c in calls) == ["sent", "throttled"]
        assert len({c["params"].get("IdempotentToken") for c in calls}) == 1
        return
    with pytest.raises(ServiceError) as info:
        client.push(NOTICE)
    assert not isinstance(info.value, ThrottledError) and info.value.code == code
    assert sleeps == [] and emulator.pushes() == []


@pytest.mark.parametrize("millis", ["0", "-200", "", "abc", "1.5", "2e3", None])
def test_no_positive_integer_retry_after_means_no_throttling(millis: str | None) -> None:
    """The SDK reads ``int(header)`` and ignores anything not a positive integer."""
    client, transport, sleeps = _sleeping_client([_refusal(400, "Flow.Limited", millis), OK])
    with pytest.raises(ServiceError) as info:
        client.push(NOTICE)
    assert not isinstance(info.value, ThrottledError) and info.value.retry_after is None
    assert len(transport.requests) == 1 and sleeps == []


def test_retry_after_respects_max_attempts() -> None:
    client, transport, sleeps = _sleeping_client([_refusal(400, "Flow.Limited", "200")] * 5)
    with pytest.raises(ThrottledError) as info:
        client.push(NOTICE)
    assert len(transport.requests) == 3 and sleeps == [0.2, 0.2]
    assert info.value.code == "Flow.Limited" and info.value.retry_after == 0.2 and info.value.retryable


@pytest.mark.parametrize("millis", ["10001", "120000", "86400000", "99999999999999999999"])
def test_a_retry_after_beyond_the_cap_is_raised_at_once_not_slept_through(millis: str) -> None:
    client, transport, sleeps = _sleeping_client([_refusal(400, "Flow.Limited", millis), OK])
    with pytest.raises(ThrottledError) as info:
        client.push(NOTICE)
    assert len(transport.requests) == 1 and sleeps == []
    assert info.value.retry_after == int(millis) / 1000  # for the caller's own Retry-After


def test_retry_after_cap_follows_max_backoff() -> None:
    client, transport, sleeps = _sleeping_client([_refusal(400, "Flow.Limited", "30000"), OK])
    client.retry = Retry(max_attempts=3, max_backoff=60, sleep=sleeps.append)
    client.push(NOTICE)
    assert sleeps == [30.0] and len(transport.requests) == 2


def test_a_5xx_with_retry_after_keeps_maybe_sent_so_a_tokenless_push_is_not_retried() -> None:
    client, transport, sleeps = _sleeping_client(
        [_refusal(503, "ServiceUnavailable", "200"), OK], auto_idempotent_token=False
    )
    with pytest.raises(ThrottledError) as info:
        client.push(NOTICE)
    assert info.value.maybe_sent and len(transport.requests) == 1 and sleeps == []


def test_retry_after_on_a_non_json_refusal_is_throttling() -> None:
    page = RawResponse(429, {"x-acs-retry-after": "100"}, b"<html>slow down</html>")
    client, _, sleeps = _sleeping_client([page, OK])
    assert client.push(NOTICE).message_id == "42" and sleeps == [0.1]


def test_a_naturally_idempotent_action_is_retried_after_retry_after_too() -> None:
    answer = RawResponse(200, body=b'{"RequestId":"r2"}')
    client, transport, sleeps = _sleeping_client([_refusal(400, "Flow.Limited", "50"), answer])
    assert client.call("QueryTags", {"ClientKey": "e2ba19de97604f55b165576736477b74", "KeyType": "DEVICE"})
    assert sleeps == [0.05] and len(transport.requests) == 2


# --- validate once ------------------------------------------------------------------------------------


def test_a_valid_request_is_sent_as_it_was_accepted(emulator, counting) -> None:
    from pushfn.push.models import check_request

    client, transport = counting
    valid = check_request("Push", NOTICE, app_key=client.app_key)
    result = client.push(valid)
    (sent,) = transport.sent
    params = {k: v[0] for k, v in parse_qs(urlsplit(sent.url).query).items()}
    assert {k: params[k] for k in valid.query} == valid.query
    assert [p["message_id"] for p in emulator.pushes()] == [result.message_id]


def test_a_valid_request_whose_push_time_passed_is_refused_before_sending(emulator, counting) -> None:
    from datetime import datetime, timedelta, timezone

    from pushfn.push.models import check_request, parse_request

    client, transport = counting
    then = datetime.now(timezone.utc) - timedelta(minutes=10)
    params = {**NOTICE, "PushTime": then + timedelta(minutes=2)}
    valid = check_request("Push", params, app_key=client.app_key, now=then)  # valid when it was planned
    with pytest.raises(InvalidRequestError) as raised:
        client.push(valid)
    with pytest.raises(InvalidRequestError) as revalidated:
        parse_request("Push", params, app_key=client.app_key)
    assert raised.value.problems == revalidated.value.problems
    assert [p.field for p in raised.value.problems] == ["PushTime"]
    assert transport.sent == [] and emulator.pushes() == []


# --- random nonces and tokens --------------------------------------------------------------------


def _nonce_and_token(client: PushClient) -> tuple[str, str]:
    query = parse_qs(urlsplit(client.prepare("Push", NOTICE).url).query)
    return query["SignatureNonce"][0], query["IdempotentToken"][0]


def test_threads_drawing_nonces_and_tokens_at_once_never_get_the_same_one() -> None:
    import threading

    client = PushClient(endpoint="http://127.0.0.1:9", app_key=1, credentials=StaticCredentials("a", "b"))
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(i: int) -> None:
        for _ in range(600):  # 8 x 600 x 2 pieces: the 4 KB block is refilled dozens of times under contention
            drawn[i].extend(_nonce_and_token(client))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = [v for thread_values in drawn for v in thread_values]
    assert len(values) == 8 * 600 * 2
    # Unique in their 16 random bytes (the version and variant bits of a token are fixed).
    assert len({v.replace("-", "") for v in values}) == len(values)
    tokens = values[1::2]
    assert all(t[14] == "4" and t[19] in "89ab" for t in tokens)  # RFC 4122 version 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_forked_child_draws_other_nonces_and_tokens_than_its_parent() -> None:
    client = PushClient(endpoint="http://127.0.0.1:9", app_key=1, credentials=StaticCredentials("a", "b"))
    _nonce_and_token(client)  # the parent holds a block of random bytes now
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next nonce and token, and leave without pytest's cleanup
        try:
            os.write(write_end, ",".join(_nonce_and_token(client)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 1000).decode().split(",")
    os.close(read_end)
    os.waitpid(pid, 0)
    parent = list(_nonce_and_token(client))
    assert len(child) == 2 and child[0] != parent[0] and child[1] != parent[1]


@pytest.mark.parametrize("given", ["", None])
def test_an_empty_or_absent_token_gets_a_generated_one(given: str | None) -> None:
    client = PushClient(endpoint="http://127.0.0.1:9", app_key=1, credentials=StaticCredentials("a", "b"))
    token = parse_qs(urlsplit(client.prepare("Push", NOTICE, idempotent_token=given).url).query)["IdempotentToken"][0]
    assert len(token) == 36 and token[14] == "4"
