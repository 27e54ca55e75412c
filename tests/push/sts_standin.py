"""FAKE: a loopback stand-in for Alibaba Cloud STS (no local STS exists), over real HTTP.

It serves the two actions pushfn calls, ``AssumeRole`` and ``AssumeRoleWithOIDC`` (API 2015-04-01),
in the shapes :mod:`pushfn.push.sts` documents, and checks each request as STS would:

- common parameters in the query (``Action``, ``Version=2015-04-01``, ``Format=JSON``, a UTC
  ``Timestamp``), the action's own in the form body of a ``POST``;
- ``AssumeRole``: the V2 signature over query and body together, recomputed with pushfn's signer
  (:func:`pushfn.push.signing.sign_rpc_v2`) from the secret of the ``AccessKeyId`` sent, compared in
  constant time; a nonce used twice is refused;
- ``AssumeRoleWithOIDC``: anonymous (no ``AccessKeyId`` nor ``Signature``), the token one of those
  the test accepts, the role and provider ARNs the expected ones.

A success answers HTTP 200 with ``Credentials`` expiring ``DurationSeconds`` after :attr:`clock`
(the test's injected clock); a refusal answers HTTP 400 with ``Code`` / ``Message`` — for a bad
signature, with the server's string to sign echoed as the real service does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from pushfn.api_time import format_api_time, parse_api_time
from pushfn.push import signing


class StsStandIn:
    """FAKE STS on ``127.0.0.1``: ``url`` to point ``PUSHFN_STS_ENDPOINT`` at; ``requests`` records each call."""

    def __init__(
        self,
        *,
        callers: Mapping[str, str] | None = None,
        oidc_tokens: set[str] | None = None,
        role_arn: str = "acs:ram::1234567890123456:role/push-role",
        oidc_provider_arn: str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa",
        issue: Callable[[int], tuple[str, str, str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        #: AccessKeyId → secret of the callers allowed to AssumeRole.
        self.callers = dict(callers or {})
        self.oidc_tokens = set(oidc_tokens or ())
        self.role_arn = role_arn
        self.oidc_provider_arn = oidc_provider_arn
        self.clock = clock
        #: n (1, 2, …) → (AccessKeyId, AccessKeySecret, SecurityToken) of the n-th credentials issued.
        self.issue = issue or (lambda n: (f"STS.role{n}", f"role-secret-{n}-xxxxxxxx", f"role-token-{n}-xxxxxxxx"))
        self.requests: list[dict[str, object]] = []
        self.issued = 0
        self.fail_with: tuple[int, str] | None = None
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                status, answer = outer._answer(self.path, body, dict(self.headers))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- the service --------------------------------------------------------------------------------

    def _answer(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        form = dict(parse_qsl(body, keep_blank_values=True))
        with self._lock:
            self.requests.append({"query": query, "form": form, "headers": headers, "raw_query": urlsplit(path).query})
        if self.fail_with is not None:
            status, code = self.fail_with
            return status, {"RequestId": "req-fail", "Code": code, "Message": "the stand-in was told to fail"}
        action = query.get("Action")
        common = {"Version": "2015-04-01", "Format": "JSON"}
        if any(query.get(k) != v for k, v in common.items()) or parse_api_time(query.get("Timestamp")) is None:
            return self._refuse("MissingParameter", "Version, Format or Timestamp missing from the query")
        if action == "AssumeRole":
            refusal = self._check_assume_role(query, form)
        elif action == "AssumeRoleWithOIDC":
            refusal = self._check_oidc(query, form)
        else:
            return self._refuse("InvalidAction.NotFound", f"no action {action!r}")
        if refusal is not None:
            return refusal
        duration = int(form.get("DurationSeconds") or 3600)
        with self._lock:
            self.issued += 1
            key_id, secret, token = self.issue(self.issued)
        answer = {
            "RequestId": f"req-{self.issued}",
            "AssumedRoleUser": {"Arn": f"{self.role_arn}/{form['RoleSessionName']}", "AssumedRoleId": "3000:x"},
            "Credentials": {
                "AccessKeyId": key_id,
                "AccessKeySecret": secret,
                "SecurityToken": token,
                "Expiration": format_api_time(self.clock() + duration),
            },
        }
        return 200, answer

    @staticmethod
    def _refuse(code: str, message: str) -> tuple[int, dict[str, object]]:
        return 400, {"RequestId": "req-refused", "HostId": "sts.aliyuncs.com", "Code": code, "Message": message}

    def _check_assume_role(self, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, object]] | None:
        if form.get("RoleArn") != self.role_arn or not form.get("RoleSessionName"):
            return self._refuse("InvalidParameter.RoleArn", "RoleArn or RoleSessionName is not the expected one")
        if query.get("SignatureMethod") != "HMAC-SHA1" or query.get("SignatureVersion") != "1.0":
            return self._refuse("InvalidParameter", "SignatureMethod/SignatureVersion must be HMAC-SHA1/1.0")
        secret = self.callers.get(query.get("AccessKeyId", ""))
        if secret is None:
            return self._refuse("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        params = {k: v for k, v in {**query, **form}.items() if k != "Signature"}
        string_to_sign = signing.rpc_string_to_sign("POST", params)
        expected = signing.sign_rpc_v2_string(string_to_sign, secret)
        if not signing.signatures_equal(expected, query.get("Signature", "")):
            return self._refuse(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign is:" + string_to_sign,
            )
        with self._lock:
            nonce = query.get("SignatureNonce", "")
            if not nonce or nonce in self._nonces:
                return self._refuse("SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(nonce)
        return None

    def _check_oidc(self, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, object]] | None:
        if "Signature" in query or "AccessKeyId" in query:
            return self._refuse("InvalidParameter", "AssumeRoleWithOIDC is anonymous: no AccessKeyId, no Signature")
        if form.get("RoleArn") != self.role_arn or form.get("OIDCProviderArn") != self.oidc_provider_arn:
            return self._refuse("EntityNotExist.Role", "RoleArn or OIDCProviderArn is not the expected one")
        if not form.get("RoleSessionName"):
            return self._refuse("MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
        if form.get("OIDCToken") not in self.oidc_tokens:
            return self._refuse("AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid.")
        return None
