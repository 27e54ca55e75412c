"""Injected faults: what the network and the service do to a client on a bad day.

``internal_error`` and ``throttle`` answer an error and leave the request unprocessed. ``latency``
and ``drop`` act *after* the request is processed (the push is recorded), which is the dangerous
case a client must survive: the push went out but the answer is late or never comes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import count
from typing import Any

from pushfn.emulator.errors import EmulatorError

KINDS = ("internal_error", "throttle", "latency", "drop")
#: Kinds answered without processing the request.
BEFORE_PROCESSING = ("internal_error", "throttle")


@dataclass
class Fault:
    """One injected fault.

    ``kind``: one of :data:`KINDS`; ``remaining``: matching requests it still hits (``None`` when
    rate-based); ``rate``: probability (0 to 1) of hitting each matching request; ``latency_ms``: the
    delay of a ``latency`` fault, milliseconds; ``actions``: the API actions it applies to (``None``:
    every action).
    """

    id: int
    kind: str
    remaining: int | None  # None: rate-based, active until reset
    rate: float | None
    latency_ms: int
    actions: frozenset[str] | None

    def matches(self, action: str) -> bool:
        """Whether the fault applies to API ``action`` (case-sensitive, e.g. ``Push``)."""
        return self.actions is None or action in self.actions

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the control API lists it (``actions`` sorted, or ``None``)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "remaining": self.remaining,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "actions": sorted(self.actions) if self.actions is not None else None,
        }


class FaultPlan:
    """Faults in the order they were added; the first that fires for a request wins."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._ids = count(1)
        self._rng = rng or random.Random()

    def add(
        self,
        kind: str,
        count: int = 1,
        rate: float | None = None,
        latency_ms: int = 0,
        actions: Iterable[str] | None = None,
    ) -> Fault:
        """``count`` next matching requests, or with ``rate`` each matching request with that
        probability (until reset). ``actions`` limits the fault to those API actions."""
        if kind not in KINDS:
            raise EmulatorError(f"fault kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if rate is not None and not 0.0 <= float(rate) <= 1.0:
            raise EmulatorError(f"rate must be within [0, 1], got {rate!r}")
        if rate is None and (not isinstance(count, int) or count < 1):
            raise EmulatorError(f"count must be a positive integer, got {count!r}")
        if not isinstance(latency_ms, int) or latency_ms < 0:
            raise EmulatorError(f"latency_ms must be a non-negative integer, got {latency_ms!r}")
        if isinstance(actions, str):
            actions = [actions]
        fault = Fault(
            next(self._ids),
            kind,
            None if rate is not None else count,
            None if rate is None else float(rate),
            latency_ms,
            frozenset(actions) if actions is not None else None,
        )
        self._faults.append(fault)
        return fault

    def pick(self, action: str) -> Fault | None:
        """The fault that hits this request, consuming one of its ``count``; ``None`` if none."""
        for fault in self._faults:
            if not fault.matches(action):
                continue
            if fault.rate is not None:
                if self._rng.random() < fault.rate:
                    return fault
                continue
            assert fault.remaining is not None
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        """Every fault still pending, as :meth:`Fault.to_dict`, in the order added."""
        return [f.to_dict() for f in self._faults]
