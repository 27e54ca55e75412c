"""Fixtures of the scheduled- and queue-push tests: a runtime wired to the emulator.

The runtime is real end to end: a push client over HTTP to the emulator on loopback and an SQLite
idempotency store in the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import Clock, ClockedRuntime

from pushfn.idempotency.stores.sqlite import SqliteStore
from pushfn.push import NO_RETRY, PushClient, Timeout
from pushfn.runtime import reset_runtime, set_runtime


def emulator_client(emulator: Any, **overrides: Any) -> PushClient:
    """A client for the emulator. Its own retries are off by default so a single injected fault
    reaches the job, which is what these tests are about."""
    return emulator.client(**{"timeout": Timeout(connect=2.0, read=5.0), "retry": NO_RETRY, **overrides})


@pytest.fixture
def runtime(emulator: Any, tmp_path: Path) -> Iterator[ClockedRuntime]:
    """The process runtime the handlers use, pointed at the emulator, with a fresh SQLite store."""
    client = emulator_client(emulator)
    rt = ClockedRuntime(clock=Clock(), client=client, store=SqliteStore(tmp_path / "idempotency.db"))
    set_runtime(rt)
    try:
        yield rt
    finally:
        reset_runtime()
        client.close()


@pytest.fixture
def wrap_client(runtime: ClockedRuntime) -> Callable[[Callable[[Any], Any]], ClockedRuntime]:
    """``wrap_client(lambda real: Wrapper(real))`` installs a runtime whose client is wrapped (same
    store, same clock) — for tests that must act between two real requests."""

    def install(wrap: Callable[[Any], Any]) -> ClockedRuntime:
        wrapped = ClockedRuntime(clock=runtime.clock, client=wrap(runtime.client), store=runtime.store)
        set_runtime(wrapped)
        return wrapped

    return install


class FaultAfterPushes:
    """Wraps the real client: after ``after`` pushes went through, injects an emulator fault (over the
    emulator's own API) so the *next* real request fails. Everything else is the real client."""

    def __init__(self, client: Any, emulator: Any, *, after: int, kind: str, count: int = 1) -> None:
        self._client, self._emulator = client, emulator
        self._after, self._kind, self._count = after, kind, count
        self.sent = 0

    def push(self, request: Any, **kwargs: Any) -> Any:
        result = self._client.push(request, **kwargs)
        self.sent += 1
        if self.sent == self._after:
            self._emulator.add_fault(self._kind, count=self._count)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def fault_after_pushes(emulator: Any, wrap_client: Any) -> Callable[..., None]:
    """``fault_after_pushes(1, "throttle")``: the request after the first successful push fails."""

    def arm(after: int, kind: str, count: int = 1) -> None:
        wrap_client(lambda real: FaultAfterPushes(real, emulator, after=after, kind=kind, count=count))

    return arm
