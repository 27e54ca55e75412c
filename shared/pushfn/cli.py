"""``pushfn`` command line: send pushes, run the emulator, inspect the idempotency store.

Exit codes (``push``, ``call``, ``emulator devices``): 0 sent, 2 bad input (names the field or the
setting and the rule), 3 the service refused (Code and RequestId shown), 4 network failure (names
the endpoint). ``store`` adds 1 "no record" (see :mod:`pushfn.idempotency.cli`); ``invoke`` and
``event`` have their own (see :mod:`pushfn.local.invoke_cli`). Every error is one
line on stderr starting with ``pushfn:``; log records appear only with ``--verbose``. argparse
only: the CLI starts fast and needs nothing extra.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from pushfn import __version__
from pushfn.logs import TextFormatter, mask

if TYPE_CHECKING:
    import threading

    from pushfn.settings import Settings

EXIT_OK, EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_NETWORK = 0, 2, 3, 4
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe.
EXIT_BROKEN_PIPE = 141

#: Demo device registered in the embedded emulator by ``pushfn demo``.
DEMO_DEVICE = "0123456789abcdef0123456789abcdef"

#: Largest ``--json`` document read (CloudPush requests are a few KB; this also stops ``/dev/zero``).
MAX_JSON_FILE_BYTES = 1 << 20


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``pushfn`` command; returns its exit code (argparse errors exit 2 through ``SystemExit``)."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words and not words[0].startswith("-") else None)
    args = parser.parse_args(words)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    # A command that installs its own logging (serve) gets no second handler: each record once.
    with _logging(getattr(args, "verbose", False) and not getattr(args, "configures_logging", False)):
        try:
            return int(args.run(args) or 0)
        except KeyboardInterrupt:
            _err("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`pushfn … | head`): stop quietly, as other Unix tools do. stdout is
            # pointed at /dev/null so the interpreter's final flush does not raise again.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE


class CliParser(argparse.ArgumentParser):
    """argparse with one-line ``pushfn: …`` errors, like every other error of the command.

    ``epilog_factory`` builds the epilog only when help is shown: ``pushfn call``'s list of actions
    needs every request model, which costs more than the rest of the CLI's start-up.
    """

    def __init__(self, *args: Any, epilog_factory: Callable[[], str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._epilog_factory = epilog_factory

    def format_help(self) -> str:
        """The ``--help`` text; the epilog is built on the first call (``epilog_factory``) and kept."""
        if self._epilog_factory is not None:
            self.epilog, self._epilog_factory = self._epilog_factory(), None
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        self.exit(EXIT_BAD_INPUT, f"pushfn: {where}{message} (see '{self.prog} --help')\n")


def supported_actions_help() -> str:
    """``pushfn call --help``'s list: each action with its required parameters."""
    from pushfn.push.models import request_types

    lines = ["supported actions (required parameters; AppKey comes from PUSH_APP_KEY / --app-key):"]
    for action, model in request_types().items():
        required = [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
        optional = [f.alias or n for n, f in model.model_fields.items() if not f.is_required() and n != "app_key"]
        extra = ""
        if optional:
            extra = f" [+ {', '.join(optional)}]" if len(optional) <= 4 else f" [+ {len(optional)} optional]"
        lines.append(f"  {action:<26}{', '.join(required) or '-'}{extra}")
    return "\n".join(lines)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``pushfn`` parser: every command, or with ``command`` (the command line's first word) the
    built-in ones and only that one of those other modules add (:data:`_ADDED_ELSEWHERE`: ``serve``,
    ``store``, ``invoke``/``event``, ``package``, ``deploy-check``), so a command's cold start imports
    only its own code."""
    parser = CliParser(
        prog="pushfn",
        description="Send mobile pushes through Alibaba Cloud Push, run its local emulator, inspect the "
        "idempotency store.",
        epilog="exit codes: 0 ok, 1 no record (store show), 2 bad input, 3 the service refused, 4 network failure",
    )
    parser.add_argument("--version", action="version", version=f"pushfn {__version__}", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser, help="one of:")

    push = sub.add_parser(
        "push",
        help="send one Push (validated before anything is sent)",
        description="Send one Push. Options, --param and --json combine; an option and a --param naming the "
        "same parameter is refused.",
        epilog="exit codes: 0 sent, 2 bad input, 3 the service refused, 4 network failure",
    )
    _add_connection_options(push)
    push.add_argument("--target", help="DEVICE, ACCOUNT, ALIAS, TAG, ALL or TBD (the Target parameter)")
    push.add_argument("--target-value", help="comma-separated targets, a tag expression, or ALL (TargetValue)")
    push.add_argument("--device-type", help="ANDROID, iOS, HARMONY or ALL (DeviceType)")
    push.add_argument("--push-type", help="NOTICE (a notification) or MESSAGE (in-app message) (PushType)")
    push.add_argument("--title", help="the Title (required for Android notices)")
    push.add_argument("--body", help="the Body text")
    _add_request_options(push)
    push.set_defaults(run=_run_push, action="Push")

    call = sub.add_parser(
        "call",
        help="call any supported action (BindAlias, QueryAliases, MassPush, …; see pushfn call --help)",
        description="Call one CloudPush action with parameters from --param and/or --json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog_factory=supported_actions_help,
    )
    call.add_argument("action", help="the CloudPush action name, e.g. BindAlias (listed below)")
    _add_connection_options(call)
    _add_request_options(call)
    call.set_defaults(run=_run_call)

    _add_emulator_commands(sub)

    demo = sub.add_parser(
        "demo",
        help="start the embedded emulator and send one push to it",
        description="Start an emulator on a free loopback port, register a demo device, push to it through "
        "the real signing client, print the MessageId, stop. Needs no configuration.",
    )
    demo.set_defaults(run=_run_demo)

    if command in _ADDED_ELSEWHERE:
        _ADDED_ELSEWHERE[command](sub)
    elif command not in _BUILT_IN:  # help, or a word that is no command: the list names every one
        for add in dict.fromkeys(_ADDED_ELSEWHERE.values()):
            add(sub)
    return parser


def _add_serve(sub: Any) -> None:
    from pushfn.serve.cli import add_serve_command

    add_serve_command(sub, _port)


def _add_store(sub: Any) -> None:
    from pushfn.idempotency.cli import register

    register(sub)


def _add_invoke_and_event(sub: Any) -> None:
    from pushfn.local.invoke_cli import register_invoke_commands

    register_invoke_commands(sub)


def _add_package(sub: Any) -> None:
    from pushfn.packaging import add_package_command

    add_package_command(sub)


def _add_deploy_check(sub: Any) -> None:
    from pushfn.deploy_check import add_deploy_check_command

    add_deploy_check_command(sub)


#: Commands this module defines (their modules are loaded with it).
_BUILT_IN = ("push", "call", "emulator", "demo")
#: Commands other modules define: each module is imported only when the command line names its command,
#: or when it names none of these (help, an error listing every command), so ``pushfn push`` never loads
#: the store, serve, invoke or packaging code.
_ADDED_ELSEWHERE: dict[str, Callable[[Any], None]] = {
    "serve": _add_serve,
    "store": _add_store,
    "invoke": _add_invoke_and_event,
    "event": _add_invoke_and_event,
    "package": _add_package,
    "deploy-check": _add_deploy_check,
}


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", type=_endpoint, help="CloudPush URL (default: env PUSH_ENDPOINT, else the service)")
    p.add_argument("--app-key", type=_app_key, help="the app's AppKey (default: env PUSH_APP_KEY)")
    p.add_argument("--signature-version", choices=("v2", "v3"), help="v2 HMAC-SHA1 or v3 ACS3 (default: env or v2)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print the client's log lines (JSON) to stderr")


def _add_request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one request parameter, API or snake_case name (repeat it; each name once)",
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        help="the request as a JSON object ('-' for stdin; UTF-8, a BOM is fine); options and --param override "
        "its keys",
    )
    p.add_argument("--idempotent-token", help="a UUID (Push, MassPush): repeats within 15 minutes push once")
    p.add_argument("--dry-run", action="store_true", help="validate and print the signed request; send nothing")


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = "" if "@" in value else f", got {value!r}"  # user:password@ must not be echoed
        raise argparse.ArgumentTypeError(f"expected an http(s) URL such as https://cloudpush.aliyuncs.com{shown}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise argparse.ArgumentTypeError("expected scheme://host[:port] only (no path, query or user)")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port in {value!r}") from None
    return value


def _app_key(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"expected the app's numeric AppKey, got {value!r}")
    return int(value)


def _ring_size(value: str) -> int:
    from pushfn.settings import EMULATOR_MAX_RING_SIZE

    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= EMULATOR_MAX_RING_SIZE:
        raise argparse.ArgumentTypeError(
            f"expected a number of entries from 1 to {EMULATOR_MAX_RING_SIZE}, got {value!r}"
        )
    return int(value)


def _port(value: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0–65535 (0 = any free port), got {value!r}")
    return int(value)


# --- push / call ---------------------------------------------------------------------------------


def _run_push(args: argparse.Namespace) -> int:
    options = {
        "Target": args.target,
        "TargetValue": args.target_value,
        "DeviceType": args.device_type,
        "PushType": args.push_type,
        "Title": args.title,
        "Body": args.body,
    }
    request = _request_from_args(args, {name: v for name, v in options.items() if v is not None})
    if request is None:
        return EXIT_BAD_INPUT
    return _execute("Push", request, args)


def _run_call(args: argparse.Namespace) -> int:
    request = _request_from_args(args, {})
    if request is None:
        return EXIT_BAD_INPUT
    return _execute(args.action, request, args)


def _request_from_args(args: argparse.Namespace, options: Mapping[str, str]) -> dict[str, Any] | None:
    """``--json``, then ``--param``, then the named options; ``None`` after reporting a problem."""
    from pushfn.json_input import JsonInputError, check_json_value

    request: dict[str, Any] = {}
    if args.json:
        loaded = _read_json_file(args.json)
        if loaded is None:
            return None
        request.update(loaded)
    given: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _err(f"--param {item!r}: expected NAME=VALUE (rule: format)")
            return None
        if name in given:
            _err(f"--param {name} given twice (rule: duplicate)")
            return None
        given[name] = value
    for name in options:
        if name in given:
            _err(f"{name} given both as an option and as --param (rule: duplicate)")
            return None
    request.update(given)
    request.update(options)
    try:
        # Command-line text that was not valid UTF-8 arrives as lone surrogates: refuse it by name.
        check_json_value(request)
    except JsonInputError as exc:
        _err(f"invalid {exc.path or '(request)'}: {exc.detail} (rule: {exc.rule})")
        return None
    return request


def _read_json_file(name: str) -> dict[str, Any] | None:
    from pushfn.json_input import JsonInputError, decode_json, describe_json_type

    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_JSON_FILE_BYTES + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(MAX_JSON_FILE_BYTES + 1)
    except OSError as exc:
        _err(f"--json {name}: cannot read the file ({exc.strerror or type(exc).__name__})")
        return None
    if len(data) > MAX_JSON_FILE_BYTES:
        _err(f"--json {name}: larger than {MAX_JSON_FILE_BYTES} bytes (rule: max_size)")
        return None
    try:
        loaded = decode_json(data)
    except JsonInputError as exc:
        where = f" at {exc.path}" if exc.path else ""
        _err(f"--json {name}{where}: {exc.detail} (rule: {exc.rule})")
        return None
    if not isinstance(loaded, dict):
        _err(f"--json {name}: must hold a JSON object, not {describe_json_type(loaded)} (rule: type)")
        return None
    return loaded


def _execute(action: str, request: dict[str, Any], args: argparse.Namespace) -> int:
    from pushfn.errors import ConfigurationError
    from pushfn.push import PushClient
    from pushfn.push.client import TOKEN_ACTIONS
    from pushfn.push.errors import (
        CredentialsError,
        InvalidRequestError,
        ServiceError,
        TransportError,
    )
    from pushfn.settings import Settings

    try:
        settings = Settings.from_env()  # the one read of the environment; every value goes down from here
    except ConfigurationError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    problem = check_config_file(settings)
    if problem:
        _err(problem)
        return EXIT_BAD_INPUT
    overrides = {
        k: v
        for k, v in {
            "endpoint": args.endpoint,
            "app_key": args.app_key,
            "signature_version": args.signature_version,
        }.items()
        if v is not None
    }
    token = args.idempotent_token
    if token is None and action in TOKEN_ACTIONS and "IdempotentToken" not in request:
        # Chosen here rather than by the client, so a "may have been sent" error can name it.
        token = str(uuid.uuid4())
    endpoint = "the endpoint"
    try:
        with PushClient.from_settings(settings, **overrides) as client:
            endpoint = host_port(client.endpoint)
            if args.dry_run:
                prepared = client.prepare(action, request, idempotent_token=token)
                print(json.dumps(describe_prepared(prepared), indent=2, ensure_ascii=False))
                return EXIT_OK
            if action == "Push":
                result: Any = client.push(request, idempotent_token=token).to_dict()
            elif action == "MassPush":
                result = client.mass_push(request, idempotent_token=token).to_dict()
            else:
                resp = client.call(action, request, idempotent_token=token)
                result = {"RequestId": resp.request_id, **resp.data}
    except InvalidRequestError as exc:
        for p in exc.problems:
            _err(f"invalid {p.field}: {_problem_message(p.field, p.rule, p.message)} (rule: {p.rule})")
        return EXIT_BAD_INPUT
    except (ConfigurationError, CredentialsError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except (ValueError, OverflowError) as exc:  # a setting the rules of Settings did not foresee
        _err(f"configuration: {exc}")
        return EXIT_BAD_INPUT
    except ServiceError as exc:
        _err(
            f"CloudPush refused {action}: {exc.code}: {exc.message} (HTTP {exc.http_status}, "
            f"RequestId {exc.request_id or 'unknown'}){_maybe_sent(exc, token)}"
        )
        return EXIT_REFUSED
    except TransportError as exc:
        _err(f"network failure talking to {endpoint}: {exc}{_maybe_sent(exc, token)}")
        return EXIT_NETWORK
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_OK


def _problem_message(field: str, rule: str, message: str) -> str:
    if field == "AppKey" and rule == "required":
        return "is required: set PUSH_APP_KEY or pass --app-key (or put PUSH_APP_KEY in the [push_config] INI file)"
    if field == "Action" and rule == "unknown_action":
        return f"{message} (pushfn call --help lists the supported actions)"
    return message


def _maybe_sent(exc: Exception, token: str | None) -> str:
    if not getattr(exc, "maybe_sent", False):
        return ""
    if token:
        return (
            f" — it may have been sent; to retry without a duplicate, pass --idempotent-token {token} within 15 minutes"
        )
    return " — it may have been sent"


def host_port(endpoint: str) -> str:
    """``https://user:pw@host/…?q`` → ``host:443``: where a network error happened, without secrets."""
    parts = urlsplit(endpoint)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def check_config_file(settings: Settings) -> str | None:
    """A problem with an explicitly named ``PUSHFN_CONFIG_FILE``, as a one-line message, or ``None``.

    Only the command refuses these: the functions skip a file that is not there (a deployment may
    name one it does not ship). The values in the file are checked by the same rules as the
    environment's, when the client is built (:meth:`pushfn.push.PushClient.from_settings`).
    """
    from pushfn.push.credentials import read_ini_section
    from pushfn.push.errors import CredentialsError

    if not settings.pushfn_config_file:
        return None
    path = settings.config_file
    if not path.exists():
        return f"PUSHFN_CONFIG_FILE is set to {str(path)!r}, which does not exist"
    if not path.is_file():
        return f"PUSHFN_CONFIG_FILE is set to {str(path)!r}, which is not a file"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"PUSHFN_CONFIG_FILE {str(path)!r} cannot be read ({exc.strerror or type(exc).__name__})"
    try:
        section = read_ini_section(path, "push_config")
    except CredentialsError as exc:
        return f"config file {exc}"
    if not section:
        return f"PUSHFN_CONFIG_FILE {str(path)!r} has no [push_config] section"
    return None


def describe_prepared(prepared: Any) -> dict[str, Any]:
    """The signed request as a dict for ``--dry-run``, with the session token masked."""
    parts = urlsplit(prepared.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "SecurityToken" in query:
        query["SecurityToken"] = mask(query["SecurityToken"])
    headers = {k: (mask(v) if k.lower() == "x-acs-security-token" else v) for k, v in prepared.headers.items()}
    return {
        "method": prepared.method,
        "url": f"{parts.scheme}://{parts.netloc}{parts.path}",
        "query": query,
        "headers": headers,
        "body": dict(parse_qsl(prepared.body.decode(), keep_blank_values=True)) if prepared.body else None,
    }


# --- emulator ------------------------------------------------------------------------------------


def _add_emulator_commands(sub: Any) -> None:
    emulator = sub.add_parser(
        "emulator",
        help="run the local CloudPush emulator, or register devices in a running one",
        description="Without a sub-command: run the emulator in the foreground until Ctrl-C. "
        "'pushfn emulator devices add|list' talk to a running emulator's control API.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    emulator.add_argument("--port", type=_port, default=9100, help="TCP port (default: %(default)s; 0 = any free port)")
    emulator.add_argument(
        "--access-key-id", help="accepted AccessKeyId (default: env PUSHFN_EMULATOR_ACCESS_KEY_ID or testid)"
    )
    emulator.add_argument(
        "--access-key-secret",
        help="accepted AccessKeySecret (default: env PUSHFN_EMULATOR_ACCESS_KEY_SECRET or testsecret)",
    )
    emulator.add_argument(
        "--app-key", type=_app_key, help="the AppKey served (default: env PUSHFN_EMULATOR_APP_KEY or 23267207)"
    )
    emulator.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="DEVICE_ID",
        help="register an ANDROID device at start-up (repeat for more)",
    )
    emulator.add_argument(
        "--ring-size",
        type=_ring_size,
        help="calls and pushes kept, oldest forgotten first (default: env PUSHFN_EMULATOR_RING_SIZE or 10000)",
    )
    emulator.add_argument("--store", metavar="FILE", help="keep the history in this SQLite file across restarts")
    emulator.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host reachable from the network (the control API and inbox still answer loopback only)",
    )
    emulator.set_defaults(run=_run_emulator)

    commands = emulator.add_subparsers(
        dest="emulator_command", metavar="{devices}", parser_class=CliParser, help="optional: act on a running emulator"
    )
    devices = commands.add_parser("devices", help="register or list devices in a running emulator")
    device_commands = devices.add_subparsers(
        dest="devices_command", metavar="{add,list}", required=True, parser_class=CliParser, help="one of:"
    )

    add = device_commands.add_parser(
        "add",
        help="register devices (POST /_emulator/devices)",
        description="Register devices in the emulator at --endpoint / PUSH_ENDPOINT, so pushes and device "
        "calls (BindAlias, QueryAliases, …) can find them.",
    )
    add.add_argument("device_ids", nargs="+", metavar="DEVICE_ID", help="device id(s) to register")
    add.add_argument("--account", help="account bound to the device(s)")
    add.add_argument("--alias", action="append", default=[], help="alias bound to the device(s) (repeatable)")
    add.add_argument("--tag", action="append", default=[], help="tag bound to the device(s) (repeatable)")
    add.add_argument("--device-type", default="ANDROID", help="ANDROID, iOS or HARMONY (default: %(default)s)")
    add.add_argument("--endpoint", type=_endpoint, help="the emulator's URL (default: env PUSH_ENDPOINT)")
    add.add_argument("--app-key", type=_app_key, help="which served AppKey (default: the emulator's first)")
    add.set_defaults(run=_run_devices_add)

    listing = device_commands.add_parser("list", help="print the registered devices (GET /_emulator/devices)")
    listing.add_argument("--endpoint", type=_endpoint, help="the emulator's URL (default: env PUSH_ENDPOINT)")
    listing.set_defaults(run=_run_devices_list)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM while the block runs; the previous handlers come back after.

    Handlers of its own, not Python's KeyboardInterrupt: a process started in the background of a
    non-interactive shell (``pushfn emulator &`` in a CI script) inherits SIGINT *ignored*, and then
    Python installs no handler — Ctrl-C or ``kill -INT`` did nothing, and ``kill`` (SIGTERM) ended it
    without its clean stop. Call from the main thread only (``signal.signal`` requires it).
    """
    import signal
    import threading

    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_emulator(args: argparse.Namespace) -> int:
    from pushfn.emulator import EmulatorError, EmulatorSettings, serve
    from pushfn.settings import Settings, SettingsError

    try:
        settings = EmulatorSettings.from_settings(Settings.from_env())
        with stop_on_signals() as stop:
            serve(
                args.host,
                args.port,
                args.access_key_id,
                args.access_key_secret,
                (args.app_key,) if args.app_key else None,
                log_requests=True,
                settings=settings,
                ring_size=args.ring_size,
                store=args.store,
                allow_remote=args.allow_remote,
                devices=args.device,
                stop_event=stop,
            )
    except (SettingsError, EmulatorError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise  # stdout closed under the banner: main() ends quietly
    except OSError as exc:
        _err(_bind_error(args.host, args.port, exc))
        return EXIT_BAD_INPUT
    return EXIT_OK


def _bind_error(host: str, port: int, exc: OSError) -> str:
    """One line for an emulator that cannot listen: which option to change, the port or the host."""
    import errno

    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return f"cannot listen on {host}:{port} ({reason}); pick another --port"
    # Not an address of this machine, or a name that does not resolve: the port is not the problem.
    return f"cannot listen on {host}:{port} ({reason}); --host must be an address of this machine"


def _run_devices_add(args: argparse.Namespace) -> int:
    from pushfn.json_input import JsonInputError, check_text

    named = [("DEVICE_ID", d) for d in args.device_ids] + [("--alias", a) for a in args.alias or []]
    named += [("--tag", t) for t in args.tag or []] + ([("--account", args.account)] if args.account else [])
    for option, value in named:
        try:
            check_text(value, option)  # argv bytes that are not UTF-8 arrive as lone surrogates
        except JsonInputError as exc:
            _err(f"{option}: {exc.detail}")
            return EXIT_BAD_INPUT
    devices = [
        {
            "device_id": device_id,
            "account": args.account,
            "aliases": args.alias,
            "tags": args.tag,
            "device_type": args.device_type,
            **({"app_key": args.app_key} if args.app_key else {}),
        }
        for device_id in args.device_ids
    ]
    answer = _control(args, "POST", "devices", {"devices": devices})
    if isinstance(answer, int):
        return answer
    for device in answer.get("registered", []):
        print(json.dumps(device, ensure_ascii=False))
    return EXIT_OK


def _run_devices_list(args: argparse.Namespace) -> int:
    answer = _control(args, "GET", "devices", None)
    if isinstance(answer, int):
        return answer
    for device in answer.get("devices", []):
        print(json.dumps(device, ensure_ascii=False))
    return EXIT_OK


def _control(args: argparse.Namespace, method: str, route: str, body: Any) -> dict[str, Any] | int:
    """One call to the emulator's control API; an exit code after reporting a problem."""
    import requests

    from pushfn.settings import Settings, SettingsError

    endpoint = args.endpoint
    if not endpoint:
        try:
            settings = Settings.from_env()
        except SettingsError as exc:
            _err(str(exc))
            return EXIT_BAD_INPUT
        if not settings.is_set("push_endpoint"):  # the default is the real service, not an emulator
            _err("no emulator given: set PUSH_ENDPOINT (e.g. http://127.0.0.1:9100) or pass --endpoint")
            return EXIT_BAD_INPUT
        endpoint = settings.push_endpoint
    url = f"{endpoint.rstrip('/')}/_emulator/{route}"
    where = host_port(endpoint)
    try:
        status, answer = control_call(method, url, body, 30)
    except requests.RequestException as exc:
        _err(f"network failure talking to {where}: {type(exc).__name__} — is 'pushfn emulator' running there?")
        return EXIT_NETWORK
    if status != 200 or not isinstance(answer, dict):
        detail = answer.get("error") if isinstance(answer, dict) else None
        detail = detail or "not an emulator?"
        _err(f"the emulator at {where} refused {method} /_emulator/{route}: HTTP {status}: {detail}")
        return EXIT_REFUSED
    return answer


def control_call(method: str, url: str, body: Any, read_timeout: float) -> tuple[int, Any]:
    """One JSON call to a local control API (the emulator's ``/_emulator/``, ``pushfn serve``'s
    ``/_serve/``): ``(HTTP status, the decoded JSON answer or None)``; 5 s to connect, ``read_timeout``
    seconds to answer. A proxy from the environment never sees it. Raises ``requests.RequestException``
    when there is no answer."""
    import requests

    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not see loopback control calls
        resp = session.request(method, url, json=body, timeout=(5, read_timeout))
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, None


def _run_demo(args: argparse.Namespace) -> int:
    """Start the embedded emulator on a free port and push to it through the real, signing client."""
    from pushfn.emulator import Emulator

    with Emulator(host="127.0.0.1", port=0) as emulator:
        emulator.register_device(DEMO_DEVICE, account="demo-user", aliases=("demo",), tags=("news",))
        with emulator.client() as client:
            result = client.push(
                {
                    "Target": "ALIAS",
                    "TargetValue": "demo",
                    "DeviceType": "ANDROID",
                    "PushType": "NOTICE",
                    "Title": "Hello from pushfn",
                    "Body": "Signed, validated and delivered to the local emulator.",
                }
            )
        pushes = emulator.pushes()
    print(f"MessageId: {result.message_id}")
    print(
        f"RequestId: {result.request_id}  (emulator recorded {len(pushes)} push, "
        f"{len(pushes[0]['devices']) if pushes else 0} device)"
    )
    return EXIT_OK


# --- output --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _logging(verbose: bool) -> Iterator[None]:
    """Log records go to stderr only with ``--verbose``, in the readable form (:class:`~pushfn.logs.TextFormatter`).

    Without a handler, Python's last-resort handler would print every warning ("push call failed")
    as a stray line before the command's own, clearer, error message.
    """
    logger = logging.getLogger("pushfn")
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    if verbose:
        handler.setFormatter(TextFormatter())  # the readable form locally; JSON is the cloud's
    previous = logger.level
    logger.addHandler(handler)
    if verbose:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _err(message: str) -> None:
    """One line on stderr, ``pushfn: …`` (newlines in ``message`` would forge extra lines)."""
    print(f"pushfn: {' '.join(message.splitlines())}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
