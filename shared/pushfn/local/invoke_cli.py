"""``pushfn invoke`` and ``pushfn event``: their arguments, output and exit codes.

``pushfn event KIND [options]`` prints one platform event (:mod:`pushfn.local.sample_events`) on
stdout; ``pushfn invoke FUNCTION [--event FILE|-]`` runs the function's handler with it
(:mod:`pushfn.local.invoke`) and prints the handler's answer on stdout (a raised error as Lambda
shows one: ``{"errorType", "errorMessage"}``), its log records on stderr in ``pushfn serve``'s forms
(:class:`~pushfn.logs.TextFormatter` by default; ``--log-format json``: the functions' cloud lines,
:class:`~pushfn.logs.JsonFormatter`, each with its ``platform_request_id``), and one summary line
(``invoked FUNCTION on PLATFORM, request ID: REASON → LABEL, exit N (MS ms)``; not ``pushfn:``-prefixed,
which marks errors). Exit codes of ``invoke``: 0 ok, 1 the handler failed (raised, or is
misconfigured), 2 bad input to ``invoke`` itself, 3 the function refused the event, 4 the platform
would retry it (table: :mod:`pushfn.local.invoke`). ``event``: 0 printed, 2 bad option.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pushfn.local.errors import LocalInputError

#: The event ``invoke`` runs without ``--event``: the function's usual trigger on each platform.
DEFAULT_KIND = {
    "fc": {"http_push": "fc3-http", "scheduled_push": "fc-timer", "queue_push": "mns-topic", "file_push": "oss"},
    "aws": {"http_push": "apigw-v2", "scheduled_push": "scheduler", "queue_push": "sqs", "file_push": "s3"},
}
EXIT_BAD_INPUT = 2


def register_invoke_commands(sub: Any) -> None:
    """Add ``invoke`` and ``event`` to the ``pushfn`` sub-command parsers ``sub``."""
    from pushfn.functions import FUNCTION_NAMES
    from pushfn.local.invoke import RETRYABLE_4XX
    from pushfn.local.sample_events import KINDS, MNS_FORMATS

    _retryable = "/".join(str(status) for status in sorted(RETRYABLE_4XX))

    invoke = sub.add_parser(
        "invoke",
        help="run one function's handler with an event, as FC or Lambda would (like 'sam local invoke')",
        description="Run FUNCTION's deployed handler once with an event, through the platform's adapter, with "
        "a fake context (request id, timeout). Settings come from the environment, as in the cloud: point "
        "PUSH_ENDPOINT at 'pushfn emulator' to push locally. Prints the handler's answer on stdout, its log "
        "lines (readable, or JSON with the request id) and a summary on stderr.",
        epilog="exit codes: 0 ok, 1 the handler failed (raised, or misconfigured), 2 bad input to invoke, "
        f"3 the function refused the event (HTTP 4xx but {_retryable}, invalid tick, message dead-lettered, "
        "file rejected), "
        f"4 the platform would retry it (RetryLaterError, SQS batchItemFailures, HTTP {_retryable}/5xx)",
    )
    invoke.add_argument("function", choices=FUNCTION_NAMES, metavar="FUNCTION", help=", ".join(FUNCTION_NAMES))
    invoke.add_argument(
        "--event",
        metavar="FILE",
        help="the event: a file or '-' for stdin, e.g. from 'pushfn event KIND' (default: a sample of the "
        "function's usual trigger on --platform, signed when PUSHFN_WEBHOOK_SECRETS is set or pushfn serve "
        "keeps a secret)",
    )
    invoke.add_argument(
        "--platform", choices=("fc", "aws"), help="who delivers it (default: read from the event's shape)"
    )
    invoke.add_argument(
        "--timeout", type=_timeout, default=60, metavar="SECONDS", help="the function's timeout (default: 60)"
    )
    invoke.add_argument("--request-id", type=_request_id, help="the context's request id (default: a new UUID)")
    invoke.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="the function's log lines on stderr (default: text; json: as the functions write them in the cloud)",
    )
    invoke.set_defaults(run=_run_invoke)

    event = sub.add_parser(
        "event",
        help="print a sample platform event for 'pushfn invoke' (like 'sam local generate-event')",
        description="Print one event of KIND, as the platform would deliver it, built from the options. Every "
        "kind but oss/s3 and eventbridge carries a push to the alias 'demo' unless --body says otherwise; an "
        "eventbridge rule event carries no payload (detail {}, as a rule sends it): its push is the rule --name's "
        "entry in PUSHFN_SCHEDULES, or a JSON object --body as its detail.",
        epilog="kinds: fc2-http (the WSGI environ as JSON), fc3-http, apigw-v1, apigw-v2, function-url, fc-timer, "
        "eventbridge, scheduler, sqs, mns-topic, mns-queue, oss, s3. Exit codes: 0 printed, 2 bad option.",
    )
    event.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    body = event.add_mutually_exclusive_group()
    body.add_argument("--body", help="the request body, timer payload or message body (text)")
    body.add_argument("--body-file", metavar="FILE", help="the same, read from a file ('-' for stdin)")
    event.add_argument("--method", help="HTTP method (default: POST)")
    event.add_argument("--path", help="HTTP path, optionally with ?query (default: /push)")
    event.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="an HTTP header (repeatable)"
    )
    event.add_argument(
        "--sign",
        action="store_true",
        help="add Standard Webhooks signature headers (secret: --secret, else PUSHFN_WEBHOOK_SECRETS, else the "
        "one 'pushfn serve' keeps in the data folder)",
    )
    event.add_argument("--secret", help="the webhook secret to sign with (implies --sign; whsec_… or ≥ 24 bytes)")
    event.add_argument("--name", help="the timer trigger, rule or schedule name")
    event.add_argument("--time", help="the trigger, send or upload time, ISO-8601 (default: now)")
    event.add_argument("--format", choices=MNS_FORMATS, help="mns-topic: stream (the raw body; default) or json")
    event.add_argument("--key", help="the object key, plain (default: targets.csv); s3 form-encodes it")
    event.add_argument("--bucket", help="the bucket name")
    event.set_defaults(run=_run_event)


def _timeout(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= 86400:
        raise argparse.ArgumentTypeError("expected whole seconds from 1 to 86400")
    return seconds


def _request_id(value: str) -> str:
    if not value or len(value) > 128 or not value.isascii() or not value.isprintable():
        raise argparse.ArgumentTypeError("expected 1-128 printable ASCII characters")
    return value


# --- invoke --------------------------------------------------------------------------------------


def _run_invoke(args: argparse.Namespace) -> int:
    from pushfn.local.invoke import invoke, read_event
    from pushfn.logs import JsonFormatter, TextFormatter, assume_configured, logging_configured

    if logging_configured() is None:
        assume_configured("pushfn invoke")  # its records are printed below: the handler's wrapper adds no handler

    try:
        raw = read_event(args.event, sys.stdin.buffer) if args.event else _default_event(args)
        invocation = invoke(
            args.function,
            raw,
            platform=args.platform,
            timeout_seconds=args.timeout,
            request_id=args.request_id,
            settings=_kept_auth_settings(args.function),
        )
    except LocalInputError as exc:
        _fail("invoke", exc)
        return EXIT_BAD_INPUT
    formatter = JsonFormatter() if args.log_format == "json" else TextFormatter()
    for record in invocation.records:
        print(formatter.format(record), file=sys.stderr)
    print(json.dumps(_shown_answer(invocation), indent=2, ensure_ascii=False, default=str))
    outcome = invocation.outcome
    print(
        f"invoked {invocation.function} on {invocation.platform}{' (WSGI)' if invocation.wsgi else ''}, "
        f"request {invocation.platform_request_id}: {outcome.reason} → {outcome.label}, exit {outcome.exit_code} "
        f"({invocation.duration_ms:.0f} ms)",
        file=sys.stderr,
    )
    sys.stdout.flush()
    return outcome.exit_code


def _default_event(args: argparse.Namespace) -> bytes:
    from pushfn.local.sample_events import HTTP_KINDS, SampleOptions, sample_event, signing_secret

    kind = DEFAULT_KIND[args.platform or "fc"][args.function]
    options = SampleOptions()
    if kind in HTTP_KINDS:
        try:
            configured = _configured_secrets()
        except LocalInputError:
            configured = None  # the handler reports the broken setting itself
        if configured:
            options = SampleOptions(secret=signing_secret(None, configured))
    return sample_event(kind, options)


def _kept_auth_settings(function: str) -> Any:
    """The environment's settings with the secrets ``pushfn serve`` keeps (``serve-auth.json`` in the data
    folder) for ``http_push`` when the environment names none of its own; ``None`` (the environment as
    it is) for the other functions, when nothing is kept, or when the settings are broken (the handler
    reports that itself)."""
    from pushfn.functions import HTTP_PUSH

    if function != HTTP_PUSH:
        return None
    from pushfn.errors import ConfigurationError
    from pushfn.secret_refs import load_settings
    from pushfn.serve.local_auth import data_folder, http_overrides, read_kept

    try:
        base = load_settings()
        kept = None if base.pushfn_http_auth == "none" else read_kept(data_folder(base))
    except ConfigurationError:
        return None
    changes = http_overrides(base, kept) if kept is not None else {}
    return base.replace(**changes) if changes else None


def _shown_answer(invocation: Any) -> Any:
    from pushfn.logs import scrub_text

    if invocation.error is not None:
        return {"errorType": type(invocation.error).__name__, "errorMessage": scrub_text(str(invocation.error))}
    answer = invocation.answer
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


# --- event ---------------------------------------------------------------------------------------


def _run_event(args: argparse.Namespace) -> int:
    from pushfn.local.sample_events import sample_event

    try:
        data = sample_event(args.kind, _sample_options(args))
    except LocalInputError as exc:
        _fail("event", exc)
        return EXIT_BAD_INPUT
    out = sys.stdout.buffer
    out.write(data)
    if sys.stdout.isatty() and not data.endswith(b"\n"):
        out.write(b"\n")  # a raw STREAM body is printed exactly; a newline only for the terminal
    out.flush()
    return 0


def _sample_options(args: argparse.Namespace) -> Any:
    from pushfn.json_input import JsonInputError, check_text
    from pushfn.local.invoke import read_event
    from pushfn.local.sample_events import SampleOptions, parse_header, parse_time, signing_secret

    for option, value in (("--body", args.body), ("--name", args.name), ("--key", args.key), ("--path", args.path),
                          ("--bucket", args.bucket), ("--method", args.method)):  # fmt: skip
        if value is not None:
            try:
                check_text(value, option)  # argv bytes that are not UTF-8 arrive as lone surrogates
            except JsonInputError as exc:
                raise LocalInputError(option, exc.rule, exc.detail) from None
    # --sign may carry no secret here (a kind that takes none): named, so the kind can refuse it.
    given = {"--sign"} if args.sign or args.secret is not None else set()
    body: bytes | None = None
    if args.body is not None:
        body = args.body.encode("utf-8")
    elif args.body_file is not None:
        body = read_event(args.body_file, sys.stdin.buffer, "--body-file")
    secret = None
    if "--sign" in given and args.kind in _http_kinds():
        secret = signing_secret(args.secret, _configured_secrets() if args.secret is None else None)
    method = args.method.strip().upper() if args.method is not None else None
    if method is not None and not (method.isascii() and method.isalpha()):
        raise LocalInputError("--method", "format", "expected an HTTP method such as POST")
    return SampleOptions(
        body=body,
        method=method,
        path=args.path,
        headers=tuple(parse_header(h) for h in args.header),
        secret=secret,
        name=args.name,
        time=parse_time(args.time) if args.time is not None else None,
        format=args.format,
        key=args.key,
        bucket=args.bucket,
        given=frozenset(given),
        body_option="--body-file" if args.body_file is not None else "--body",
    )


def _http_kinds() -> tuple[str, ...]:
    from pushfn.local.sample_events import HTTP_KINDS

    return HTTP_KINDS


def _configured_secrets() -> str | None:
    """``PUSHFN_WEBHOOK_SECRETS``, else the webhook secret ``pushfn serve`` keeps in the data folder, else
    ``None``. Raises :class:`LocalInputError` for a broken setting or kept file (never a value)."""
    from pushfn.serve.local_auth import LocalAuthError, data_folder, read_kept
    from pushfn.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise LocalInputError("PUSHFN_WEBHOOK_SECRETS", "setting", str(exc)) from None
    if settings.pushfn_webhook_secrets:
        return settings.pushfn_webhook_secrets
    try:
        kept = read_kept(data_folder(settings))
    except LocalAuthError as exc:
        raise LocalInputError("--sign", "secret", str(exc)) from None
    return kept.webhook_secret if kept is not None else None


def _fail(command: str, exc: LocalInputError) -> None:
    """One line on stderr, like every other ``pushfn`` error (newlines would forge more lines)."""
    print(f"pushfn: {command}: {' '.join(str(exc).splitlines())}", file=sys.stderr)
