"""What every function handler shares inside one process: the push client and the idempotency store.

Both are built on first use, from the environment, and then reused by every invocation the
instance serves (keep-alive connections, one SQLite connection pool, one boto3 client). Building
lazily keeps cold starts cheap: a handler that answers ``/health`` never imports boto3.

Tests swap the whole runtime with :func:`set_runtime`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pushfn.idempotency import IdempotencyGuard
    from pushfn.idempotency.stores.base import IdempotencyStore
    from pushfn.push.client import PushClient


class Runtime:
    """The client, the store and one guard per function name, each created once."""

    def __init__(
        self,
        *,
        client: PushClient | None = None,
        store: IdempotencyStore | None = None,
        env: Mapping[str, str] | None = None,
        context: Any = None,
    ) -> None:
        self._client = client
        self._store = store
        self._env = env
        self._context = context
        self._guards: dict[str, IdempotencyGuard] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> PushClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from pushfn.push.client import PushClient

                    self._client = PushClient.from_env(self._env, context=self._context)
        return self._client

    @property
    def store(self) -> IdempotencyStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from pushfn.idempotency import store_from_env

                    self._store = store_from_env(self._env)
        return self._store

    def guard(self, function_name: str) -> IdempotencyGuard:
        guard = self._guards.get(function_name)
        if guard is None:
            from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard

            store = self.store
            with self._lock:
                guard = self._guards.get(function_name)
                if guard is None:
                    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name=function_name)
                    self._guards[function_name] = guard
        return guard


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime(context: Any = None) -> Runtime:
    """The process-wide runtime; ``context`` (FC/Lambda) is used only when the runtime is first built."""
    global _runtime
    if _runtime is None:
        with _runtime_lock:
            if _runtime is None:
                _runtime = Runtime(context=context)
    return _runtime


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def reset_runtime() -> None:
    global _runtime
    _runtime = None
