"""The ``pushfn serve`` command: flags, the start-up banner, ``--fire``, and a clean exit on Ctrl-C/SIGTERM.

Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM), ``--fire`` ran the schedule, or ``--print-api-key``
printed the key; 2 bad input (a bad schedule or setting, a port in use, an unknown schedule for
``--fire``); 3 the fired tick failed; 4 no ``pushfn serve`` answering on ``--http-port`` for ``--fire``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_NETWORK = 0, 2, 3, 4
#: Seconds a stop may take before the command says what it is waiting for.
_STOP_NOTICE_SECONDS = 5.0


def add_serve_command(sub: Any, port_type: Any) -> None:
    """Add ``serve`` to the ``pushfn`` sub-command parsers ``sub`` (``port_type`` checks a TCP port)."""
    serve = sub.add_parser(
        "serve",
        help="run everything locally: emulator + inbox, HTTP function, schedules, a bucket folder, a queue",
        description="Start, on loopback, the CloudPush emulator and its inbox, the HTTP function, the timer "
        "function on the schedules of pushfn.toml / template.yaml / s.yaml, a watched folder acting as the "
        "bucket of the file function, and an in-process queue for the queue function. Needs no configuration. "
        "Ctrl-C stops it.",
        epilog="exit codes: 0 stopped cleanly, 2 bad input, 3 the fired tick failed, 4 no pushfn serve to --fire at",
    )
    serve.add_argument("--http-port", type=port_type, default=9000, help="HTTP function port (default: %(default)s)")
    serve.add_argument(
        "--emulator-port", type=port_type, default=9100, help="emulator and inbox port (default: %(default)s)"
    )
    serve.add_argument(
        "--bucket-dir",
        type=Path,
        default=Path("pushfn-bucket"),
        help="the watched bucket folder (default: %(default)s)",
    )
    serve.add_argument(
        "--config",
        action="append",
        type=Path,
        metavar="FILE",
        help="schedules from this pushfn.toml, SAM template or s.yaml (repeatable; default: those of them in the "
        "current folder)",
    )
    serve.add_argument("--no-auth", action="store_true", help="the HTTP function takes unauthenticated calls")
    serve.add_argument("--demo", action="store_true", help="once up, send one webhook push and drop a sample file")
    serve.add_argument(
        "--fire",
        metavar="NAME",
        help="fire schedule NAME now in the pushfn serve running on --http-port, print its answer and exit",
    )
    serve.add_argument(
        "--print-api-key",
        action="store_true",
        help="print the local API key kept in the data folder (made if missing) and exit, for scripts: "
        'curl -H "Authorization: Bearer $(pushfn serve --print-api-key)" …',
    )
    serve.add_argument(
        "--max-receives",
        type=_receives,
        default=3,
        metavar="N",
        help="receives of a queue record (deliveries of a tick) that asks to be retried before it goes to the "
        "dead letters, as SQS's maxReceiveCount (default: %(default)s)",
    )
    serve.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines (default: text)")
    serve.add_argument("-v", "--verbose", action="store_true", help="also show the functions' own log lines")
    serve.set_defaults(run=run, configures_logging=True)  # configure_logging below; not the CLI's handler


def run(args: argparse.Namespace) -> int:
    """``pushfn serve``: start, print the banner, wait for Ctrl-C/SIGTERM, stop; the exit code."""
    if args.fire:
        return _fire(args.fire, args.http_port)
    if args.print_api_key:
        return _print_api_key()
    import logging
    import threading

    from pushfn.cli import stop_on_signals
    from pushfn.emulator.errors import EmulatorError
    from pushfn.errors import ConfigurationError
    from pushfn.logs import configure_logging
    from pushfn.serve.schedules import ScheduleError, default_files, read_schedule_files
    from pushfn.serve.server import Serve, ServeOptions
    from pushfn.settings import Settings

    configure_logging(args.log_format, stream=sys.stderr)
    # One line per invocation: the functions' own records only when asked, or when they warn.
    logging.getLogger("pushfn").setLevel(logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("pushfn.serve").setLevel(logging.INFO)
    try:
        settings = Settings.from_env()
        files = args.config if args.config is not None else default_files(Path.cwd())
        schedules = read_schedule_files(list(files))
    except (ScheduleError, ConfigurationError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    options = ServeOptions(
        http_port=args.http_port,
        emulator_port=args.emulator_port,
        bucket_dir=args.bucket_dir,
        config=list(files),
        no_auth=args.no_auth,
        demo=args.demo,
        log_format=args.log_format,
        verbose=args.verbose,
        schedules=schedules,
        max_receives=args.max_receives,
    )
    serve = Serve(options, settings, sys.stdout)
    with stop_on_signals() as stop:
        try:
            try:
                serve.start()
            except (ConfigurationError, EmulatorError) as exc:
                _err(str(exc))
                return EXIT_BAD_INPUT
            except OSError as exc:
                _err(f"cannot listen ({exc.strerror or exc}); pick other ports with --http-port / --emulator-port")
                return EXIT_BAD_INPUT
            print(banner(serve), flush=True)
            if args.demo:
                serve.demo()
            while not stop.wait(0.5):  # a bounded wait: signal handlers run in this thread between waits
                pass
            print("pushfn serve: stopping (work in flight finishes)…", flush=True)
            serve.stop()
            left = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive())
            if left:  # every part joins its threads on stop; one still running is a bug worth seeing
                _err(f"threads still running after the stop: {', '.join(left)}")
            return EXIT_OK
        finally:
            serve.stop()


def banner(serve: Any) -> str:
    """What runs where, and what to try next (secrets included: they are this machine's own)."""
    http, emulator = serve.http.url, serve.emulator.url
    lines = ["pushfn serve — everything on this machine (Ctrl-C stops)", ""]
    lines.append(f"  HTTP function   {http}   (POST /push, GET /health, GET /openapi.json)")
    if serve.service == "real":
        lines += [
            "",
            "  !!! PUSH SERVICE: THE REAL ALIBABA CLOUD PUSH (https://cloudpush.aliyuncs.com) !!!",
            "  !!! real credentials are set and PUSH_ENDPOINT is not: pushes reach real devices. !!!",
            f"  !!! To use the emulator instead: export PUSH_ENDPOINT={emulator}                !!!",
            "",
        ]
    elif serve.service == "endpoint":
        lines.append(f"  push service    {serve.settings.push_endpoint}   (PUSH_ENDPOINT)")
    else:
        lines.append(f"  push service    the emulator at {emulator}   (demo device alias '{_alias()}')")
    lines.append(f"  inbox           {emulator}/")
    lines.append(f"  bucket folder   {serve.bucket}   (drop .csv/.txt/.jsonl; the report appears beside it)")
    lines.append("  queue           in process (POST /_serve/queue; the file function's fan-out)")
    lines.append(f"  data folder     {serve.data_dir}   (idempotency.db, emulator.db, serve-auth.json)")
    if not serve.schedules:
        lines.append("  schedules       none (declare them in pushfn.toml, template.yaml or s.yaml)")
    for index, schedule in enumerate(serve.schedules.values()):
        label = "schedules" if index == 0 else ""
        state = "" if schedule.enabled else "  (disabled: fires only with --fire)"
        lines.append(f"  {label:<15} {schedule.name}  {schedule.expression}  [{schedule.source}]{state}")
    auth = ""
    if serve.auth is not None:
        from pushfn.serve.local_auth import configured_api_keys, configured_webhook_secrets

        secrets, keys = configured_webhook_secrets(serve.base_settings), configured_api_keys(serve.base_settings)
        # What the HTTP function accepts: the environment's own secrets replace the stored ones.
        shown = f"yours ({secrets}; the stored one is not used)" if secrets else serve.auth.webhook_secret
        lines.append(f"  webhook secret  {shown}")
        if keys:
            lines.append(f"  API key         yours ({keys}; the stored one is not accepted)")
            auth = " -H 'Authorization: Bearer <one of your keys>'"
        else:
            lines.append(f"  API key         {serve.auth.api_key}   (tenant '{serve.auth.tenant}')")
            auth = f" -H 'Authorization: Bearer {serve.auth.api_key}'"
    else:
        lines.append("  auth            none (--no-auth)")
    body = (
        '{"Target": "ALIAS", "TargetValue": "demo", "DeviceType": "ANDROID", "PushType": "NOTICE", '
        '"Title": "Hi", "Body": "Hello"}'
    )
    lines += [
        "",
        "Try:",
        f"  curl -s {http}/push{auth} -H 'Content-Type: application/json' -d '{body}'",
        f"  printf 'device_id\\n{_device()}\\n' > {serve.bucket}/hello.csv   "
        "(content: hello.csv.push.json beside it, else PUSHFN_FILE_PUSH_SPEC"
        + (", else a greeting)" if serve.service == "emulator" else ", else it is rejected)"),
    ]
    if serve.schedules:
        port = serve.http.port
        flag = "" if port == 9000 else f" --http-port {port}"
        lines.append(f"  pushfn serve --fire {next(iter(serve.schedules))}{flag}")
    lines.append(f"  open {emulator}/   (every push, live)")
    return "\n".join(lines)


def _receives(text: str) -> int:
    """``--max-receives``: a whole number from 1 to 1000 (SQS's maxReceiveCount range)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1000 (SQS's maxReceiveCount), not {text!r}")
    return value


def _alias() -> str:
    from pushfn.serve.server import DEMO_ALIAS

    return DEMO_ALIAS


def _device() -> str:
    from pushfn.serve.server import DEMO_DEVICE

    return DEMO_DEVICE


def _print_api_key() -> int:
    """Print the kept local API key (the one ``pushfn serve`` accepts), making the pair when missing; when
    the environment names its own keys (or turns auth off) the stored key is not accepted, so nothing is
    printed and stderr says why (exit 2)."""
    from pushfn.errors import ConfigurationError
    from pushfn.serve.local_auth import configured_api_keys, data_folder, load_or_create
    from pushfn.settings import Settings

    try:
        settings = Settings.from_env()
        configured = configured_api_keys(settings)
        if configured:
            # The stored key would only earn a 401: the HTTP function accepts the configured keys instead.
            _err(
                f"{configured} is set: pushfn serve's HTTP function accepts those API keys, not the locally "
                "stored one; use one of yours (or unset it to use the stored key)"
            )
            return EXIT_BAD_INPUT
        if settings.pushfn_http_auth == "none":
            _err("PUSHFN_HTTP_AUTH=none: the HTTP function takes calls without an API key")
            return EXIT_BAD_INPUT
        auth = load_or_create(data_folder(settings))
    except ConfigurationError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    print(auth.api_key)
    return EXIT_OK


def _fire(name: str, port: int) -> int:
    """Ask the ``pushfn serve`` on ``port`` to fire ``name``; print its answer."""
    import json

    import requests

    from pushfn.cli import control_call

    url = f"http://127.0.0.1:{port}/_serve/fire/{requests.utils.quote(name, safe='')}"
    try:
        status, answer = control_call("POST", url, {}, 300)
    except requests.RequestException as exc:
        _err(f"no pushfn serve answering on 127.0.0.1:{port} ({type(exc).__name__}); start it, or pass --http-port")
        return EXIT_NETWORK
    if status == 404 and isinstance(answer, dict) and "error" in answer:
        _err(str(answer["error"]))
        return EXIT_BAD_INPUT
    if status != 200 or not isinstance(answer, dict):
        detail = answer.get("error") if isinstance(answer, dict) else "not pushfn serve?"
        _err(f"firing {name!r} failed: HTTP {status}: {detail}")
        return EXIT_REFUSED
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return EXIT_OK if answer.get("status") == "ok" else EXIT_REFUSED


def _err(message: str) -> None:
    print(f"pushfn: serve: {' '.join(message.splitlines())}", file=sys.stderr, flush=True)


__all__ = ["add_serve_command", "banner", "run"]
