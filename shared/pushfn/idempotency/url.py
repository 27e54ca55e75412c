"""One setting picks the store: ``PUSHFN_IDEMPOTENCY_URL`` (its value, from :class:`~pushfn.settings.Settings`).

==================================  ===========================================================
``sqlite:///relative/file.db``      SQLite file (``sqlite:////abs/path.db`` for an absolute path,
                                    ``?mode=ro`` to open it read-only: ``pushfn store list/show``
                                    only, the functions refuse it)
``sqlite:///`` / unset              ``$PUSHFN_DATA_DIR/idempotency.db``, else
                                    ``$XDG_DATA_HOME/pushfn/idempotency.db``, else
                                    ``~/.local/share/pushfn/idempotency.db``
``dynamodb://TABLE``                DynamoDB; region/endpoint from the usual AWS settings
                                    (``AWS_ENDPOINT_URL_DYNAMODB`` for a local server)
``tablestore://INSTANCE/TABLE``     Tablestore; endpoint from ``PUSHFN_TABLESTORE_ENDPOINT``, keys
                                    from the credential chain
``memory://``                       in-process dict (tests only: nothing is shared or kept)
==================================  ===========================================================

Anything else, and any URL that could not de-duplicate across threads and processes (``:memory:``,
a device such as ``/dev/null``, a FIFO, a path below a file; for the functions, a read-only store
too), is refused with :class:`IdempotencyConfigError` — a ``ConfigurationError``, which the functions
report as a misconfiguration — naming the variable and the rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from pushfn.idempotency.exceptions import IdempotencyConfigError
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.sqlite_paths import file_place_problem, is_memory_path

if TYPE_CHECKING:
    from pushfn.push.credentials import CredentialsProvider
    from pushfn.settings import Settings

ENV_URL = "PUSHFN_IDEMPOTENCY_URL"
DB_FILE = "idempotency.db"

#: Control characters, and lone surrogates (undecodable bytes in the environment come in as those).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_OTS_INSTANCE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,31}")
_OTS_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def default_sqlite_path(settings: Settings | None = None) -> Path:
    """``idempotency.db`` in :attr:`Settings.data_dir <pushfn.settings.Settings.data_dir>`
    (``$PUSHFN_DATA_DIR``, else ``$XDG_DATA_HOME/pushfn``, else ``~/.local/share/pushfn``) of
    ``settings`` (default: none of those set)."""
    if settings is None:
        from pushfn.settings import Settings

        settings = Settings.from_env({})
    return settings.data_dir / DB_FILE


def store_from_settings(settings: Settings, *, credentials: CredentialsProvider | None = None) -> IdempotencyStore:
    """The store ``settings.pushfn_idempotency_url`` names (SQLite in the data dir when unset or empty).

    ``credentials`` serve the stores that sign their requests themselves (Tablestore): pass the
    process's chain (the runtime does), so role and STS keys work; default: the chain ``settings``
    describe. Raises :class:`IdempotencyConfigError` (a :class:`~pushfn.push.errors.ConfigurationError`)
    naming the variable and the rule for any URL that is malformed or cannot de-duplicate.
    """
    return store_from_url(settings.pushfn_idempotency_url or "sqlite:///", settings=settings, credentials=credentials)


def store_from_url(
    url: str, *, settings: Settings | None = None, credentials: CredentialsProvider | None = None
) -> IdempotencyStore:
    """Parse a store URL (see the module docstring). Nothing is opened or contacted here.

    ``settings`` give the default SQLite folder and the Tablestore endpoint (for ``tablestore://``
    without ``settings``, they are read from the environment); ``credentials`` are Tablestore's keys
    (default: the chain ``settings`` describe).

    Refused, as :class:`IdempotencyConfigError`: an unknown scheme, a host on a SQLite URL, options
    other than ``?mode=ro``, an in-memory SQLite database (``:memory:``, ``mode=memory``, URI
    filenames: each connection would get its own database, so nothing would be de-duplicated across
    threads or processes), ``sqlite://`` without a path, a path that is a directory or contains NUL or
    another control character, and DynamoDB / Tablestore names their services would refuse.
    """
    if not isinstance(url, str):
        raise _bad(f"must be a string, got {type(url).__name__}")
    if _CONTROL.search(url):
        raise _bad("must not contain control characters (NUL, newline …) or undecodable bytes")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _bad(f"must look like scheme://…, got {url!r}")
    scheme = scheme.lower()
    if scheme == "sqlite":
        return _sqlite(rest, settings)
    if scheme == "dynamodb":
        from pushfn.idempotency.stores.dynamodb import DynamoDBStore

        table = _decoded(rest.strip("/"))
        if not _DYNAMODB_TABLE.fullmatch(table):
            raise _bad("a DynamoDB URL is dynamodb://TABLE, TABLE 3-255 characters of A-Z a-z 0-9 _ . -")
        return DynamoDBStore(table)
    if scheme == "tablestore":
        from pushfn.idempotency.stores.tablestore import TablestoreStore

        parts = [_decoded(p) for p in rest.strip("/").split("/")]
        if len(parts) != 2 or not _OTS_INSTANCE.fullmatch(parts[0]) or not _OTS_TABLE.fullmatch(parts[1]):
            raise _bad(
                "a Tablestore URL is tablestore://INSTANCE/TABLE (INSTANCE: a letter, then letters, digits, -; "
                "TABLE: a letter or _, then letters, digits, _)"
            )
        if settings is None:
            from pushfn.settings import Settings

            settings = Settings.from_env()
        if credentials is None:
            from pushfn.push.credentials import default_chain

            credentials = default_chain(settings)
        return TablestoreStore(
            parts[0], parts[1], endpoint=settings.pushfn_tablestore_endpoint, credentials=credentials
        )
    if scheme == "memory":
        from pushfn.idempotency.stores.memory import MemoryStore

        if rest:
            raise _bad("the memory store URL is exactly memory:// (one process only: for tests)")
        return MemoryStore()
    raise _bad(f"unknown store {scheme!r}: use sqlite://, dynamodb://, tablestore:// or memory://")


def _sqlite(rest: str, settings: Settings | None) -> IdempotencyStore:
    from pushfn.idempotency.stores.sqlite import SqliteStore

    # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute.db; sqlite:/// alone is the default.
    if not rest.startswith("/"):
        raise _bad("a SQLite URL is sqlite:///path (three slashes, no host; sqlite:/// alone for the default file)")
    parts = urlsplit("sqlite://" + rest)
    if parts.netloc or parts.fragment:
        raise _bad("a SQLite URL is sqlite:///path (three slashes, no host)")
    path = _decoded(parts.path[1:])
    try:
        options = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _bad("a SQLite URL accepts only ?mode=ro") from None
    mode = options.pop("mode", ["rwc"])[-1]
    if mode == "memory" or is_memory_path(path):
        raise _bad(
            "an in-memory SQLite database cannot de-duplicate: every connection (thread, process) gets "
            "its own; name a file, e.g. sqlite:////var/lib/pushfn/idempotency.db"
        )
    if options or mode not in ("ro", "rw", "rwc"):
        raise _bad("a SQLite URL accepts only ?mode=ro")
    if not path:
        return SqliteStore(default_sqlite_path(settings), read_only=mode == "ro")
    if path.endswith("/"):
        raise _bad(f"a SQLite URL must name a file, not a directory ({path!r})")
    problem = file_place_problem(Path(path).expanduser())
    if problem is not None:
        raise _bad(f"a SQLite URL {problem}")
    return SqliteStore(Path(path).expanduser(), read_only=mode == "ro")


def _decoded(text: str) -> str:
    try:
        value = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise _bad("percent-encoded bytes must be UTF-8") from None
    if _CONTROL.search(value):
        raise _bad("must not contain control characters (NUL, newline …), percent-encoded or not")
    return value


def _bad(rule: str) -> IdempotencyConfigError:
    return IdempotencyConfigError(f"{ENV_URL}: {rule}")
