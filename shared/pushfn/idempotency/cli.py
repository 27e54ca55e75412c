"""``pushfn store init|list|show``: the operator's view of the idempotency store.

The main CLI calls :func:`register` with its sub-parsers; each command sets ``run`` (the main CLI's
convention) and returns an exit code. ``python -m pushfn.idempotency.cli store …`` runs the same commands.

Exit codes: 0 ok, 1 no record (like ``grep``), 2 bad input (key, URL, option, or an operation the
store does not support), 3 the store failed or refused, 4 the store could not be reached. Errors
are one line on stderr starting with ``pushfn:``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from pushfn.idempotency import keys
from pushfn.idempotency.exceptions import (
    IdempotencyConfigError,
    IdempotencyError,
    IdempotencyKeyError,
    IdempotencyStoreError,
)
from pushfn.idempotency.record import IdempotencyRecord, UnreadableRecord
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.idempotency.stores.sqlite import SqliteStore
from pushfn.idempotency.url import ENV_URL, store_from_settings, store_from_url
from pushfn.logs import mask

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_STORE = 3
EXIT_UNREACHABLE = 4
#: Former name of :data:`EXIT_BAD_INPUT`.
EXIT_BAD_KEY = EXIT_BAD_INPUT

#: Result fields whose values are masked in ``store show`` (device ids, accounts, secrets).
SENSITIVE = ("device", "target", "account", "alias", "secret", "password", "credential", "authorization")

#: Exception class names (of the driver error behind an :class:`IdempotencyStoreError`) meaning
#: "could not reach the store" rather than "the store answered with an error".
NETWORK_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "TimeoutError",
        "gaierror",
        "OTSClientError",
    }
)

DEFAULT_LIST_LIMIT = 50

EXIT_CODES_HELP = "exit codes: 0 ok, 1 no record, 2 bad input, 3 the store failed, 4 the store is unreachable"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``store init|list|show`` to an ``argparse`` sub-parsers object."""
    store = subparsers.add_parser(
        "store",
        help="inspect or prepare the idempotency store",
        description="Inspect or prepare the idempotency store (PUSHFN_IDEMPOTENCY_URL).",
        epilog=EXIT_CODES_HELP,
    )
    url_help = (
        f"store URL: sqlite:///FILE, dynamodb://TABLE, tablestore://INSTANCE/TABLE "
        f"(default: ${ENV_URL}, else a SQLite file in the data dir)"
    )
    store.add_argument("--url", help=url_help)
    # Each command takes --url too, before or after its name; SUPPRESS keeps a value given before.
    url_option = argparse.ArgumentParser(add_help=False)
    url_option.add_argument("--url", default=argparse.SUPPRESS, help=url_help)
    commands = store.add_subparsers(dest="store_command", metavar="{init,list,show}", help="one of:")
    commands.required = True

    init = commands.add_parser(
        "init",
        parents=[url_option],
        help="create the file/table the configured store needs (safe twice)",
        description="Create the file/table the store needs. Safe to run twice.",
        epilog=EXIT_CODES_HELP,
    )
    init.set_defaults(run=cmd_init)

    listing = commands.add_parser(
        "list",
        parents=[url_option],
        help="list records: key (masked), status, expiry",
        description="List records as FUNCTION#SCOPE#KEY (the key masked unless --full-keys), status and "
        "expiry (UTC), sorted by key. SQLite, DynamoDB (a Scan) and memory stores; not Tablestore.",
        epilog=EXIT_CODES_HELP,
    )
    listing.add_argument(
        "--function", dest="function_name", metavar="NAME", help="only this function's records (e.g. http_push)"
    )
    listing.add_argument(
        "--scope", help="only this scope (tenant, schedule, queue…); without --function, of every function"
    )
    listing.add_argument(
        "--limit", type=_positive, default=DEFAULT_LIST_LIMIT, help="at most this many records (default: %(default)s)"
    )
    listing.add_argument(
        "--full-keys", action="store_true", help="print keys unmasked (they may hold order or device ids)"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON object per record instead of a table")
    listing.set_defaults(run=cmd_list)

    show = commands.add_parser(
        "show",
        parents=[url_option],
        help="print one record as JSON (for investigating a duplicate)",
        description="Print one record as JSON. KEY is either the stored FUNCTION#SCOPE#KEY (as logged), or "
        "the plain idempotency key: then --function and --scope narrow the search; left out, every "
        "function and every scope is searched (by listing the store).",
        epilog=EXIT_CODES_HELP,
    )
    show.add_argument("key", help="the plain idempotency key, or the stored FUNCTION#SCOPE#KEY")
    show.add_argument(
        "--function",
        dest="function_name",
        metavar="NAME",
        help="the function that used the key: http_push, scheduled_push or queue_push (default: any)",
    )
    show.add_argument(
        "--scope",
        help="the caller scope: an HTTP tenant, 'schedule', a queue… (default: any; "
        f"'{keys.DEFAULT_SCOPE}' is the guard's own default)",
    )
    show.set_defaults(run=cmd_show)
    return store


def _positive(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 1000000, got {value!r}")
    return int(value)


def cmd_init(args: argparse.Namespace) -> int:
    """``pushfn store init``: create the store's file, schema or table (safe to run twice) and print what
    was done. Returns the exit code (0, or 2/3/4 as in the module docstring)."""
    try:
        print(_store(args).init())
    except IdempotencyError as exc:
        return _failed(exc)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """``pushfn store list``: one line per record (key masked unless ``--full-keys``; JSON lines with
    ``--json``), expired ones marked. Returns the exit code; 2 when the store cannot enumerate records."""
    try:
        # --scope alone (as show takes it): every function's records, filtered by their scope part.
        across = args.scope is not None and args.function_name is None
        if across:
            keys.validate_name(args.scope, "scope")
        prefix = _prefix(args.function_name, None if across else args.scope)
    except IdempotencyKeyError as exc:
        return _failed(exc)
    try:
        store = _store(args, inspect=True)
        if across:
            records = [r for r in store.list_records(prefix) if _scope_of(r) == args.scope][: args.limit]
        else:
            records = store.list_records(prefix, args.limit)
    except NotImplementedError as exc:
        _err(f"store list: {exc}")
        return EXIT_BAD_INPUT
    except IdempotencyError as exc:
        return _failed(exc)
    now = time.time()
    rows = [_list_view(record, now, full_key=args.full_keys) for record in records]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        width = max([len(r["key"]) for r in rows] + [3])
        print(f"{'KEY':<{width}}  {'STATUS':<11}  EXPIRES (UTC)")
        for r in rows:
            print(f"{r['key']:<{width}}  {r['status']:<11}  {r['expiry']}{' (expired)' if r['expired'] else ''}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """``pushfn store show KEY``: one record as JSON, sensitive result fields masked.

    ``KEY`` is a stored ``FUNCTION#SCOPE#KEY``, or a plain key with ``--function`` and ``--scope`` (or
    searched for in every function and scope when the store can list). Returns the exit code: 1 when
    there is no such record, 2 when the key matches records of several functions or scopes.
    """
    try:
        scoped = _direct_key(args)
    except IdempotencyKeyError as exc:
        return _failed(exc)
    try:
        store = _store(args, inspect=True)
        if scoped is not None:
            record = store.get(scoped)
            where = repr(scoped)
        else:
            matches = _search(store, args.key, args.function_name, args.scope)
            if len(matches) > 1:
                found = ", ".join(sorted(r.key.rsplit(keys.SEPARATOR, 1)[0] for r in matches))
                _err(f"{len(matches)} records have this key ({found}): choose one with --function and --scope")
                return EXIT_BAD_INPUT
            record = matches[0] if matches else None
            where = f"key {mask(args.key)} (function {args.function_name or 'any'}, scope {args.scope or 'any'})"
    except NotImplementedError as exc:
        _err(f"store show: {exc}: give --function and --scope, or the stored FUNCTION#SCOPE#KEY")
        return EXIT_BAD_INPUT
    except IdempotencyError as exc:
        return _failed(exc)
    if record is None:
        _err(f"no record for {where} in {store.describe()}")
        return EXIT_NOT_FOUND
    if isinstance(record, UnreadableRecord):
        # As reading it by its scoped key answers: a store problem, named with why.
        shown = _list_view(record, 0.0, full_key=False)["key"]
        _err(f"idempotency record {shown} in {store.describe()} cannot be read: {record.reason}")
        return EXIT_STORE
    print(json.dumps(record_view(record), indent=2, ensure_ascii=False))
    return EXIT_OK


def _direct_key(args: argparse.Namespace) -> str | None:
    """The scoped key to read directly, or ``None`` when the store must be searched.

    Raises :class:`IdempotencyKeyError` for a key, function name or scope that breaks the rules.
    """
    keys.validate_key(args.key)
    if args.function_name is not None:
        keys.validate_name(args.function_name, "function name")
    if args.scope is not None:
        keys.validate_name(args.scope, "scope")
    if args.function_name is not None and args.scope is not None:
        return keys.scoped_key(args.function_name, args.scope, args.key)
    if args.function_name is None and args.scope is None:
        try:
            return keys.scoped_key(*keys.split_scoped_key(args.key))
        except IdempotencyKeyError:
            return None  # a plain key: search every function and scope
    return None


def _scope_of(record: IdempotencyRecord | UnreadableRecord) -> str | None:
    parts = record.key.split(keys.SEPARATOR, 2)
    return parts[1] if len(parts) == 3 else None


def _search(
    store: IdempotencyStore, key: str, function_name: str | None, scope: str | None
) -> list[IdempotencyRecord | UnreadableRecord]:
    prefix = _prefix(function_name, scope if function_name else None)
    matches: list[IdempotencyRecord | UnreadableRecord] = []
    for record in store.list_records(prefix):
        parts = record.key.split(keys.SEPARATOR, 2)
        if len(parts) == 3 and parts[2] == key and (scope is None or parts[1] == scope):
            matches.append(record)
    return matches


def _prefix(function_name: str | None, scope: str | None) -> str:
    if scope is not None and function_name is None:
        raise IdempotencyKeyError("--scope needs --function")
    if function_name is None:
        return ""
    parts = [keys.validate_name(function_name, "function name")]
    if scope is not None:
        parts.append(keys.validate_name(scope, "scope"))
    return keys.SEPARATOR.join(parts) + keys.SEPARATOR


def _list_view(record: IdempotencyRecord | UnreadableRecord, now: float, *, full_key: bool) -> dict[str, Any]:
    parts = record.key.split(keys.SEPARATOR, 2)
    if full_key:
        shown = record.key
    elif len(parts) == 3:
        # Function and scope name no secret; the caller's key may be an order number or a device id.
        shown = keys.SEPARATOR.join((parts[0], parts[1], mask(parts[2])))
    else:
        shown = mask(record.key)
    if isinstance(record, UnreadableRecord):
        return {"key": shown, "status": "UNREADABLE", "expiry": "-", "expired": False, "reason": record.reason}
    return {
        "key": shown,
        "status": record.status.value,
        "expiry": _iso(record.expiry),
        "expired": record.is_expired(now),
    }


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


def exit_code(exc: IdempotencyError) -> int:
    """The documented exit code for an error of the store commands."""
    if isinstance(exc, (IdempotencyConfigError, IdempotencyKeyError)):
        return EXIT_BAD_INPUT
    if isinstance(exc, IdempotencyStoreError):
        cause: BaseException | None = exc.__cause__
        while cause is not None:
            if type(cause).__name__ in NETWORK_ERRORS:
                return EXIT_UNREACHABLE
            cause = cause.__cause__ or cause.__context__
    return EXIT_STORE


def _failed(exc: IdempotencyError) -> int:
    _err(str(exc))
    return exit_code(exc)


def _masked(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, name) for v in value]
    if value is not None and any(word in name.lower() for word in SENSITIVE):
        return mask(value)
    return value


def _iso(epoch_seconds: float) -> str:
    try:
        return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):  # a row written by something else
        return f"epoch {epoch_seconds}"


def _store(args: argparse.Namespace, *, inspect: bool = False) -> IdempotencyStore:
    """The store named by ``--url`` or the settings (one read of the environment); a bad URL's
    error says which one it was. A malformed setting is an :class:`IdempotencyConfigError` too.

    ``inspect``: for ``list`` and ``show``, which must neither create nor change a store: a SQLite
    file is opened read-only, so a wrong path is reported as such, not searched as an empty new file.
    """
    from pushfn.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise IdempotencyConfigError(str(exc)) from None
    url = getattr(args, "url", None)
    try:
        store = store_from_url(url, settings=settings) if url else store_from_settings(settings)
    except IdempotencyConfigError as exc:
        source = "--url" if url else (ENV_URL if settings.pushfn_idempotency_url else "the default store")
        # The URL rules name the variable themselves; said once, by where the URL came from.
        raise IdempotencyConfigError(f"{source}: {str(exc).removeprefix(ENV_URL + ': ')}") from None
    if inspect and isinstance(store, SqliteStore) and not store.read_only:
        if not store.path.is_file():
            raise IdempotencyStoreError(f"{store.describe()}: no such store file (pushfn store init creates it)")
        store = SqliteStore(store.path, read_only=True)
    return store


def _err(message: str) -> None:
    print(f"pushfn: {' '.join(message.splitlines())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pushfn.idempotency.cli store …``: the same parser and exit codes as ``pushfn store``."""
    from pushfn.cli import main as pushfn_main

    return pushfn_main(argv)


if __name__ == "__main__":
    sys.exit(main())
