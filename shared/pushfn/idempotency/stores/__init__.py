"""Idempotency stores. Backends import their SDK (boto3, tablestore) only when constructed and used."""

from __future__ import annotations

from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.idempotency.stores.sqlite import SqliteStore

__all__ = ["DynamoDBStore", "IdempotencyStore", "MemoryStore", "SqliteStore", "TablestoreStore"]


def __getattr__(name: str) -> object:
    # The modules are light (their SDK imports are inside methods), but keep them off the import path
    # of functions that never use them.
    if name == "DynamoDBStore":
        from pushfn.idempotency.stores.dynamodb import DynamoDBStore

        return DynamoDBStore
    if name == "TablestoreStore":
        from pushfn.idempotency.stores.tablestore import TablestoreStore

        return TablestoreStore
    raise AttributeError(name)
