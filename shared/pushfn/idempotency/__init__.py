"""The duplicate guard: a push runs at most once per key, even under retries, concurrency or a crash.

::

    from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard, store_from_settings
    from pushfn.settings import Settings

    guard = IdempotencyGuard(store_from_settings(Settings.from_env()), IdempotencyConfig(), function_name="http_push")
    outcome = guard.run("order-42", scope="tenant-a", payload=body,
                        operation=lambda token: client.push(req, idempotent_token=token).to_dict())
    outcome.result, outcome.replayed

See ``README.md`` in this package for the state machine, the stores and their schemas.
"""

from __future__ import annotations

from pushfn.idempotency.config import IdempotencyConfig
from pushfn.idempotency.exceptions import (
    IdempotencyConfigError,
    IdempotencyError,
    IdempotencyInProgressError,
    IdempotencyKeyError,
    IdempotencyPayloadMismatchError,
    IdempotencyStoreError,
)
from pushfn.idempotency.guard import Guard, IdempotencyGuard, Outcome
from pushfn.idempotency.keys import new_token, payload_hash
from pushfn.idempotency.record import IdempotencyRecord, RecordStatus
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.idempotency.url import store_from_settings, store_from_url

__all__ = [
    "Guard",
    "IdempotencyConfig",
    "IdempotencyConfigError",
    "IdempotencyError",
    "IdempotencyGuard",
    "IdempotencyInProgressError",
    "IdempotencyKeyError",
    "IdempotencyPayloadMismatchError",
    "IdempotencyRecord",
    "IdempotencyStore",
    "IdempotencyStoreError",
    "Outcome",
    "RecordStatus",
    "new_token",
    "payload_hash",
    "store_from_settings",
    "store_from_url",
]
