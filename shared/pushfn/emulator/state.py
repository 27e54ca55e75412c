"""Everything the emulator remembers, behind one lock.

Pushes, the device registry, used nonces, idempotent tokens, rate windows and faults live here;
the HTTP handlers hold :attr:`EmulatorState.lock` while they read or change any of it, so the
emulator is safe under a threaded server without finer-grained locking to get wrong.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from itertools import count
from typing import TYPE_CHECKING, Any

from pushfn.api_time import system_clock
from pushfn.emulator.auth import Authenticator, Credential
from pushfn.emulator.errors import throttled
from pushfn.emulator.faults import FaultPlan
from pushfn.emulator.registry import Registry

if TYPE_CHECKING:
    from pushfn.api_time import Clock

#: "same token within 15 min ⇒ only one push, later calls get the first result"
#: (IdempotentToken docs in ``alibabacloud-push20160801`` 2.1.8).
IDEMPOTENCY_WINDOW_SECONDS = 15 * 60
#: Target=ALL: ≥ 1 s between two full pushes of one DeviceType; ≤ 10 notices / 30 messages per 10 min.
FULL_PUSH_MIN_INTERVAL_SECONDS = 1.0
FULL_PUSH_WINDOW_SECONDS = 10 * 60
FULL_PUSH_MAX_PER_WINDOW = {"NOTICE": 10, "MESSAGE": 30}
#: First MessageId handed out; real ones are numeric strings too.
FIRST_MESSAGE_ID = 500_000_000_001


class EmulatorState:
    """Everything one emulator remembers, behind one re-entrant :attr:`lock`.

    ``credentials``: AccessKeyId → :class:`Credential`; ``app_keys``: the AppKeys served; ``clock``:
    returns epoch seconds (default the system clock); ``qps_limits``: action → requests per second.
    Hold :attr:`lock` around any read or change.
    """

    def __init__(
        self,
        credentials: Mapping[str, Credential],
        app_keys: Iterable[int],
        clock: Clock | None = None,
        qps_limits: Mapping[str, float] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or system_clock
        self.app_keys = tuple(int(k) for k in app_keys)
        self.auth = Authenticator(credentials)
        self.registry = Registry(self.app_keys)
        self.faults = FaultPlan()
        self.qps_limits: dict[str, float] = dict(qps_limits or {})
        # Never restarted, not even by reset: a MessageId is never handed out twice.
        self._message_ids = count(FIRST_MESSAGE_ID)
        self._clear_history()

    def _clear_history(self) -> None:
        self.pushes: list[dict[str, Any]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.tokens: dict[tuple[int, str, str], tuple[float, dict[str, Any]]] = {}
        self._last_full_push: dict[tuple[int, str], float] = {}
        self._full_push_times: dict[tuple[int, str, str], deque[float]] = {}
        self._action_times: dict[str, deque[float]] = {}

    def reset(self, keep_devices: bool = False) -> None:
        """Forget pushes, tokens, nonces, rate windows and faults, and devices unless ``keep_devices``.

        MessageIds keep counting up.
        """
        with self.lock:
            self._clear_history()
            self.auth.reset()
            self.faults.clear()
            if not keep_devices:
                self.registry.clear()

    # --- pushes -------------------------------------------------------------------------------

    def next_message_id(self) -> str:
        """A new MessageId: a decimal string, never handed out twice by this state (not even after a reset)."""
        return str(next(self._message_ids))

    def record_push(self, record: dict[str, Any]) -> None:
        """Store one accepted push record (``message_id``, ``action``, ``params``, ``devices``…); hold the lock."""
        self.pushes.append(record)
        self.messages.setdefault(record["message_id"], []).append(record)

    def snapshot(self) -> list[dict[str, Any]]:
        """Deep copies of every push record, oldest first."""
        with self.lock:
            return copy.deepcopy(self.pushes)

    # --- IdempotentToken ----------------------------------------------------------------------

    def replay(self, app_key: int, action: str, token: str | None, now: float) -> dict[str, Any] | None:
        """The first answer given for this token within the window, else ``None``.

        Scoped per AppKey and per action, so a Push token reused on MassPush cannot replay an
        answer of the wrong shape."""
        if not token:
            return None
        key = (app_key, action, token)
        entry = self.tokens.get(key)
        if entry is None:
            return None
        first_time, data = entry
        if now - first_time > IDEMPOTENCY_WINDOW_SECONDS:
            del self.tokens[key]
            return None
        return copy.deepcopy(data)

    def remember(self, app_key: int, action: str, token: str | None, data: dict[str, Any], now: float) -> None:
        """Keep ``data`` as the answer to ``token`` (per AppKey and action) from ``now``; nothing without a token.

        :meth:`replay` returns it for 15 minutes (IdempotentToken docs, ``alibabacloud-push20160801`` 2.1.8).
        """
        if token:
            self.tokens[(app_key, action, token)] = (now, copy.deepcopy(data))

    # --- rate limits --------------------------------------------------------------------------

    def check_full_push(self, app_key: int, device_type: str, push_type: str, now: float) -> None:
        """Target=ALL rules (https://help.aliyun.com/document_detail/92832.html); Throttling.User like the service."""
        last = self._last_full_push.get((app_key, device_type))
        if last is not None and 0 <= now - last < FULL_PUSH_MIN_INTERVAL_SECONDS:
            raise throttled(f"Two full pushes (Target=ALL) of DeviceType {device_type} must be 1 second apart.")
        times = self._full_push_times.setdefault((app_key, device_type, push_type), deque())
        while times and now - times[0] >= FULL_PUSH_WINDOW_SECONDS:
            times.popleft()
        limit = FULL_PUSH_MAX_PER_WINDOW[push_type]
        if len(times) >= limit:
            raise throttled(f"At most {limit} full-push {push_type.lower()}s per 10 minutes.")
        times.append(now)
        self._last_full_push[(app_key, device_type)] = now

    def check_qps(self, action: str, now: float) -> None:
        """Optional per-action limit (requests per rolling second), set by the tester."""
        limit = self.qps_limits.get(action)
        if limit is None:
            return
        times = self._action_times.setdefault(action, deque())
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= limit:
            raise throttled(f"Request was denied due to user flow control ({action}: {limit:g} per second).")
        times.append(now)
