"""One setting picks the store: ``PUSHFN_IDEMPOTENCY_URL``.

==================================  ===========================================================
``sqlite:///relative/file.db``      SQLite file (``sqlite:////abs/path.db`` for an absolute path,
                                    ``?mode=ro`` to open it read-only)
``sqlite:///`` / unset              ``$PUSHFN_DATA_DIR/idempotency.db``, else
                                    ``$XDG_DATA_HOME/pushfn/idempotency.db``, else
                                    ``~/.local/share/pushfn/idempotency.db``
``dynamodb://TABLE``                DynamoDB; region/endpoint from the usual AWS settings
                                    (``AWS_ENDPOINT_URL_DYNAMODB`` for a local server)
``tablestore://INSTANCE/TABLE``     Tablestore; endpoint from ``PUSHFN_TABLESTORE_ENDPOINT``
``memory://``                       in-process dict (tests only: nothing is shared or kept)
==================================  ===========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pushfn.idempotency.exceptions import IdempotencyConfigError
from pushfn.idempotency.stores.base import IdempotencyStore

ENV_URL = "PUSHFN_IDEMPOTENCY_URL"
DB_FILE = "idempotency.db"


def default_sqlite_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("PUSHFN_DATA_DIR"):
        return Path(env["PUSHFN_DATA_DIR"]).expanduser() / DB_FILE
    base = Path(env["XDG_DATA_HOME"]).expanduser() if env.get("XDG_DATA_HOME") else Path.home() / ".local/share"
    return base / "pushfn" / DB_FILE


def store_from_env(env: Mapping[str, str] | None = None) -> IdempotencyStore:
    env = os.environ if env is None else env
    return store_from_url(env.get(ENV_URL) or "sqlite:///", env=env)


def store_from_url(url: str, *, env: Mapping[str, str] | None = None) -> IdempotencyStore:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise IdempotencyConfigError(f"{ENV_URL} must look like scheme://…, got {url!r}")
    scheme = scheme.lower()
    if scheme == "sqlite":
        return _sqlite(rest, env)
    if scheme == "dynamodb":
        from pushfn.idempotency.stores.dynamodb import DynamoDBStore

        table = unquote(rest.strip("/"))
        if not table or "/" in table:
            raise IdempotencyConfigError("dynamodb store URL is dynamodb://TABLE")
        return DynamoDBStore(table)
    if scheme == "tablestore":
        from pushfn.idempotency.stores.tablestore import TablestoreStore

        parts = [unquote(p) for p in rest.strip("/").split("/")]
        if len(parts) != 2 or not all(parts):
            raise IdempotencyConfigError("tablestore store URL is tablestore://INSTANCE/TABLE")
        return TablestoreStore(parts[0], parts[1])
    if scheme == "memory":
        from pushfn.idempotency.stores.memory import MemoryStore

        return MemoryStore()
    raise IdempotencyConfigError(
        f"unknown idempotency store {scheme!r}: use sqlite://, dynamodb://, tablestore:// or memory://"
    )


def _sqlite(rest: str, env: Mapping[str, str] | None) -> IdempotencyStore:
    from pushfn.idempotency.stores.sqlite import SqliteStore

    # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute.db.
    parts = urlsplit("sqlite://" + rest)
    if parts.netloc:
        raise IdempotencyConfigError("sqlite store URL is sqlite:///path (three slashes, no host)")
    path = unquote(parts.path[1:])
    options = parse_qs(parts.query)
    mode = options.pop("mode", ["rwc"])[-1]
    if options or mode not in ("ro", "rw", "rwc"):
        raise IdempotencyConfigError("sqlite store URL accepts only ?mode=ro")
    return SqliteStore(Path(path).expanduser() if path else default_sqlite_path(env), read_only=mode == "ro")
