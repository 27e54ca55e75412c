"""Test helpers shared across folders: a hand-moved clock and a runtime whose guards read it."""

from __future__ import annotations

import time
from typing import Any

from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard
from pushfn.runtime import Runtime


class Clock:
    """The guard's clock, moved by hand: lets a test step past an in-progress window without sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ClockedRuntime(Runtime):
    """The real runtime, except that its guards read :attr:`clock`."""

    def __init__(self, *, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self._clocked: dict[str, IdempotencyGuard] = {}

    def guard(self, function_name: str) -> IdempotencyGuard:
        if function_name not in self._clocked:
            self._clocked[function_name] = IdempotencyGuard(
                self.store, IdempotencyConfig(), function_name=function_name, clock=self.clock
            )
        return self._clocked[function_name]
