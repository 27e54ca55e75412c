"""Authentication: V2 and V3 signatures, timestamps, nonces, STS tokens — each failure's exact code."""

from __future__ import annotations

import pytest
from emulator_support import STS_KEY, STS_KEY_2, error_code, notice

from pushfn.api_time import format_api_time
from pushfn.push import signing


def test_v2_post_get_and_v3_are_accepted(api, emu) -> None:
    assert api.v2("Push", notice()).status_code == 200
    assert api.v2("Push", notice(), method="GET").status_code == 200
    assert api.v3("Push", notice()).status_code == 200
    assert [p["signature_version"] for p in emu.pushes()] == ["v2", "v2", "v3"]


def test_v2_signs_query_and_form_body_together(api, emu) -> None:
    response = api.v2("Push", {k: v for k, v in notice().items() if k != "Body"}, form={"Body": "from the body"})
    assert response.status_code == 200
    assert emu.pushes()[0]["body"] == "from the body"


def test_form_body_plus_is_a_space_and_special_characters_survive(api, emu) -> None:
    body = "a+b c*d~e%f&g=h 中文 😀"
    assert api.v2("Push", notice(Body=body)).status_code == 200
    assert api.v3("Push", notice(Body=body)).status_code == 200
    assert api.v2("Push", notice(Body=None), form={"Body": body}).status_code == 200
    assert {p["body"] for p in emu.pushes()} == {body}


def test_wrong_secret_answers_signature_does_not_match_with_the_server_string_to_sign(api) -> None:
    response = api.v2("Push", notice(), secret="wrong")
    assert error_code(response) == (400, "SignatureDoesNotMatch")
    message = response.json()["Message"]
    assert "server string to sign is:POST&%2F&AccessKeyId%3Dtestid" in message
    # the old SDK splits on ":" and compares with its own string to sign: no space after the colon
    assert message.split(":")[1].startswith("POST&%2F&")


def test_v2_signature_over_other_params_or_method_fails(api) -> None:
    wrong_params = api.v2("Push", notice(), sign_with={"Action": "Push"})
    assert error_code(wrong_params) == (400, "SignatureDoesNotMatch")


def test_v3_wrong_secret(api) -> None:
    response = api.v3("Push", notice(), secret="wrong")
    assert error_code(response) == (400, "SignatureDoesNotMatch")
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in response.json()["Message"]


def test_v3_body_hash_must_match_body(api) -> None:
    form = {"Body": "hello"}
    tampered = api.v3("Push", notice(Body=None), form=form, send_body=b"Body=tampered")
    assert error_code(tampered) == (400, "SignatureDoesNotMatch")
    lying = api.v3("Push", notice(), claimed_hash=signing.sha256_hex(b"something else"))
    assert error_code(lying) == (400, "SignatureDoesNotMatch")


def test_v3_verifies_exactly_the_declared_signed_headers(api, emu) -> None:
    minimal = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
    assert api.v3("Push", notice(), signed_headers=minimal).status_code == 200
    unsigned_date = [h for h in minimal if h != "x-acs-date"]
    assert error_code(api.v3("Push", notice(), signed_headers=unsigned_date)) == (400, "IncompleteSignature")


def test_v3_missing_header_or_malformed_authorization(api) -> None:
    assert error_code(api.v3("Push", notice(), drop_headers=("x-acs-signature-nonce",))) == (400, "IncompleteSignature")
    response = api.session.post(
        api.emu.url + "/",
        params={"AppKey": "1"},
        headers={"Authorization": "ACS3-HMAC-SHA256 nonsense", "x-acs-action": "Push", "x-acs-version": "2016-08-01"},
    )
    assert error_code(response) == (400, "IncompleteSignature")


def test_unknown_access_key(api) -> None:
    assert error_code(api.v2("Push", notice(), key_id="nobody")) == (400, "InvalidAccessKeyId.NotFound")
    assert error_code(api.v3("Push", notice(), key_id="nobody")) == (400, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("skew", [-15 * 60 - 1, 15 * 60 + 1])
def test_timestamp_outside_15_minutes_is_expired(api, clock, skew) -> None:
    stamp = format_api_time(clock.now + skew)
    assert error_code(api.v2("Push", notice(), timestamp=stamp)) == (400, "InvalidTimeStamp.Expired")
    assert error_code(api.v3("Push", notice(), date=stamp)) == (400, "InvalidTimeStamp.Expired")


def test_timestamp_at_the_edge_of_the_window_is_accepted(api, clock) -> None:
    assert api.v2("Push", notice(), timestamp=format_api_time(clock.now - 15 * 60)).status_code == 200


@pytest.mark.parametrize(
    "stamp", ["2023-11-14 22:13:20", "2023-11-14T22:13:20", "yesterday", "2023-11-14T22:13:20.123Z"]
)
def test_malformed_timestamp(api, stamp) -> None:
    assert error_code(api.v2("Push", notice(), timestamp=stamp)) == (400, "InvalidTimeStamp.Format")
    assert error_code(api.v3("Push", notice(), date=stamp)) == (400, "InvalidTimeStamp.Format")


def test_reused_nonce_is_refused_within_15_minutes_per_access_key(api, clock) -> None:
    assert api.v2("Push", notice(), nonce="n-1").status_code == 200
    assert error_code(api.v2("Push", notice(), nonce="n-1")) == (400, "SignatureNonceUsed")
    assert error_code(api.v3("Push", notice(), nonce="n-1")) == (400, "SignatureNonceUsed")
    # another key may use the same nonce
    key, secret, token = STS_KEY
    assert api.v2("Push", notice(), nonce="n-1", key_id=key, secret=secret, token=token).status_code == 200
    # after the window the nonce is forgotten
    clock.advance(15 * 60 + 1)
    assert api.v2("Push", notice(), nonce="n-1").status_code == 200


def test_a_badly_signed_request_does_not_burn_the_nonce(api) -> None:
    assert error_code(api.v2("Push", notice(), nonce="n-2", secret="bad")) == (400, "SignatureDoesNotMatch")
    assert api.v2("Push", notice(), nonce="n-2").status_code == 200


@pytest.mark.parametrize(
    "param", ["AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp"]
)
def test_missing_v2_common_parameter(api, param) -> None:
    response = api.v2("Push", notice(), omit=(param,))
    assert error_code(response) == (400, f"Missing{param}")


def test_wrong_signature_method_or_version(api) -> None:
    assert (
        error_code(api.v2("Push", notice(), common={"SignatureMethod": "HMAC-SHA256"}))[1] == "InvalidSignatureMethod"
    )
    assert error_code(api.v2("Push", notice(), common={"SignatureVersion": "2.0"}))[1] == "InvalidSignatureVersion"


def test_sts_token_rules_v2_and_v3(api, emu) -> None:
    key, secret, token = STS_KEY
    assert api.v2("Push", notice(), key_id=key, secret=secret, token=token).status_code == 200
    assert api.v3("Push", notice(), key_id=key, secret=secret, token=token).status_code == 200
    assert error_code(api.v2("Push", notice(), key_id=key, secret=secret)) == (400, "MissingSecurityToken")
    assert error_code(api.v3("Push", notice(), key_id=key, secret=secret)) == (400, "MissingSecurityToken")
    other_token = STS_KEY_2[2]
    mismatch = api.v2("Push", notice(), key_id=key, secret=secret, token=other_token)
    assert error_code(mismatch) == (400, "InvalidSecurityToken.MismatchWithAccessKey")
    garbage = api.v3("Push", notice(), key_id=key, secret=secret, token="garbage")
    assert error_code(garbage) == (400, "InvalidSecurityToken.Malformed")
    assert error_code(api.v2("Push", notice(), token="garbage")) == (400, "InvalidSecurityToken.Malformed")
    assert len(emu.pushes()) == 2


def test_unknown_action_is_404_and_case_sensitive(api) -> None:
    assert error_code(api.v2("push", notice())) == (404, "InvalidApi.NotFound")
    assert error_code(api.v3("PushNoSuchThing", notice())) == (404, "InvalidApi.NotFound")


def test_wrong_or_missing_version(api) -> None:
    assert error_code(api.v2("Push", notice(), common={"Version": "2014-05-26"})) == (400, "InvalidVersion")
    assert error_code(api.v2("Push", notice(), common={"Version": ""})) == (400, "MissingVersion")


def test_error_body_shape(api) -> None:
    response = api.v2("Push", notice(), secret="wrong")
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == api.emu.endpoint
    assert body["RequestId"] in body["Recommend"] and "SignatureDoesNotMatch" in body["Recommend"]
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert response.headers["Content-Type"].startswith("application/json")


def _exchange(port: int, raw: bytes) -> tuple[int, dict]:
    import json
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


V3_AUTH = (
    "ACS3-HMAC-SHA256 Credential={key},SignedHeaders=host;x-acs-action;x-acs-version;x-acs-date;"
    "x-acs-signature-nonce;x-acs-content-sha256{extra},Signature=00"
)


@pytest.mark.parametrize(
    ("header", "value", "key"),
    [
        ("x-acs-content-sha256", b"\xff\xfe", "testid"),  # compared (hmac) before the signature
        ("x-acs-signature-nonce", b"n\xff", "testid"),  # signed, so encoded for the canonical request
        ("x-acs-security-token", b"\xe9t\xe9", "stsid"),  # compared with the STS key's token
        ("Host", b"127.0.0.1\xff", "testid"),  # quoted as HostId in every error answer
    ],
)
def test_a_header_value_that_is_not_utf8_is_a_refused_call_not_a_500(emu, clock, header, value, key) -> None:
    # aiohttp hands such bytes over as lone surrogates: hmac/encode raised UnicodeEncodeError, answered
    # 500 'internal emulator error' and kept out of the inbox's calls.
    headers = {
        "Host": b"127.0.0.1",
        "x-acs-action": b"Push",
        "x-acs-version": b"2016-08-01",
        "x-acs-date": format_api_time(clock.now).encode(),
        "x-acs-signature-nonce": b"n1",
        "x-acs-content-sha256": signing.sha256_hex(b"").encode(),
        header: value,
    }
    extra = ";x-acs-security-token" if header == "x-acs-security-token" else ""
    headers["Authorization"] = V3_AUTH.format(key=key, extra=extra).encode()
    head = b"".join(name.encode() + b": " + data + b"\r\n" for name, data in headers.items())
    raw = b"POST /?AppKey=23267207 HTTP/1.1\r\n" + head + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    status, body = _exchange(emu.port, raw)
    assert (status, body["Code"]) == (400, "InvalidParameter.Encoding")
    assert header.lower() in body["Message"]
    assert body["HostId"] == ("cloudpush.aliyuncs.com" if header == "Host" else "127.0.0.1")
    assert [(c["status"], c["code"]) for c in emu.calls()] == [("refused", "InvalidParameter.Encoding")]
    assert emu.pushes() == []


def test_an_unknown_path_with_a_host_that_is_not_utf8_is_a_404_answer(emu) -> None:
    raw = b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\xff\r\nConnection: close\r\n\r\n"
    status, body = _exchange(emu.port, raw)
    assert (status, body["Code"], body["HostId"]) == (404, "InvalidApi.NotFound", "cloudpush.aliyuncs.com")


def test_a_token_is_compared_with_every_sts_token_in_constant_time(api, monkeypatch) -> None:
    # The lookup of which key a wrong token belongs to used ==, which stops at the first differing
    # character: how long the refusal took told an attacker how much of another key's token matched.
    from pushfn.emulator import auth

    compared: list[tuple[str, str]] = []
    real = auth.signing.signatures_equal

    def recording(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.signing, "signatures_equal", recording)
    key, secret, _ = STS_KEY
    answer = api.v2("Push", notice(), key_id=key, secret=secret, token="sts-token-2x")
    assert error_code(answer) == (400, "InvalidSecurityToken.Malformed")
    assert ("sts-token-2x", STS_KEY_2[2]) in compared  # the other key's token, through the constant-time compare
