"""``pushfn event KIND``: one platform event, built by the event factories of
:mod:`pushfn.triggers.events` from a few options, ready for ``pushfn invoke``.

=============  ========  ======================================================================
kind           platform  what is printed (options besides ``--body``)
=============  ========  ======================================================================
fc2-http       fc        FC 2.0 HTTP trigger: the WSGI environ as JSON (:mod:`pushfn.local.environ`)
fc3-http       fc        FC 3.0 HTTP trigger event
apigw-v1       aws       API Gateway REST API proxy event
apigw-v2       aws       API Gateway HTTP API event, payload 2.0
function-url   aws       Lambda Function URL event
               ..        (HTTP kinds: ``--method``, ``--path``, ``--header``, ``--sign``/``--secret``)
fc-timer       fc        FC timer trigger; the body is its ``payload`` string (``--name``, ``--time``)
eventbridge    aws       EventBridge rule ``Scheduled Event``; a JSON object body is its ``detail``
scheduler      aws       EventBridge Scheduler input; the body (JSON) is its ``spec``
sqs            aws       one SQS record (``--time``: SentTimestamp)
mns-topic      fc        MNS topic trigger, ``--format stream`` (the raw body, FC's default) or ``json``
mns-queue      fc        MNS queue message through EventBridge (a CloudEvent, body base64)
oss            fc        OSS ObjectCreated:PutObject (``--key``, ``--bucket``, ``--time``)
s3             aws       S3 ObjectCreated:Put; the key form-encoded as S3 sends it (``+`` for a
                         space, ``%2B`` for a plus)
=============  ========  ======================================================================

Without ``--body`` every kind but the object ones carries :data:`DEFAULT_PUSH` (a push to the alias
``demo``); ``--time`` defaults to now. Each event names a new message or upload (fresh message ids and
ETag), so invoking it again is a redelivery only when the same printed event is used again.
``--sign`` adds Standard Webhooks headers (``webhook-id``, ``webhook-timestamp`` now,
``webhook-signature``) signed with ``--secret`` or the first ``PUSHFN_WEBHOOK_SECRETS`` entry, by
:func:`pushfn.http.auth.sign_webhook` — the function's own verifier checks them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from pushfn.local.contexts import AWS, FC
from pushfn.local.errors import LocalInputError

#: The push every sample carries unless ``--body`` says otherwise: valid for the emulator and the service.
DEFAULT_PUSH: dict[str, Any] = {
    "Target": "ALIAS",
    "TargetValue": "demo",
    "DeviceType": "ALL",
    "PushType": "NOTICE",
    "Title": "Hello from pushfn",
    "Body": "Sent by a sample event of 'pushfn event'.",
}
DEFAULT_KEY = "targets.csv"

HTTP_KINDS = ("fc2-http", "fc3-http", "apigw-v1", "apigw-v2", "function-url")
TIMER_KINDS = ("fc-timer", "eventbridge", "scheduler")
QUEUE_KINDS = ("sqs", "mns-topic", "mns-queue")
OBJECT_KINDS = ("oss", "s3")
KINDS = (*HTTP_KINDS, *TIMER_KINDS, *QUEUE_KINDS, *OBJECT_KINDS)
#: The platform that delivers each kind.
PLATFORM = {kind: AWS if kind in ("apigw-v1", "apigw-v2", "function-url", "eventbridge", "scheduler", "sqs", "s3")
            else FC for kind in KINDS}  # fmt: skip
#: The function each kind is meant for.
FUNCTION = {
    **dict.fromkeys(HTTP_KINDS, "http_push"),
    **dict.fromkeys(TIMER_KINDS, "scheduled_push"),
    **dict.fromkeys(QUEUE_KINDS, "queue_push"),
    **dict.fromkeys(OBJECT_KINDS, "file_push"),
}
MNS_FORMATS = ("stream", "json")

#: Which kinds take which option (the CLI option's name → kinds).
_APPLIES = {
    "--body": (*HTTP_KINDS, *TIMER_KINDS, *QUEUE_KINDS),
    "--method": HTTP_KINDS,
    "--path": HTTP_KINDS,
    "--header": HTTP_KINDS,
    "--sign": HTTP_KINDS,
    "--name": TIMER_KINDS,
    "--time": (*TIMER_KINDS, *QUEUE_KINDS, *OBJECT_KINDS),
    "--format": ("mns-topic",),
    "--key": OBJECT_KINDS,
    "--bucket": OBJECT_KINDS,
}


@dataclass(frozen=True)
class SampleOptions:
    """The options of one ``pushfn event``; None (or empty) means "not given": the kind's default.

    ``body`` is raw bytes (HTTP kinds may be binary: sent base64; the others must be UTF-8);
    ``headers`` are ``(name, value)`` pairs; ``secret`` the HMAC key when the event is signed.
    ``given`` adds option names (CLI spelling, ``--sign``) given without a value here; every field
    that is set counts as given too, and a kind refuses an option it does not take. ``body_option`` is
    the option that carried the body (``--body`` or ``--body-file``), named in errors about it.
    """

    body: bytes | None = None
    method: str | None = None
    path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    secret: bytes | None = None
    name: str | None = None
    time: datetime | None = None
    format: str | None = None
    key: str | None = None
    bucket: str | None = None
    given: frozenset[str] = field(default=frozenset())
    body_option: str = "--body"


def sample_event(kind: str, options: SampleOptions | None = None) -> bytes:
    """The event of ``kind`` as the bytes to print (JSON, or a raw STREAM body for ``mns-topic``).

    Raises :class:`LocalInputError` for an unknown kind, an option the kind does not take (named
    with the kinds that do), or a body the kind cannot carry.
    """
    options = options or SampleOptions()
    if kind not in KINDS:
        raise LocalInputError("KIND", "unknown", f"{kind!r} is not one of {', '.join(KINDS)}")
    for option in sorted(options.given | _set_options(options)):
        kinds = _APPLIES.get(option)
        if kinds is not None and kind not in kinds:
            raise LocalInputError(
                options.body_option if option == "--body" else option,
                "not_applicable",
                f"does not apply to {kind}; it applies to {', '.join(kinds)}",
            )
    event = _BUILDERS[kind](options)
    if isinstance(event, bytes):
        return event
    return (json.dumps(event, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _set_options(options: SampleOptions) -> set[str]:
    """The CLI names of the fields of ``options`` that are set."""
    fields = {
        "--body": options.body is not None,
        "--method": options.method is not None,
        "--path": options.path is not None,
        "--header": bool(options.headers),
        "--sign": options.secret is not None,
        "--name": options.name is not None,
        "--time": options.time is not None,
        "--format": options.format is not None,
        "--key": options.key is not None,
        "--bucket": options.bucket is not None,
    }
    return {name for name, is_set in fields.items() if is_set}


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``; the value keeps inner spaces, loses outer ones.

    Raises :class:`LocalInputError` when there is no colon, the name is empty or not an HTTP token
    (RFC 9110: visible ASCII without separators), or the value holds a control character.
    """
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip(" \t")
    if not colon or not name:
        raise LocalInputError("--header", "format", "expected 'Name: value'")
    if not all(ch.isascii() and (ch.isalnum() or ch in "!#$%&'*+-.^_`|~") for ch in name):
        raise LocalInputError("--header", "name", f"{name[:40]!r} is not an HTTP header name")
    if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise LocalInputError("--header", "value", f"the value of {name} holds a control character")
    return name, value


def parse_time(text: str) -> datetime:
    """An ISO-8601 instant (``2024-05-01T08:00:00Z``, an offset, or none for UTC) as an aware UTC datetime.

    Raises :class:`LocalInputError` for anything else.
    """
    from pushfn.specs.relative_time import parse_instant

    try:
        return parse_instant(text)
    except ValueError:
        raise LocalInputError("--time", "format", "expected an ISO-8601 time such as 2024-05-01T08:00:00Z") from None


def signing_secret(secret: str | None, configured: str | None) -> bytes:
    """The HMAC key for ``--sign``: ``secret`` (``--secret``) if given, else the first entry of
    ``configured`` (``PUSHFN_WEBHOOK_SECRETS``, or the one ``pushfn serve`` keeps). Both follow the function's rules
    (:func:`pushfn.http.settings.webhook_secret_bytes`: ``whsec_<base64>`` or UTF-8, at least 24 bytes).

    Raises :class:`LocalInputError` for a weak or malformed secret (never echoed) or none at all.
    """
    from pushfn.errors import ConfigurationError
    from pushfn.http.settings import parse_webhook_secrets, webhook_secret_bytes

    try:
        if secret is not None:
            return webhook_secret_bytes(secret)
        keys = parse_webhook_secrets(configured or "")
    except ConfigurationError as exc:
        field_name = "--secret" if secret is not None else "PUSHFN_WEBHOOK_SECRETS"
        raise LocalInputError(field_name, "secret", str(exc).removeprefix("PUSHFN_WEBHOOK_SECRETS: ")) from None
    if not keys:
        raise LocalInputError(
            "--sign",
            "missing",
            "no webhook secret: pass --secret, set PUSHFN_WEBHOOK_SECRETS (the function's own setting) "
            "or run 'pushfn serve' once (it keeps one in the data folder)",
        )
    return keys[0]


# --- builders ------------------------------------------------------------------------------------


def _default_body() -> bytes:
    return json.dumps(DEFAULT_PUSH, ensure_ascii=False).encode("utf-8")


def _text_body(options: SampleOptions) -> str:
    raw = options.body if options.body is not None else _default_body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocalInputError(
            options.body_option, "encoding", f"not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def _json_body(options: SampleOptions, want_object: bool = False) -> Any:
    from pushfn.json_input import JsonInputError, decode_json

    try:
        value = decode_json(_text_body(options))
    except JsonInputError as exc:
        raise LocalInputError(options.body_option, exc.rule, f"must be JSON here: {exc.detail[:200]}") from None
    if want_object and not isinstance(value, dict):
        raise LocalInputError(options.body_option, "type", "must be a JSON object here (the rule event's detail)")
    return value


def _now(options: SampleOptions) -> datetime:
    return options.time or datetime.now(timezone.utc).replace(microsecond=0)


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _iso(when: datetime) -> str:
    from pushfn.api_time import format_api_time

    return format_api_time(when)


def _fresh_id() -> str:
    return uuid.uuid4().hex.upper()


def _http(factory: Callable[..., Any], options: SampleOptions, **extra: Any) -> Any:
    body = options.body if options.body is not None else _default_body()
    headers = dict(options.headers)
    if not any(name.lower() == "content-type" for name in headers):
        headers["content-type"] = "application/json"
    if options.secret is not None:
        from pushfn.http.auth import sign_webhook

        webhook_id = f"msg_{uuid.uuid4().hex}"
        timestamp = str(int(datetime.now(timezone.utc).timestamp()))
        headers.update(
            {
                "webhook-id": webhook_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": sign_webhook(options.secret, webhook_id, timestamp, body),
            }
        )
    path, _, query_text = (options.path or "/push").partition("?")
    if not path.startswith("/"):
        raise LocalInputError("--path", "format", "must start with '/' (e.g. /push)")
    query = parse_qs(query_text, keep_blank_values=True)
    try:
        body.decode("utf-8")
        binary = False
    except UnicodeDecodeError:
        binary = True
    if binary:
        extra["base64_body"] = True
    event = factory(options.method or "POST", path, body, headers, query or None, **extra)
    context = event.get("requestContext") if isinstance(event, dict) else None
    if isinstance(context, dict):
        context["requestId"] = str(uuid.uuid4())  # each printed event is a new request
    return event


def _fc2(options: SampleOptions) -> Any:
    from pushfn.local.environ import environ_to_json
    from pushfn.triggers.events.http import fc2_environ

    def build(method: str, path: str, body: bytes, headers: Mapping[str, str], query: Any, **_: Any) -> Any:
        return fc2_environ(method, path, body, headers, query)

    return environ_to_json(_http(build, options))


def _fc3(options: SampleOptions) -> Any:
    from pushfn.triggers.events.http import fc3_event

    return _http(fc3_event, options, as_bytes=False)


def _apigw_v1(options: SampleOptions) -> Any:
    from pushfn.triggers.events.http import apigw_v1_event

    return _http(apigw_v1_event, options)


def _apigw_v2(options: SampleOptions) -> Any:
    from pushfn.triggers.events.http import apigw_v2_event

    return _http(apigw_v2_event, options)


def _function_url(options: SampleOptions) -> Any:
    from pushfn.triggers.events.http import function_url_event

    return _http(function_url_event, options)


def _fc_timer(options: SampleOptions) -> Any:
    from pushfn.triggers.events.timer import fc_timer_event

    return fc_timer_event(
        _text_body(options), trigger_name=options.name or "timer-trigger", trigger_time=_now(options), as_bytes=False
    )


def _eventbridge(options: SampleOptions) -> Any:
    from pushfn.triggers.events.timer import eventbridge_rule_event

    detail = _json_body(options, want_object=True) if options.body is not None else None
    return eventbridge_rule_event(rule_name=options.name or "my-scheduled-rule", time=_now(options), detail=detail)


def _scheduler(options: SampleOptions) -> Any:
    from pushfn.triggers.events.timer import scheduler_input

    return scheduler_input(
        _json_body(options),
        schedule_name=options.name or "pushfn-sample",
        scheduled_time=_now(options),
        job=None,
        execution_id=uuid.uuid4().hex[:16],
    )


def _sqs(options: SampleOptions) -> Any:
    from pushfn.triggers.events.queue import SqsRecord, sqs_event

    return sqs_event([SqsRecord(body=_text_body(options), sent_timestamp_ms=_millis(_now(options)))])


def _mns_topic(options: SampleOptions) -> Any:
    from pushfn.triggers.events.queue import mns_topic_json, mns_topic_stream

    if (options.format or "stream") == "stream":
        return mns_topic_stream(_text_body(options))
    if options.format != "json":
        raise LocalInputError("--format", "choice", f"must be one of {', '.join(MNS_FORMATS)}")
    raw = mns_topic_json(_text_body(options), message_id=_fresh_id(), publish_time_ms=_millis(_now(options)))
    return json.loads(raw)


def _mns_queue(options: SampleOptions) -> Any:
    from pushfn.triggers.events.queue import mns_queue_cloudevent

    when = _iso(_now(options))
    return mns_queue_cloudevent(_text_body(options), message_id=_fresh_id(), time=when, publish_time=when)


def _object_key(options: SampleOptions) -> str:
    from pushfn.json_input import JsonInputError, check_text
    from pushfn.triggers.objects import MAX_KEY_BYTES

    key = options.key if options.key is not None else DEFAULT_KEY
    try:
        check_text(key, "--key")
    except JsonInputError:
        raise LocalInputError("--key", "text", "holds a lone surrogate, which is not text") from None
    if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise LocalInputError("--key", "length", f"an object key is 1-{MAX_KEY_BYTES} bytes")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise LocalInputError("--key", "control", "an object key holds no control characters")
    return key


def _objects(options: SampleOptions) -> list[Any]:
    from pushfn.triggers.events.objects import StoredObject

    return [StoredObject(_object_key(options), etag=_fresh_id())]


def _oss(options: SampleOptions) -> Any:
    from pushfn.triggers.events.objects import oss_event

    event = oss_event(_objects(options), bucket=options.bucket or "testbucket", as_bytes=False)
    return _timed(event, "events", options)


def _s3(options: SampleOptions) -> Any:
    from pushfn.triggers.events.objects import s3_event

    return _timed(s3_event(_objects(options), bucket=options.bucket or "my-upload-bucket"), "Records", options)


def _timed(event: Any, records: str, options: SampleOptions) -> Any:
    when = _now(options)
    for record in event[records]:
        record["eventTime"] = _iso(when).replace("Z", ".000Z")  # the samples' millisecond form
    return event


_BUILDERS: dict[str, Callable[[SampleOptions], Any]] = {
    "fc2-http": _fc2,
    "fc3-http": _fc3,
    "apigw-v1": _apigw_v1,
    "apigw-v2": _apigw_v2,
    "function-url": _function_url,
    "fc-timer": _fc_timer,
    "eventbridge": _eventbridge,
    "scheduler": _scheduler,
    "sqs": _sqs,
    "mns-topic": _mns_topic,
    "mns-queue": _mns_queue,
    "oss": _oss,
    "s3": _s3,
}
