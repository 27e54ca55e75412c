"""``pushfn invoke``: one function's handler, called with one event the way its platform calls it.

The handler is the one each ``functions/<name>/index.py`` deploys (:data:`pushfn.functions.HANDLERS`; a test keeps
the two in step), so the event goes through the same adapters as in the cloud:

- an FC 2.0 WSGI environ (the JSON of :mod:`pushfn.local.environ`) → ``handler(environ,
  start_response)`` through :func:`~pushfn.triggers.events.http.call_wsgi`, ``fc.context`` set;
- on ``fc`` → ``handler(event_bytes, context)``: FC hands every other event over as bytes, unparsed;
- on ``aws`` → ``handler(event_dict, context)``: Lambda hands over the decoded JSON.

The context is a fake of the platform's (:mod:`pushfn.local.contexts`): request id, function name and
timeout, Lambda's ``get_remaining_time_in_millis``. Without ``--platform`` the platform is read from
the event's shape (API Gateway, Function URL, SQS, S3, EventBridge → ``aws``; the rest → ``fc``).

The event must be JSON, except for ``queue_push`` on FC, whose MNS STREAM topic messages arrive as
the raw body, any text; whether its shape fits the function is the adapter's to say. It is at most
:data:`MAX_EVENT_BYTES`. Settings come from the environment, exactly as in a function.

Outcome → exit code (:func:`classify`):

====  ========  =============================================================================
code  label     when
====  ========  =============================================================================
0     ok        everything was handled: HTTP 1xx-3xx; a tick, batch or file fully sent
1     failed    the handler raised (a bug, or a configuration it cannot use: HTTP 500
                ``misconfigured`` / ``internal-error``) — the platform would retry it, after a fix
2     (input)   ``invoke`` itself could not run it: unknown function, unreadable event (the CLI)
3     refused   the caller's event or data was refused and a retry cannot help: HTTP 4xx (but
                408/409/425/429), an invalid tick, a rejected file or failed chunk, a malformed
                object record (skipped by the file function), a message dead-lettered, or any
                ``ERROR`` the function logged while answering success (on SQS a dead-lettered
                message is only in the logs: the reply lists retries alone)
4     retry     the platform would deliver the event again: the handler raised
                :class:`~pushfn.triggers.RetryLaterError`, an SQS reply names
                ``batchItemFailures``, or HTTP 408/409/425/429/5xx
====  ========  =============================================================================
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from pushfn.functions import HANDLERS, HTTP_PUSH, QUEUE_PUSH
from pushfn.local.contexts import AWS, FC, make_context
from pushfn.local.errors import LocalInputError

if TYPE_CHECKING:
    from pushfn.settings import Settings

#: Largest event read: FC's synchronous invocation payload limit, 32 MB (source:
#: https://www.alibabacloud.com/help/en/functioncompute/fc/mns-queue-triggers, "Sync (max payload 32 MB)");
#: Lambda's is smaller (6 MB, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), so this
#: bounds both.
MAX_EVENT_BYTES = 32 * 1024 * 1024
#: Strings inside an event may carry a whole request body (the HTTP adapter's own bound).
_EVENT_MAX_STRING_CHARS = 64 * 1024 * 1024
#: Cloud SDKs that ``pip install pushfn`` leaves out, by the pyproject extra that brings them: a local
#: run that reaches one (an OSS event without ``PUSHFN_FILE_ROOT``, a DynamoDB store) names the extra.
OPTIONAL_MODULES = {"oss2": "aliyun", "fc2": "aliyun", "tablestore": "aliyun", "boto3": "aws", "botocore": "aws"}

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_RETRY = 0, 1, 2, 3, 4
#: HTTP statuses a client is meant to retry (RFC 9110: 408, 409 in-progress here, 425, 429).
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
#: Problem types of a 500 that no retry fixes before someone does.
_BROKEN_PROBLEMS = ("urn:pushfn:problem:misconfigured", "urn:pushfn:problem:internal-error")
#: Platform fields that only an AWS event has (the other shapes are FC's).
_AWS_SOURCES = ("aws:",)


@dataclass(frozen=True)
class InvokeOutcome:
    """What one invocation came to: ``exit_code`` and ``label`` (module docstring table), and a short
    ``reason`` for a person (``HTTP 401 unauthorized``, ``1 batch item to retry``)."""

    exit_code: int
    label: str
    reason: str


@dataclass(frozen=True)
class PreparedEvent:
    """The event as the platform hands it over — ``event`` (bytes on FC, JSON on Lambda, an environ for
    WSGI) — the ``platform``, whether it is a WSGI call, and the invocation's ``context``."""

    event: Any
    platform: str
    context: Any
    wsgi: bool = False


@dataclass
class Invocation:
    """One finished invocation: the handler's ``answer`` (or the ``error`` it raised), the log
    ``records`` it wrote, its ``outcome``, the ``context`` it got, and how long it took (ms)."""

    function: str
    platform: str
    context: Any
    answer: Any = None
    error: BaseException | None = None
    records: list[logging.LogRecord] = field(default_factory=list)
    outcome: InvokeOutcome = field(default_factory=lambda: InvokeOutcome(EXIT_OK, "ok", ""))
    duration_ms: float = 0.0
    wsgi: bool = False

    @property
    def platform_request_id(self) -> str | None:
        """The request id the context carried (FC ``request_id``, Lambda ``aws_request_id``)."""
        from pushfn.logs import platform_request_id

        return platform_request_id(self.context)


def load_handler(function: str) -> Callable[..., Any]:
    """The deployed handler of ``function`` (a key of :data:`~pushfn.functions.HANDLERS`), imported now and wrapped as
    its ``index.py`` wraps it.

    Raises :class:`LocalInputError` for another name.
    """
    target = HANDLERS.get(function)
    if target is None:
        raise LocalInputError("FUNCTION", "unknown", f"{function!r} is not one of {', '.join(HANDLERS)}")
    return _deployed(target)


def _deployed(target: str) -> Callable[..., Any]:
    """``module:attribute`` imported and wrapped by :func:`~pushfn.logs.entry_point`, as each
    ``index.py`` wraps it (request id bound on every log record); looked up at each call, so a test
    may replace the module's attribute."""
    from pushfn.logs import entry_point

    module, _, attribute = target.partition(":")
    return entry_point(getattr(importlib.import_module(module), attribute))


def _use_settings(settings: Settings, function: str) -> None:
    """Make ``settings`` the process runtime's, and the HTTP app's for ``http_push`` (a setting the app
    refuses is left for the handler to report, as it would from the environment)."""
    from pushfn.errors import ConfigurationError
    from pushfn.runtime import Runtime, set_runtime

    runtime = Runtime(settings=settings)
    set_runtime(runtime)
    if function == HTTP_PUSH:
        from pushfn.http import create_app, set_default_app

        with contextlib.suppress(ConfigurationError):
            set_default_app(create_app(runtime=runtime))


def read_event(source: str, stdin: IO[bytes], option: str = "--event") -> bytes:
    """The bytes of the file ``source`` (``-``: ``stdin``) given to ``option``, at most :data:`MAX_EVENT_BYTES`.

    Raises :class:`LocalInputError` naming the option, the file and why it cannot be read (missing,
    a folder, unreadable, too large; an ``--event`` also not empty).
    """
    shown = "standard input" if source == "-" else repr(source)
    try:
        if source == "-":
            data = stdin.read(MAX_EVENT_BYTES + 1)
        else:
            with open(source, "rb") as handle:
                data = handle.read(MAX_EVENT_BYTES + 1)
    except IsADirectoryError:
        raise LocalInputError(option, "read", f"{shown} is a folder, not a file") from None
    except OSError as exc:
        raise LocalInputError(option, "read", f"cannot read {shown}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_EVENT_BYTES:
        raise LocalInputError(option, "size", f"{shown} is larger than {MAX_EVENT_BYTES} bytes (the FC limit)")
    if option == "--event" and not data.strip():
        raise LocalInputError("--event", "empty", f"{shown} is empty; print one with 'pushfn event KIND'")
    return bytes(data)


def prepare_event(
    raw: bytes,
    function: str,
    platform: str | None = None,
    *,
    timeout_seconds: int = 60,
    request_id: str | None = None,
) -> PreparedEvent:
    """``raw`` as ``platform`` would hand it to ``function``'s handler, with a fresh context (see the
    module docstring; ``timeout_seconds`` and ``request_id`` are the context's).

    ``platform`` ``None`` reads it from the event's shape. Raises :class:`LocalInputError` when the
    event is not JSON (and not an MNS STREAM body for ``queue_push`` on FC), or cannot be a WSGI
    environ, or names a platform that cannot deliver it.
    """
    from pushfn.json_input import JsonInputError, decode_json
    from pushfn.local.environ import environ_from_json, is_environ_json

    def context(chosen: str) -> Any:
        return make_context(chosen, function, timeout_seconds=timeout_seconds, request_id=request_id)

    try:
        data = decode_json(raw, max_string_chars=_EVENT_MAX_STRING_CHARS)
    except JsonInputError as exc:
        if function == QUEUE_PUSH and platform in (None, FC):
            return PreparedEvent(raw, FC, context(FC))  # an MNS STREAM message: FC passes the raw body
        where = f" at {exc.path}" if exc.path else ""
        raise LocalInputError("--event", exc.rule, f"the event is not usable JSON{where}: {exc.detail[:300]}") from None
    if is_environ_json(data):
        if platform == AWS:
            raise LocalInputError("--platform", "conflict", "an FC 2.0 WSGI environ (fc2-http) is delivered by FC only")
        fc_context = context(FC)
        return PreparedEvent(environ_from_json(data, fc_context), FC, fc_context, wsgi=True)
    chosen = platform or guess_platform(data)
    return PreparedEvent(raw if chosen == FC else data, chosen, context(chosen))


def guess_platform(data: Any) -> str:
    """``aws`` for the shapes only AWS sends (API Gateway, Function URL, SQS/S3 records, EventBridge,
    Scheduler input), ``fc`` for everything else."""
    if not isinstance(data, Mapping):
        return FC
    if "httpMethod" in data or data.get("version") == "2.0" or "detail-type" in data or "scheduled_time" in data:
        return AWS
    records = data.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        source = str(records[0].get("eventSource") or records[0].get("EventSource") or "")
        if source.startswith(_AWS_SOURCES):
            return AWS
    return FC


def invoke(
    function: str,
    raw_event: bytes,
    *,
    platform: str | None = None,
    timeout_seconds: int = 60,
    request_id: str | None = None,
    settings: Settings | None = None,
) -> Invocation:
    """Run ``function``'s handler once with ``raw_event`` and return what happened.

    ``timeout_seconds`` is the function's configured timeout as the context reports it (nothing is
    stopped when it passes). ``settings`` (a :class:`~pushfn.settings.Settings`) replace the environment's
    as the process runtime's (and the HTTP app's); default: the environment, as in a function. Raises
    :class:`LocalInputError` for an unknown function or an event it cannot deliver; whatever the
    handler raises is caught and classified (:func:`classify`).
    """
    handler = load_handler(function)
    if settings is not None:
        _use_settings(settings, function)
    prepared = prepare_event(raw_event, function, platform, timeout_seconds=timeout_seconds, request_id=request_id)
    invocation = Invocation(function, prepared.platform, prepared.context, wsgi=prepared.wsgi)
    with _captured(invocation.records, invocation.platform_request_id):
        started = time.perf_counter()
        try:
            if prepared.wsgi:
                from pushfn.triggers.events.http import call_wsgi

                answer = call_wsgi(handler, prepared.event)
                invocation.answer = {
                    "status": answer.status,
                    "reason": answer.reason,
                    "headers": answer.headers,
                    "body": answer.body.decode("utf-8", "replace"),
                }
            else:
                invocation.answer = handler(prepared.event, prepared.context)
        except Exception as exc:  # the platform would record it; here it is the outcome
            invocation.error = exc
        invocation.duration_ms = (time.perf_counter() - started) * 1000
    invocation.outcome = classify(invocation.answer, invocation.error, invocation.records)
    return invocation


def classify(answer: Any, error: BaseException | None, records: Sequence[logging.LogRecord] = ()) -> InvokeOutcome:
    """The :class:`InvokeOutcome` of an answer (or raised ``error``) and the ``records`` logged meanwhile;
    the rules are the module docstring's table."""
    from pushfn.triggers import RetryLaterError

    if isinstance(error, RetryLaterError):
        return InvokeOutcome(EXIT_RETRY, "retry", str(error))
    if error is not None:
        return InvokeOutcome(EXIT_FAILED, "failed", f"the handler raised {type(error).__name__}: {error}{_hint(error)}")
    if isinstance(answer, Mapping):
        status = answer.get("statusCode", answer.get("status")) if _is_http(answer) else None
        if isinstance(status, int):
            return _http_outcome(status, answer.get("body"))
        retries = answer.get("batchItemFailures")
        if isinstance(retries, list) and retries:
            return InvokeOutcome(EXIT_RETRY, "retry", f"{len(retries)} batch item(s) to retry")
        refused = _refused(answer)
        if refused:
            return InvokeOutcome(EXIT_REFUSED, "refused", refused)
    errors = [r for r in records if r.levelno >= logging.ERROR]
    if errors:
        return InvokeOutcome(EXIT_REFUSED, "refused", f"the function logged an error: {errors[0].getMessage()[:200]}")
    return InvokeOutcome(EXIT_OK, "ok", "handled")


def _hint(error: BaseException) -> str:
    """How to get an optional cloud SDK the handler missed ("" for any other error)."""
    name = (getattr(error, "name", None) or "").split(".")[0] if isinstance(error, ImportError) else ""
    extra = OPTIONAL_MODULES.get(name)
    if extra is None:
        return ""
    hint = f" (an optional dependency: pip install 'pushfn[{extra}]'"
    if name == "oss2":
        hint += ", or read the objects from a local folder with PUSHFN_FILE_ROOT"
    return hint + ")"


def _is_http(answer: Mapping[str, Any]) -> bool:
    return "statusCode" in answer or ("status" in answer and "headers" in answer and "body" in answer)


def _http_outcome(status: int, body: Any) -> InvokeOutcome:
    if status < 400:
        return InvokeOutcome(EXIT_OK, "ok", f"HTTP {status}")
    problem = _problem_type(body)
    shown = f"HTTP {status}" + (f" {problem.rsplit(':', 1)[-1]}" if problem else "")
    if problem in _BROKEN_PROBLEMS:
        return InvokeOutcome(EXIT_FAILED, "failed", shown)
    if status >= 500 or status in RETRYABLE_4XX:
        return InvokeOutcome(EXIT_RETRY, "retry", shown)
    return InvokeOutcome(EXIT_REFUSED, "refused", shown)


def _problem_type(body: Any) -> str | None:
    import json

    if not isinstance(body, str):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # a base64 or non-JSON body: the status alone tells
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _refused(answer: Mapping[str, Any]) -> str | None:
    """Why a job's summary says something was refused for good, or None: a tick or event ``invalid``
    or ``partial``, messages failed permanently, an object record malformed, a file rejected or with
    failed chunks."""
    status = answer.get("status")
    if status in ("invalid", "partial"):
        return f"status {status}"
    failed = answer.get("failed_permanently")
    if isinstance(failed, int) and failed:
        return f"{failed} message(s) failed permanently"
    for record in answer.get("skipped") or []:
        # A record of another event kind is skipped by design; a malformed one was never read.
        if isinstance(record, Mapping) and record.get("reason") == "malformed":
            return f"object record {record.get('index')} malformed: {str(record.get('detail'))[:120]}"
    for item in answer.get("files") or []:
        if not isinstance(item, Mapping):
            continue
        totals = item.get("totals") if isinstance(item.get("totals"), Mapping) else {}
        if item.get("status") == "rejected":
            return f"file {item.get('key')!r} rejected"
        if totals.get("failed"):
            return f"file {item.get('key')!r}: {totals['failed']} chunk(s) failed"
    return None


class _Collector(logging.Handler):
    def __init__(self, records: list[logging.LogRecord], request_id: str | None) -> None:
        super().__init__(logging.INFO)
        self.records = records
        self.request_id = request_id
        from pushfn.logs import MaskingFilter, RequestIdFilter

        self.addFilter(MaskingFilter())  # other libraries' records are scrubbed too
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        from pushfn.logs import PLATFORM_REQUEST_ID

        if not getattr(record, PLATFORM_REQUEST_ID, None):  # a thread of another library's, unbound
            setattr(record, PLATFORM_REQUEST_ID, self.request_id)
        self.records.append(record)


class _captured:
    """Collect every INFO+ record of pushfn (WARNING+ of other libraries) during the invocation, each
    carrying the invocation's ``platform_request_id``."""

    def __init__(self, records: list[logging.LogRecord], request_id: str | None) -> None:
        self._handler = _Collector(records, request_id)
        self._pushfn = logging.getLogger("pushfn")
        self._level = self._pushfn.level

    def __enter__(self) -> None:
        logging.getLogger().addHandler(self._handler)
        if self._pushfn.getEffectiveLevel() > logging.INFO:
            self._pushfn.setLevel(logging.INFO)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self._handler)
        self._pushfn.setLevel(self._level)
