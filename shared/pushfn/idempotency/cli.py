"""``pushfn store init`` and ``pushfn store show KEY``: the operator's view of the idempotency store.

The main CLI calls :func:`register` with its sub-parsers; each command sets ``run`` (the main CLI's
convention) and returns an exit code. ``python -m pushfn.idempotency.cli store …`` runs the same commands on their own.
Exit codes: 0 ok, 1 record not found, 2 bad key or arguments, 3 store error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from pushfn.idempotency import keys
from pushfn.idempotency.exceptions import IdempotencyError, IdempotencyKeyError
from pushfn.idempotency.record import IdempotencyRecord
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.idempotency.url import ENV_URL, store_from_env, store_from_url
from pushfn.logs import mask

EXIT_NOT_FOUND = 1
EXIT_BAD_KEY = 2
EXIT_STORE = 3

#: Result fields whose values are masked in ``store show`` (device ids, accounts, secrets).
SENSITIVE = ("device", "target", "account", "alias", "secret", "password", "credential", "authorization")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``store init`` and ``store show`` to an ``argparse`` sub-parsers object."""
    store = subparsers.add_parser("store", help="inspect or prepare the idempotency store")
    store.add_argument("--url", help=f"store URL (default: ${ENV_URL}, else a SQLite file in the data dir)")
    commands = store.add_subparsers(dest="store_command", metavar="{init,show}")
    commands.required = True

    init = commands.add_parser("init", help="create the file/table the configured store needs (safe twice)")
    init.set_defaults(run=cmd_init)

    show = commands.add_parser("show", help="print one record as JSON (for investigating a duplicate)")
    show.add_argument("key", help="the idempotency key, or a stored FUNCTION#SCOPE#KEY")
    show.add_argument("--function", dest="function_name", help="function name (e.g. http_push)")
    show.add_argument("--scope", default=keys.DEFAULT_SCOPE, help="caller scope (default: %(default)s)")
    show.set_defaults(run=cmd_show)
    return store


def cmd_init(args: argparse.Namespace) -> int:
    try:
        print(_store(args).init())
    except IdempotencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORE
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        if args.function_name:
            scoped = keys.scoped_key(args.function_name, args.scope, args.key)
        else:
            scoped = keys.scoped_key(*keys.split_scoped_key(args.key))
    except IdempotencyKeyError as exc:
        print(f"error: {exc} (give --function, or the stored FUNCTION#SCOPE#KEY)", file=sys.stderr)
        return EXIT_BAD_KEY
    try:
        store = _store(args)
        record = store.get(scoped)
    except IdempotencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORE
    if record is None:
        print(f"no record for {scoped!r} in {store.describe()}", file=sys.stderr)
        return EXIT_NOT_FOUND
    print(json.dumps(record_view(record), indent=2, ensure_ascii=False))
    return 0


def record_view(record: IdempotencyRecord) -> dict[str, Any]:
    """The record as an operator reads it: times in UTC, sensitive result fields masked."""
    return {
        "key": record.key,
        "status": record.status.value,
        "expiry": _iso(record.expiry),
        "in_progress_expiry": None if record.in_progress_expiry is None else _iso(record.in_progress_expiry / 1000),
        "payload_hash": record.payload_hash,
        "idempotent_token": record.token,
        "result": _masked(record.result),
    }


def _masked(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, name) for v in value]
    if value is not None and any(word in name.lower() for word in SENSITIVE):
        return mask(value)
    return value


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).isoformat(timespec="seconds")


def _store(args: argparse.Namespace) -> IdempotencyStore:
    return store_from_url(args.url) if getattr(args, "url", None) else store_from_env()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pushfn")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
