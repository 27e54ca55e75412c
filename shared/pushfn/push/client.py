"""The CloudPush client: validate, sign, send, retry where safe, and report typed errors.

Retry rules (CloudPush error codes: https://help.aliyun.com/document_detail/48054.html; the official SDK's
retry policy: ``alibabacloud-tea-openapi`` 0.4.6 and ``aliyun-python-sdk-core`` 2.16.1):

- connection never made, 5xx / ``InternalError`` / ``ServiceUnavailable``, ``Throttling.*`` (HTTP 400
  on this API) and ``SignatureNonceUsed`` are retried with exponential backoff and jitter;
- a refusal (HTTP 4xx/5xx) carrying a positive ``x-acs-retry-after`` is throttling whatever its
  ``Code`` (e.g. ``Flow.Limited``), as in the official SDK (alibabacloud-tea-openapi 0.4.6 raises
  ``ThrottlingException`` for it; darabonba-core 1.0.9 waits ``min(retry_after, 120 s)``): the header
  is integer **milliseconds**, the retry waits exactly that long, within ``max_attempts``; a wait
  longer than ``min(120 s, Retry.max_backoff)`` is not slept through but raised at once (see
  :meth:`PushClient._retry_after_cap`);
- a failure after the request left (read timeout, connection dropped) is *ambiguous*: it is retried
  only when the request carries an ``IdempotentToken`` — CloudPush drops repeats of a token for
  15 minutes — or the action is naturally idempotent (queries, bind/unbind);
- anything else (a refused parameter, a bad signature) is raised at once.

``Push`` and ``MassPush`` get a fresh random ``IdempotentToken`` per call unless the caller passes
one, so even a plain ``client.push(...)`` survives a lost answer without pushing twice. Callers
that retry across processes (the idempotency guard) pass a token derived from their own key.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from pushfn.api_time import format_api_time
from pushfn.lazy_logger import CLOUDPUSH_REQUEST_ID, INFO, LazyLogger
from pushfn.masking import mask_list, scrub_cut, scrub_text
from pushfn.push import signing
from pushfn.push._config import Retry, Timeout
from pushfn.push.credentials import (
    Credentials,
    CredentialsProvider,
    default_chain,
    read_ini_section,
)
from pushfn.push.errors import (
    ConfigurationError,
    FieldProblem,
    InvalidRequestError,
    PushError,
    ServiceError,
    ThrottledError,
    error_from_answer,
)
from pushfn.push.transport import PreparedRequest, RawResponse, Transport, transport_from_settings
from pushfn.random_ids import random16, uuid4_text
from pushfn.settings import Settings

# Type-only names stay off the import path (`typing` costs milliseconds, `dataclasses` pulls in
# `inspect`, `uuid` pulls in `platform`); type checkers treat this constant like `typing.TYPE_CHECKING`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    from pushfn.push.models import ApiRequest, ValidRequest  # loaded on first use, not at import
else:
    Protocol = object

# `logging` loads only when a record can be emitted (pushfn.lazy_logger): not on a quiet push.
logger = LazyLogger("pushfn.push")


API_VERSION = "2016-08-01"
DEFAULT_ENDPOINT = "https://cloudpush.aliyuncs.com"
DEFAULT_REGION = "cn-hangzhou"
SIGNATURE_VERSIONS = ("v2", "v3")

#: Actions whose repetition cannot push twice: safe to retry after an ambiguous failure.
NATURALLY_IDEMPOTENT = frozenset(
    {
        "CancelPush",
        "CheckDevice",
        "CheckDevices",
        "QueryDeviceInfo",
        "QueryDevicesByAccount",
        "QueryDevicesByAlias",
        "QueryAliases",
        "QueryTags",
        "ListTags",
        "QueryPushStatByMsg",
        "QueryPushStatByApp",
        "QueryPushRecords",
        "ListSummaryApps",
        "BindAlias",
        "UnbindAlias",
        "BindTag",
        "UnbindTag",
        "RemoveTag",
        "CheckCertificate",
    }
)
#: Actions that accept an ``IdempotentToken``.
TOKEN_ACTIONS = frozenset({"Push", "MassPush"})

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SERVER_STRING_TO_SIGN = "server string to sign is:"


class _Result:
    """An immutable answer: built from, equal and shown by the fields named in ``_fields``, in order."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init__(self, *values: object) -> None:
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None  # type: ignore[assignment]  # holds lists and dicts

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({shown})"


class ApiResponse(_Result):
    """A successful CloudPush answer: the ``action`` called, its ``RequestId`` and the decoded JSON body
    (``data``, with the API's own field names, ``RequestId`` included)."""

    __slots__ = _fields = ("action", "data", "request_id")
    action: str
    request_id: str
    data: dict[str, Any]

    def __init__(self, action: str, request_id: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(action, {} if data is None else data, request_id)


class PushResult(_Result):
    """The answer to ``Push``: the ``MessageId`` CloudPush assigned and the call's ``RequestId``."""

    __slots__ = _fields = ("message_id", "request_id")
    message_id: str
    request_id: str

    def __init__(self, message_id: str, request_id: str) -> None:
        super().__init__(message_id, request_id)

    def to_dict(self) -> dict[str, str]:
        """The API's own shape: ``{"MessageId": ..., "RequestId": ...}``."""
        return {"MessageId": self.message_id, "RequestId": self.request_id}


class MassPushResult(_Result):
    """The answer to ``MassPush``: one ``MessageId`` per ``PushTask``, in task order, and the ``RequestId``."""

    __slots__ = _fields = ("message_ids", "request_id")
    message_ids: list[str]
    request_id: str

    def __init__(self, message_ids: list[str], request_id: str) -> None:
        super().__init__(message_ids, request_id)

    def to_dict(self) -> dict[str, Any]:
        """``{"MessageIds": [...], "RequestId": ...}`` (the API nests the list as ``MessageIds.MessageId``)."""
        return {"MessageIds": list(self.message_ids), "RequestId": self.request_id}


class PushSender(Protocol):
    """What the functions need of a push client. :class:`PushClient` is the one pushfn ships.

    ``request`` is a mapping of API or snake_case parameter names, or a request model; each method
    validates it, sends it with ``idempotent_token`` when given, and raises :class:`~pushfn.push.errors.PushError`
    subclasses (``InvalidRequestError`` before sending, ``ServiceError``/``TransportError`` after).
    """

    def push(
        self, request: Mapping[str, Any] | ApiRequest | ValidRequest, *, idempotent_token: str | None = None
    ) -> PushResult:
        """Send one ``Push`` request; see :meth:`PushClient.push`."""
        ...

    def mass_push(
        self, request: Mapping[str, Any] | ApiRequest | ValidRequest, *, idempotent_token: str | None = None
    ) -> MassPushResult:
        """Send one ``MassPush`` request; see :meth:`PushClient.mass_push`."""
        ...

    def call(
        self,
        action: str,
        request: Mapping[str, Any] | ApiRequest | ValidRequest,
        *,
        idempotent_token: str | None = None,
    ) -> ApiResponse:
        """Send any supported action; see :meth:`PushClient.call`."""
        ...


def service_message(text: str) -> str:
    """A service error ``Message`` made safe to keep: without the string-to-sign the gateway echoes
    (it lists every target), and with device ids and secrets masked (:func:`pushfn.masking.scrub_text`)."""
    head, sep, _ = text.partition(_SERVER_STRING_TO_SIGN)
    return scrub_text(head.rstrip() if sep else text)


def validate_endpoint(endpoint: str) -> str:
    """``endpoint`` (``PUSH_ENDPOINT``) as ``scheme://host[:port]``, the form requests are signed for.

    Raises :class:`ConfigurationError` unless it is an ``http``/``https`` URL with a host and no path,
    query or fragment. Plain HTTP to a host other than loopback (the emulator) is allowed but logged as a
    warning: CloudPush itself is served over HTTPS (``https://cloudpush.aliyuncs.com``).
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"PUSH_ENDPOINT must be an http(s) URL, got {endpoint!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"PUSH_ENDPOINT must not carry a path or query, got {endpoint!r}")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("PUSH_ENDPOINT uses plain HTTP to a non-loopback host; CloudPush requires HTTPS")
    return f"{parts.scheme}://{parts.netloc}"


class PushClient:
    """Thread-safe CloudPush client; build one per process and reuse it (keep-alive)."""

    def __init__(
        self,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        app_key: int | str | None = None,
        credentials: CredentialsProvider | None = None,
        region_id: str = DEFAULT_REGION,
        signature_version: str = "v2",
        timeout: Timeout | None = None,
        retry: Retry | None = None,
        transport: Transport | None = None,
        auto_idempotent_token: bool = True,
        clock: Any = time.time,
    ) -> None:
        if signature_version not in SIGNATURE_VERSIONS:
            raise ConfigurationError(f"signature_version must be 'v2' or 'v3', got {signature_version!r}")
        self.endpoint = validate_endpoint(endpoint)
        self.app_key = _app_key(app_key)
        self.region_id = region_id
        self.signature_version = signature_version
        self.timeout = timeout or Timeout()
        self.retry = retry or Retry()
        self._credentials = credentials or default_chain(Settings.from_env)
        # No transport given: the one the environment's settings ask for (PUSH_TRANSPORT, CA bundle, proxies).
        self._transport = transport or transport_from_settings(Settings.from_env())
        self._auto_token = auto_idempotent_token
        self._clock = clock
        self._host = urlsplit(self.endpoint).netloc

    # --- construction from configuration ---------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, context: Any = None, **overrides: Any) -> PushClient:
        """A client configured by the documented settings (README, "Configuration"), read from ``env``
        (default: the process environment) by :meth:`Settings.from_env <pushfn.settings.Settings.from_env>`.

        The key pairs are re-read from ``env`` on every call, so rotated keys are picked up. See
        :meth:`from_settings` for ``context``, ``overrides`` and the errors raised.
        """
        settings = Settings.from_env(env)
        chain = default_chain(lambda: Settings.from_env(env), context=context)
        return cls.from_settings(settings, credentials=chain, **overrides)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        credentials: CredentialsProvider | None = None,
        context: Any = None,
        **overrides: Any,
    ) -> PushClient:
        """A client configured by ``settings``; the INI file's ``[push_config]`` section
        (``settings.config_file``) supplies the client settings ``settings`` leave unset (AppKey,
        region, endpoint…: :data:`~pushfn.settings.CONFIG_FILE_NAMES`).

        ``credentials`` defaults to :func:`~pushfn.push.credentials.default_chain` over ``settings``
        and ``context`` (an invocation's FC context, or a
        :class:`~pushfn.push.credentials.FunctionContextCredentials` kept bound to the latest one).
        ``overrides`` are constructor arguments and win over everything. Raises
        :class:`~pushfn.settings.SettingsError` (a value in the INI file refused by its rule),
        :class:`~pushfn.push.errors.CredentialsError` (the INI file is not INI) or
        :class:`ConfigurationError` (e.g. the endpoint).
        """
        path = settings.config_file
        resolved = settings.fill_from(read_ini_section(path, "push_config"), where=str(path))
        kwargs: dict[str, Any] = {
            "endpoint": resolved.push_endpoint,
            "app_key": resolved.push_app_key,
            "region_id": resolved.push_region_id,
            "signature_version": resolved.push_signature_version,
            "credentials": credentials if credentials is not None else default_chain(settings, context=context),
            "timeout": Timeout(connect=resolved.push_connect_timeout, read=resolved.push_read_timeout),
            "retry": Retry(max_attempts=resolved.push_max_attempts),
        }
        if "transport" not in overrides:
            kwargs["transport"] = transport_from_settings(resolved)
        kwargs.update(overrides)
        return cls(**kwargs)

    # --- high-level actions ------------------------------------------------------------------------

    def push(
        self, request: Mapping[str, Any] | ApiRequest | ValidRequest, *, idempotent_token: str | None = None
    ) -> PushResult:
        """Send one ``Push``: one content to devices, accounts, aliases, a tag expression or every device.

        ``request``: a mapping of API names (``TargetValue``) or snake_case names (``target_value``) to
        values, or a :class:`~pushfn.push.models.Push` model; ``AppKey`` defaults to the client's app key.
        A :class:`~pushfn.push.models.ValidRequest` (from :func:`~pushfn.push.models.check_request`) is not
        validated again: only its time rules (PushTime, ExpireTime) are checked at send time.
        The accepted values and limits are those of :mod:`pushfn.push.models` (CloudPush API overview:
        https://help.aliyun.com/document_detail/48038.html, limits:
        https://help.aliyun.com/document_detail/92832.html).

        ``idempotent_token``: a 36-character UUID; CloudPush drops a repeat of the same token for 15
        minutes, which makes a retry after a lost answer safe. When absent (and the request has no
        ``IdempotentToken``) a random one is drawn per call, unless ``auto_idempotent_token=False``.

        Returns the ``MessageId`` and ``RequestId``. Raises :class:`InvalidRequestError` before anything
        is sent (every problem listed, by API field name), :class:`ServiceError` (or its subclasses, e.g.
        :class:`ThrottledError`) when CloudPush refuses it, and
        :class:`~pushfn.push.errors.TransportError` when the network fails; an error whose
        ``maybe_sent`` is true means the push may have gone out. Retries follow the module's rules.
        """
        resp = self.call("Push", request, idempotent_token=idempotent_token)
        return PushResult(_message_id(resp.data.get("MessageId", "")), resp.request_id)

    def mass_push(
        self, request: Mapping[str, Any] | ApiRequest | ValidRequest, *, idempotent_token: str | None = None
    ) -> MassPushResult:
        """Send one ``MassPush``: up to 100 tasks (``PushTask``), each its own push with its own target.

        ``request``: a mapping with ``AppKey`` (optional, as in :meth:`push`) and ``PushTask``, a list of
        mappings using the ``Push`` parameter names (API or snake_case), or a
        :class:`~pushfn.push.models.MassPush` model. Limits: https://help.aliyun.com/document_detail/92832.html.
        ``idempotent_token`` and the errors raised are as in :meth:`push` (one token covers the whole
        call). Returns one ``MessageId`` per task, in task order, and the ``RequestId``.
        """
        resp = self.call("MassPush", request, idempotent_token=idempotent_token)
        ids = resp.data.get("MessageIds", {})
        if isinstance(ids, dict):
            ids = ids.get("MessageId", [])
        if not isinstance(ids, list):
            # XML-to-JSON conversions give a list of one as the bare item: one MessageId, not its characters.
            ids = [ids]
        return MassPushResult([_message_id(i) for i in ids], resp.request_id)

    def call(
        self,
        action: str,
        request: Mapping[str, Any] | ApiRequest | ValidRequest,
        *,
        idempotent_token: str | None = None,
    ) -> ApiResponse:
        """Validate ``request`` as the parameters of ``action`` and send it, retrying where safe.

        ``action``: a CloudPush 2016-08-01 action name (``Push``, ``BindAlias``, ``QueryDeviceInfo``, ...;
        the supported ones are :func:`pushfn.push.models.request_types`). ``request``: a mapping of API or
        snake_case parameter names, or that action's request model. ``idempotent_token`` is accepted only
        by ``Push`` and ``MassPush`` (see :meth:`push`).

        Returns the decoded answer. Raises :class:`InvalidRequestError` (unknown action, refused
        parameter, a token given to another action or not a UUID) before sending,
        :class:`ServiceError` or :class:`~pushfn.push.errors.TransportError` after, and whatever the
        credentials provider raises (:class:`~pushfn.push.errors.CredentialsError`).
        """
        query, form = self._wire_params(action, request, idempotent_token)
        return self._send(action, query, form)

    def prepare(
        self,
        action: str,
        request: Mapping[str, Any] | ApiRequest | ValidRequest,
        *,
        idempotent_token: str | None = None,
    ) -> PreparedRequest:
        """Validate and sign ``request`` as :meth:`call` would, without sending (``pushfn push --dry-run``).

        Arguments and the errors raised before sending are those of :meth:`call`. The returned request
        carries the current time, a fresh ``SignatureNonce`` and, for ``Push``/``MassPush``, the (possibly
        generated) ``IdempotentToken``; its signature uses the current credentials.
        """
        query, form = self._wire_params(action, request, idempotent_token)
        return self._sign(action, query, form, self._credentials.get_credentials())

    def close(self) -> None:
        """Close the transport's pooled connections; the client is not used afterwards."""
        self._transport.close()

    def __enter__(self) -> PushClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------------

    def _wire_params(
        self, action: str, request: Mapping[str, Any] | ApiRequest | ValidRequest, token: str | None
    ) -> tuple[dict[str, str], dict[str, str]]:
        # The fast checker: pydantic loads only to explain a refusal. A request it already accepted
        # (a ValidRequest, from the function that parsed it) has only its time rules checked again.
        from pushfn.push.models.fast import check_request

        valid = check_request(action, request, app_key=self.app_key)
        query, form = valid.to_query(), valid.to_form()
        if action in TOKEN_ACTIONS:
            # The request's own IdempotentToken wins over the guard's: a caller who names one wants
            # CloudPush to drop every other push carrying it, whatever key our guard filed it under.
            token = query.get("IdempotentToken") or token or None  # an empty one is none, as before
            if token is None and self._auto_token:
                query["IdempotentToken"] = uuid4_text()
            elif token is not None:
                if not _UUID_RE.match(token):
                    raise InvalidRequestError(
                        [FieldProblem("IdempotentToken", "format", "must be a 36-character UUID")], action
                    )
                query["IdempotentToken"] = token
        elif token is not None:
            raise InvalidRequestError(
                [FieldProblem("IdempotentToken", "unsupported", f"{action} does not take an IdempotentToken")],
                action,
            )
        return query, form

    def _sign(self, action: str, query: dict[str, str], form: dict[str, str], creds: Credentials) -> PreparedRequest:
        now = format_api_time(self._clock())
        nonce = random16().hex()  # what uuid.uuid4().hex was, minus the fixed version bits
        # Each name and value is percent-encoded once; the same encoded pairs make the signed string,
        # the URL's query and the form body.
        form_pairs = signing.encode_pairs(form) if form else []
        body = signing.join_pairs(form_pairs).encode() if form else b""
        headers: dict[str, str] = {"accept": "application/json", "user-agent": "pushfn/0.1"}
        if form:
            headers["content-type"] = "application/x-www-form-urlencoded"
        if self.signature_version == "v2":
            params = {
                **query,
                "Action": action,
                "Version": API_VERSION,
                "Format": "JSON",
                "RegionId": self.region_id,
                "AccessKeyId": creds.access_key_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureVersion": "1.0",
                "SignatureNonce": nonce,
                "Timestamp": now,
            }
            if creds.security_token:
                params["SecurityToken"] = creds.security_token
            params.pop("Signature", None)  # never signed, and set below
            query_pairs = signing.encode_pairs(params)
            canonical = signing.join_pairs(sorted(query_pairs + form_pairs))
            signature = signing.sign_rpc_v2_string(
                signing.rpc_string_to_sign_canonical("POST", canonical), creds.access_key_secret
            )
            # Without a form body the canonical query is exactly the URL's query: sent as built.
            url_query = canonical if not form_pairs else signing.join_pairs(query_pairs)
            url = f"{self.endpoint}/?{url_query}&Signature={signing.encode_base64(signature)}"
            return PreparedRequest("POST", url, headers, body, action)
        headers.update(
            {
                "host": self._host,
                "x-acs-action": action,
                "x-acs-version": API_VERSION,
                "x-acs-date": now,
                "x-acs-signature-nonce": nonce,
                "x-acs-content-sha256": signing.sha256_hex(body),
            }
        )
        if creds.security_token:
            headers["x-acs-security-token"] = creds.security_token
            headers["x-acs-accesskey-id"] = creds.access_key_id
        encoded_query = signing.canonical_query(query)
        canonical_request, signed = signing.canonical_request_v3(
            "POST", query, headers, headers["x-acs-content-sha256"], encoded_query=encoded_query
        )
        headers["Authorization"] = signing.v3_authorization(
            creds.access_key_id, signed, signing.sign_v3(creds.access_key_secret, canonical_request)
        )
        url = f"{self.endpoint}/" + (f"?{encoded_query}" if query else "")
        return PreparedRequest("POST", url, headers, body, action)

    def _send(self, action: str, query: dict[str, str], form: dict[str, str]) -> ApiResponse:
        safe = action in NATURALLY_IDEMPOTENT or "IdempotentToken" in query
        maybe_sent = False
        attempt = 0
        while True:
            attempt += 1
            prepared = self._sign(action, query, form, self._credentials.get_credentials())
            started = time.perf_counter()
            try:
                raw = self._transport.send(prepared, self.timeout)
                response = self._read(action, raw)
            except PushError as exc:
                maybe_sent = maybe_sent or exc.maybe_sent
                retry_after = getattr(exc, "retry_after", None)
                retry = attempt < self.retry.max_attempts and exc.retryable and (safe or not exc.maybe_sent)
                if retry and retry_after is not None and retry_after > self._retry_after_cap():
                    # Waiting less than asked would only be refused again, and waiting longer could
                    # outlive the function: give up now; the error carries retry_after for the caller.
                    retry = False
                fields = {
                    "action": action,
                    "attempt": attempt,
                    "error": type(exc).__name__,
                    "code": getattr(exc, "code", None),
                    CLOUDPUSH_REQUEST_ID: getattr(exc, "request_id", None),
                    "retrying": retry,
                }
                if not retry:
                    logger.warning("push call failed", extra={"fields": fields})
                    if maybe_sent:
                        exc.maybe_sent = True
                    raise
                if retry_after is not None:
                    delay = retry_after  # exactly what the service asked for, like the SDK
                else:
                    delay = self.retry.delay(attempt, throttled=isinstance(exc, ThrottledError))
                logger.info("push call failed, retrying", extra={"fields": {**fields, "delay_s": round(delay, 3)}})
                self.retry.sleep(delay)
                continue
            if logger.isEnabledFor(INFO):  # the masked targets cost more than the rest of the line
                targets = mask_list(query["TargetValue"]) if "TargetValue" in query else None
                logger.info(
                    "push call ok",
                    extra={
                        "fields": {
                            "action": action,
                            CLOUDPUSH_REQUEST_ID: response.request_id,
                            "attempt": attempt,
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                            "targets": targets,
                        }
                    },
                )
            return response

    def _retry_after_cap(self) -> float:
        """The longest ``x-acs-retry-after`` this client waits before a retry, in seconds.

        The SDK's own cap (120 s) bounded by ``Retry.max_backoff`` (10 s by default): a function must not
        spend its whole timeout asleep. A longer request is not retried here at all; the
        :class:`ThrottledError` is raised with its ``retry_after`` so the caller (HTTP ``Retry-After``,
        a queue redelivery) waits instead.
        """
        return min(SDK_MAX_RETRY_AFTER_SECONDS, self.retry.max_backoff)

    def _read(self, action: str, raw: RawResponse) -> ApiResponse:
        try:
            data = json.loads(raw.body.decode("utf-8")) if raw.body else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            # RecursionError: nested deeper than json can walk. Escaping as itself it was no PushError,
            # so a push CloudPush accepted (2xx) lost its maybe_sent and could be sent again.
            data = None
        if not isinstance(data, dict):
            if 200 <= raw.status < 300:
                raise ServiceError(
                    "InvalidResponse",
                    "the service answered with a body that is not JSON",
                    http_status=raw.status,
                    maybe_sent=True,
                )
            raise error_from_answer(
                "HttpError",
                f"HTTP {raw.status} without a JSON error body",
                http_status=raw.status,
                request_id=None,
                retry_after=_retry_after(raw.headers),
            )
        # Bounded (device ids and secrets masked first): each is echoed in answers, errors and logs, and a
        # proxy's megabyte "Code" made a megabyte problem answer (its field, its code) past Lambda's 6 MB.
        request_id = _bounded(str(data.get("RequestId", "")))
        if 200 <= raw.status < 300 and "Code" not in data:
            return ApiResponse(action, request_id, data)
        raise error_from_answer(
            _bounded(str(data.get("Code", f"HTTP{raw.status}"))),
            # Cut before scrubbing too (twice the limit: the string-to-sign marker is found if it is kept).
            service_message(str(data.get("Message", ""))[: 2 * _MAX_MESSAGE_CHARS])[:_MAX_MESSAGE_CHARS],
            http_status=raw.status,
            request_id=request_id or None,
            retry_after=_retry_after(raw.headers),
        )


def _message_id(value: object) -> str:
    """A ``MessageId`` of a 2xx answer as text: CloudPush sends a string (digits); a number is taken as
    its digits. Anything else (an object, an array, a boolean) is no MessageId: the push went out but its
    answer cannot be read, so :class:`ServiceError` ``InvalidResponse`` with ``maybe_sent`` (the guard
    keeps the key, a retry reuses the IdempotentToken) — not a ``TypeError`` that lets a retry push again."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ServiceError(
        "InvalidResponse", "the service answered with a MessageId that is not text", http_status=200, maybe_sent=True
    )


#: ``Code`` and ``RequestId`` of an answer are kept to this many characters (CloudPush's are under 64).
_MAX_ANSWER_ID_CHARS = 128
#: ``Message`` of a refusal is kept to this many characters.
_MAX_MESSAGE_CHARS = 2000


def _bounded(text: str) -> str:
    """An answer's ``Code`` or ``RequestId`` as given when short (the common case costs nothing), else
    scrubbed and cut to :data:`_MAX_ANSWER_ID_CHARS` (:func:`pushfn.masking.scrub_cut`)."""
    return text if len(text) <= _MAX_ANSWER_ID_CHARS else scrub_cut(text, _MAX_ANSWER_ID_CHARS)


#: The longest ``x-acs-retry-after`` wait the official SDK honours (darabonba ``MAX_DELAY_TIME``).
SDK_MAX_RETRY_AFTER_SECONDS = 120.0
#: ``x-acs-retry-after`` values are kept below this (in ms: 3 billion years, so any real value stays exact)
#: before becoming seconds, a float that hundreds of digits would overflow.
_MAX_RETRY_AFTER_MILLIS = 10**20


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the service asks us to wait (``x-acs-retry-after``), or ``None``.

    Read exactly as the official SDK does (alibabacloud-tea-openapi 0.4.6,
    ``Utils.get_throttling_time_left``): the value is ``int()`` of the header, in **milliseconds**;
    missing, empty, not an integer, zero or negative → no retry-after. The header name is matched
    case-insensitively (HTTP header names are).
    """
    for name, value in headers.items():
        if name.lower() == "x-acs-retry-after":
            try:
                millis = int(value)
            except (TypeError, ValueError):
                return None
            # A value past any real wait (hundreds of digits) would overflow the float: it means
            # "longer than the client waits", which the cap then decides, as the SDK's min() does.
            return min(millis, _MAX_RETRY_AFTER_MILLIS) / 1000.0 if millis > 0 else None
    return None


def _app_key(value: int | str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigurationError(f"PUSH_APP_KEY must be an integer, got {value!r}") from None
