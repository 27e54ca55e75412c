"""``pushfn`` command line: send pushes, run the emulator, inspect the idempotency store.

Exit codes: 0 sent, 2 bad input (names the field and the rule), 3 the service refused (Code and
RequestId shown), 4 network failure. argparse only: the CLI starts fast and needs nothing extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pushfn.logs import mask

EXIT_OK, EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_NETWORK = 0, 2, 3, 4

#: Demo device registered in the embedded emulator by ``pushfn demo``.
DEMO_DEVICE = "0123456789abcdef0123456789abcdef"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    return int(args.run(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pushfn", description="Send mobile pushes through Alibaba Cloud Push.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    push = sub.add_parser("push", help="send one Push (validated before anything is sent)")
    _add_connection_options(push)
    push.add_argument("--target", help="DEVICE, ACCOUNT, ALIAS, TAG, ALL or TBD")
    push.add_argument("--target-value", help="comma-separated targets, a tag expression, or ALL")
    push.add_argument("--device-type", help="ANDROID, iOS, HARMONY or ALL")
    push.add_argument("--push-type", help="NOTICE or MESSAGE")
    push.add_argument("--title")
    push.add_argument("--body")
    _add_request_options(push)
    push.set_defaults(run=_run_push, action="Push")

    call = sub.add_parser("call", help="call any supported action (BindAlias, QueryTags, MassPush, …)")
    call.add_argument("action", help="the CloudPush action name, e.g. BindAlias")
    _add_connection_options(call)
    _add_request_options(call)
    call.set_defaults(run=_run_call)

    emulator = sub.add_parser("emulator", help="run the local CloudPush emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=9100)
    emulator.add_argument("--access-key-id", help="default testid (env PUSHFN_EMULATOR_ACCESS_KEY_ID)")
    emulator.add_argument("--access-key-secret", help="default testsecret (env PUSHFN_EMULATOR_ACCESS_KEY_SECRET)")
    emulator.add_argument("--app-key", type=int, help="default 23267207 (env PUSHFN_EMULATOR_APP_KEY)")
    emulator.set_defaults(run=_run_emulator)

    demo = sub.add_parser("demo", help="start the embedded emulator and send one push to it")
    demo.set_defaults(run=_run_demo)

    try:
        from pushfn.idempotency.cli import register as register_store
    except ImportError:  # the store commands arrive with the idempotency package
        register_store = None
    if register_store is not None:
        register_store(sub)
    return parser


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", help="CloudPush URL (env PUSH_ENDPOINT)")
    p.add_argument("--app-key", help="AppKey (env PUSH_APP_KEY)")
    p.add_argument("--signature-version", choices=("v2", "v3"), help="env PUSH_SIGNATURE_VERSION")


def _add_request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="any other parameter")
    p.add_argument("--json", metavar="FILE", help="the whole request as a JSON object ('-' for stdin)")
    p.add_argument("--idempotent-token", help="a UUID: repeats within 15 minutes push once")
    p.add_argument("--dry-run", action="store_true", help="validate and print the signed request; send nothing")


# --- commands ------------------------------------------------------------------------------------


def _run_push(args: argparse.Namespace) -> int:
    request = _request_from_args(args)
    if request is None:
        return EXIT_BAD_INPUT
    for option, name in (
        ("target", "Target"),
        ("target_value", "TargetValue"),
        ("device_type", "DeviceType"),
        ("push_type", "PushType"),
        ("title", "Title"),
        ("body", "Body"),
    ):
        value = getattr(args, option)
        if value is not None:
            request[name] = value
    return _execute("Push", request, args)


def _run_call(args: argparse.Namespace) -> int:
    request = _request_from_args(args)
    if request is None:
        return EXIT_BAD_INPUT
    return _execute(args.action, request, args)


def _request_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    request: dict[str, Any] = {}
    if args.json:
        try:
            if args.json == "-":
                text = sys.stdin.read()
            else:
                with open(args.json, encoding="utf-8") as handle:
                    text = handle.read()
            loaded = json.loads(text)
        except (OSError, ValueError) as exc:
            _err(f"--json {args.json}: cannot read a JSON object ({exc})")
            return None
        if not isinstance(loaded, dict):
            _err(f"--json {args.json}: the file must hold a JSON object, not {type(loaded).__name__}")
            return None
        request.update(loaded)
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            _err(f"--param {item!r}: expected NAME=VALUE")
            return None
        request[name] = value
    return request


def _execute(action: str, request: dict[str, Any], args: argparse.Namespace) -> int:
    from pushfn.push import PushClient
    from pushfn.push.errors import (
        ConfigurationError,
        CredentialsError,
        InvalidRequestError,
        ServiceError,
        TransportError,
    )

    overrides = {
        k: v
        for k, v in {
            "endpoint": args.endpoint,
            "app_key": args.app_key,
            "signature_version": args.signature_version,
        }.items()
        if v is not None
    }
    try:
        with PushClient.from_env(**overrides) as client:
            if args.dry_run:
                prepared = client.prepare(action, request, idempotent_token=args.idempotent_token)
                print(json.dumps(describe_prepared(prepared), indent=2, ensure_ascii=False))
                return EXIT_OK
            if action == "Push":
                result: Any = client.push(request, idempotent_token=args.idempotent_token).to_dict()
            elif action == "MassPush":
                result = client.mass_push(request, idempotent_token=args.idempotent_token).to_dict()
            else:
                resp = client.call(action, request, idempotent_token=args.idempotent_token)
                result = {"RequestId": resp.request_id, **resp.data}
    except InvalidRequestError as exc:
        for problem in exc.problems:
            _err(f"invalid {problem.field}: {problem.message} (rule: {problem.rule})")
        return EXIT_BAD_INPUT
    except (ConfigurationError, CredentialsError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except ServiceError as exc:
        _err(
            f"CloudPush refused {action}: {exc.code}: {exc.message} (HTTP {exc.http_status}, "
            f"RequestId {exc.request_id or 'unknown'})"
        )
        return EXIT_REFUSED
    except TransportError as exc:
        sent = " — it may have been sent" if exc.maybe_sent else ""
        _err(f"network failure: {exc}{sent}")
        return EXIT_NETWORK
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_OK


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


def _run_emulator(args: argparse.Namespace) -> int:
    from pushfn.emulator import serve

    serve(
        host=args.host,
        port=args.port,
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        app_keys=(args.app_key,) if args.app_key else None,
    )
    return EXIT_OK


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


def _err(message: str) -> None:
    print(f"pushfn: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
