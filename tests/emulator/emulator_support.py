"""Helpers of the emulator tests: a fake clock, a caller that signs requests with
:mod:`pushfn.push.signing` directly (no PushClient, V2 or V3), and request builders."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from pushfn.api_time import format_api_time
from pushfn.emulator import Emulator
from pushfn.push import signing

APP_KEY = 23267207
OTHER_APP_KEY = 333
STS_KEY = ("stsid", "stssecret", "sts-token-1")
STS_KEY_2 = ("stsid2", "stssecret2", "sts-token-2")


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Caller:
    """Sends signed API requests to the emulator the way the SDKs do (params in the query)."""

    def __init__(self, emu: Emulator, clock: FakeClock) -> None:
        self.emu = emu
        self.clock = clock
        self.session = requests.Session()

    def _clean(self, params: Mapping[str, Any] | None) -> dict[str, str]:
        return {k: str(v) for k, v in (params or {}).items() if v is not None}

    def v2(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        form: Mapping[str, Any] | None = None,
        method: str = "POST",
        app_key: int | None = APP_KEY,
        key_id: str = "testid",
        secret: str = "testsecret",
        token: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        common: Mapping[str, Any] | None = None,
        sign_with: Mapping[str, str] | None = None,
        omit: tuple[str, ...] = (),
        timeout: float = 10,
    ) -> requests.Response:
        query = {
            "Action": action,
            "Version": "2016-08-01",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "AccessKeyId": key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureType": "",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": timestamp or format_api_time(self.clock.now),
            "SecurityToken": token,
            "AppKey": app_key,
            **(common or {}),
            **(params or {}),
        }
        query = self._clean(query)
        body = self._clean(form)
        signed = dict(sign_with) if sign_with is not None else {**query, **body}
        query["Signature"] = signing.sign_rpc_v2(method, signed, secret)
        for name in omit:  # taken out after signing, as a client that forgets a parameter would
            query.pop(name, None)
        return self.session.request(method, self.emu.url + "/", params=query, data=body or None, timeout=timeout)

    def v3(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        form: Mapping[str, Any] | None = None,
        app_key: int | None = APP_KEY,
        key_id: str = "testid",
        secret: str = "testsecret",
        token: str | None = None,
        date: str | None = None,
        nonce: str | None = None,
        signed_headers: list[str] | None = None,
        claimed_hash: str | None = None,
        send_body: bytes | None = None,
        drop_headers: tuple[str, ...] = (),
    ) -> requests.Response:
        query = self._clean({"AppKey": app_key, **(params or {})})
        body = urlencode(self._clean(form)).encode() if form else b""
        headers = {
            "host": self.emu.endpoint,
            "x-acs-action": action,
            "x-acs-version": "2016-08-01",
            "x-acs-date": date or format_api_time(self.clock.now),
            "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
            "x-acs-content-sha256": claimed_hash or signing.sha256_hex(body),
        }
        if form:
            headers["content-type"] = "application/x-www-form-urlencoded"
        if token:
            headers["x-acs-security-token"] = token
        names = signed_headers if signed_headers is not None else list(headers)
        canonical, signed = signing.canonical_request_v3(
            "POST", query, headers, headers["x-acs-content-sha256"], signed_header_names=names
        )
        headers["Authorization"] = signing.v3_authorization(key_id, signed, signing.sign_v3(secret, canonical))
        for name in drop_headers:
            headers.pop(name, None)
        data = send_body if send_body is not None else body
        return self.session.post(self.emu.url + "/", params=query, data=data, headers=headers, timeout=10)

    def control(self, method: str, route: str, payload: Any = None) -> requests.Response:
        # A state-changing control call must say Content-Type: application/json, so send "{}" when empty.
        if payload is None and method != "GET":
            payload = {}
        return self.session.request(method, f"{self.emu.url}/_emulator/{route}", json=payload, timeout=10)


def notice(**overrides: Any) -> dict[str, Any]:
    """A valid Android notice Push, to be broken one field at a time."""
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "d1",
        "Title": "Order shipped",
        "Body": "Your order 42 is on its way",
        **overrides,
    }


def error_code(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    return response.status_code, body["Code"]
