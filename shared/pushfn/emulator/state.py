"""Everything the emulator remembers, behind one lock, and the operations tests and the control API use on it.

The device registry, used nonces, idempotent tokens, rate windows, injected faults and the
:class:`~pushfn.emulator.history.History` of pushes and calls live here; the server and the
:class:`Emulator` hold :attr:`EmulatorState.lock` while they read or change any of it.

Faults: ``internal_error`` and ``throttle`` answer an error and leave the request unprocessed.
``latency`` and ``drop`` act *after* the request is processed (the push is recorded), which is the
dangerous case a client must survive: the push went out but the answer is late or never comes.
"""

from __future__ import annotations

import copy
import random
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pushfn.api_time import system_clock
from pushfn.emulator.auth import Authenticator, Credential
from pushfn.emulator.errors import EmulatorError, throttled
from pushfn.emulator.history import DEFAULT_RING_SIZE, History
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
        ring_size: int = DEFAULT_RING_SIZE,
        store: str | Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or system_clock
        self.app_keys = tuple(int(k) for k in app_keys)
        self.history = History(ring_size, store)  # first: it checks ring_size, which bounds the nonces too
        self.auth = Authenticator(credentials, max_nonces=ring_size)
        self.registry = Registry(self.app_keys)
        self.faults = FaultPlan()
        self.qps_limits: dict[str, float] = {}
        for action, qps in (qps_limits or {}).items():
            self.set_qps_limit(action, qps)
        self.messages: dict[str, list[dict[str, Any]]] = {}
        for record in self.history.pushes:
            self.messages.setdefault(record["message_id"], []).append(record)
        # Never restarted, not even by reset or a restart on the same store: a MessageId is never handed out twice.
        self._message_ids = count(self._first_message_id())
        self._clear_windows()

    def _first_message_id(self) -> int:
        first = FIRST_MESSAGE_ID
        if self.history.store is not None:
            first = max(first, self.history.store.next_message_id() or 0)
        for entry in (*self.history.pushes, *self.history.calls):
            for message_id in str(entry.get("message_id") or "").split(","):
                # ASCII and bounded: "²" is a digit to isdigit() and 5,000 digits are too many for int().
                if message_id.isascii() and message_id.isdigit() and len(message_id) <= 19:
                    first = max(first, int(message_id) + 1)
        return first

    def _clear_windows(self) -> None:
        self.tokens: dict[tuple[int, str, str], tuple[float, dict[str, Any]]] = {}
        self._last_full_push: dict[tuple[int, str], float] = {}
        self._full_push_times: dict[tuple[int, str, str], deque[float]] = {}
        self._action_times: dict[str, deque[float]] = {}

    def reset(self, keep_devices: bool = False) -> None:
        """Forget pushes, tokens, nonces, rate windows and faults, and devices unless ``keep_devices``.

        MessageIds keep counting up.
        """
        with self.lock:
            self._clear_windows()
            self.history.clear()
            self.messages = {}
            if self.history.store is not None:
                self.history.store.save_next_message_id(self._peek_message_id())
            self.auth.reset()
            self.faults.clear()
            if not keep_devices:
                self.registry.clear()

    # --- pushes -------------------------------------------------------------------------------

    def next_message_id(self) -> str:
        """A new MessageId: a decimal string, never handed out twice by this state (not even after a reset)."""
        return str(next(self._message_ids))

    def _peek_message_id(self) -> int:
        value = next(self._message_ids)
        self._message_ids = count(value)
        return value

    def close(self) -> None:
        """Save the MessageId counter in the store, if any, and close the file (the emulator is stopping),
        which frees it for another emulator; :meth:`open` takes it back when this one starts again."""
        with self.lock:
            if self.history.store is not None:
                self.history.store.save_next_message_id(self._peek_message_id())
                self.history.store.close()

    def open(self) -> None:
        """Take the store file back after :meth:`close` (nothing to do without a store or when open).

        Raises :class:`EmulatorError` when another emulator holds the file meanwhile.
        """
        with self.lock:
            if self.history.store is not None:
                self.history.store.reopen()

    def record_push(self, record: dict[str, Any]) -> None:
        """Store one accepted push record (``message_id``, ``action``, ``params``, ``devices``…); hold the lock.

        The ring forgets the oldest record when full; CancelPush and QueryPushStatByMsg forget it too.
        """
        evicted = self.history.add_push(record)
        self.messages.setdefault(record["message_id"], []).append(record)
        if evicted is not None:
            kept = [r for r in self.messages.get(evicted["message_id"], []) if r is not evicted]
            if kept:
                self.messages[evicted["message_id"]] = kept
            else:
                self.messages.pop(evicted["message_id"], None)

    def snapshot(self) -> list[dict[str, Any]]:
        """Deep copies of every push record kept, oldest first."""
        with self.lock:
            return self.history.push_page()

    def record_call(self, call: dict[str, Any]) -> None:
        """Keep one call (see :mod:`pushfn.emulator.history`) and tell the live feed; hold the lock.

        ``call`` has every field of the inbox's call but ``seq``, which the history assigns.
        """
        self.history.add_call(call)

    def set_qps_limit(self, action: str, qps: float | None) -> None:
        """Answer ``Throttling.User`` to ``action`` beyond ``qps`` requests per rolling second; ``None`` removes it.

        Raises :class:`EmulatorError` for an action the emulator does not answer (``push``: such a limit
        would never apply) or a ``qps`` that is not a positive number (``"5"`` failed every call with a
        TypeError, NaN never throttled, 0 or less refused everything)."""
        if not isinstance(action, str) or _known_actions(action) != [action]:  # one name, as the calls carry it
            raise EmulatorError(f"a qps limit names one API action, got {action!r}")
        with self.lock:
            if qps is None:
                self.qps_limits.pop(action, None)
                return
            if not isinstance(qps, (int, float)) or isinstance(qps, bool) or not 0 < qps < float("inf"):
                raise EmulatorError(f"qps for {action} must be a positive number, got {qps!r}")
            self.qps_limits[action] = float(qps)

    def device_view(self, app_key: int | None, device_id: str, device_type: str) -> dict[str, Any]:
        """A device as a call shows it: its registered type, account, aliases and tags, or the push's type."""
        app = self.registry.apps.get(app_key) if app_key is not None else None
        device = app.devices.get(device_id) if app is not None else None
        if device is None:
            return {"device_id": device_id, "device_type": device_type, "account": None, "aliases": [], "tags": []}
        return {
            "device_id": device.device_id,
            "device_type": device.device_type,
            "account": device.account,
            "aliases": sorted(device.aliases),
            "tags": sorted(device.tags),
        }

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
            while self.tokens:  # oldest first: forget tokens past the window, so the map stays bounded
                oldest = next(iter(self.tokens))
                if now - self.tokens[oldest][0] <= IDEMPOTENCY_WINDOW_SECONDS:
                    break
                del self.tokens[oldest]
            # A Push answer holds strings only, which a shallow copy keeps as well as deepcopy (for a
            # tenth of its cost); a MassPush answer nests its list of ids.
            kept = dict(data) if all(type(value) is str for value in data.values()) else copy.deepcopy(data)
            self.tokens[(app_key, action, token)] = (now, kept)
            while len(self.tokens) > self.history.ring_size:  # and never more than the ring holds
                del self.tokens[next(iter(self.tokens))]

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


# --- faults ------------------------------------------------------------------------------------

KINDS = ("internal_error", "throttle", "latency", "drop")
#: What a refusal's Code looks like (``Throttling.User``, ``Flow.Limited``): dotted words.
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*")
#: Longest delay a fault asks for (latency_ms, retry_after_ms): a day, in milliseconds.
MAX_FAULT_DELAY_MS = 86_400_000
#: Kinds answered without processing the request.
BEFORE_PROCESSING = ("internal_error", "throttle")


@dataclass
class Fault:
    """One injected fault.

    ``kind``: one of :data:`KINDS`; ``remaining``: matching requests it still hits (``None`` when
    rate-based); ``rate``: probability (0 to 1) of hitting each matching request; ``latency_ms``: the
    delay of a ``latency`` fault, milliseconds; ``actions``: the API actions it applies to (``None``:
    every action). A ``throttle`` fault answers ``code`` (default ``Throttling.User``) and, when
    ``retry_after_ms`` is set, the ``x-acs-retry-after`` header (milliseconds, as the gateway sends it
    and the official SDK reads it) — a refusal of any code that asks the caller to wait.
    """

    id: int
    kind: str
    remaining: int | None  # None: rate-based, active until reset
    rate: float | None
    latency_ms: int
    actions: frozenset[str] | None
    code: str | None = None
    retry_after_ms: int | None = None

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
            "code": self.code,
            "retry_after_ms": self.retry_after_ms,
        }


def _known_actions(actions: str | Iterable[str]) -> list[str]:
    """``actions`` as a list of names the emulator answers ("Push,MassPush" splits at commas).

    A name it does not answer (``push``: names are case-sensitive) or no name at all would make a
    fault that never fires, so both raise :class:`EmulatorError` naming the known actions.
    """
    from pushfn.emulator.actions import ACTIONS  # actions imports this module: look it up when used

    names = _names(actions, "actions")
    unknown = [name for name in names if name not in ACTIONS]
    if unknown or not names:
        found = f"unknown actions {unknown}" if unknown else "no action named"
        raise EmulatorError(f"{found}; name API actions among {', '.join(ACTIONS)}")
    return names


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
        code: str | None = None,
        retry_after_ms: int | None = None,
    ) -> Fault:
        """``count`` next matching requests, or with ``rate`` each matching request with that
        probability (until reset). ``actions`` limits the fault to those API actions (a list, or one
        comma-separated string); ``code`` and ``retry_after_ms`` (``throttle`` only) are the refusal's
        Code and ``x-acs-retry-after``. Raises :class:`EmulatorError` for an unknown kind, a bad number,
        or an action name the emulator does not answer."""
        if kind not in KINDS:
            raise EmulatorError(f"fault kind must be one of {', '.join(KINDS)}, got {kind!r}")
        # bool is an int to Python: True would be a count of 1 shown as "remaining": true, a rate of 1.0.
        if rate is not None and (
            not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0.0 <= float(rate) <= 1.0
        ):
            raise EmulatorError(f"rate must be within [0, 1], got {rate!r}")
        if rate is None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise EmulatorError(f"count must be a positive integer, got {count!r}")
        # Bounded like retry_after_ms: 10**400 ms cannot become the seconds asyncio waits (OverflowError,
        # a 500 after the push was kept), and a day is already longer than any client waits.
        if not isinstance(latency_ms, int) or isinstance(latency_ms, bool) or not 0 <= latency_ms <= MAX_FAULT_DELAY_MS:
            raise EmulatorError(f"latency_ms must be an integer from 0 to {MAX_FAULT_DELAY_MS}, got {latency_ms!r}")
        if actions is not None:
            actions = _known_actions(actions)
        if (code is not None or retry_after_ms is not None) and kind != "throttle":
            raise EmulatorError("code and retry_after_ms apply to a throttle fault only")
        if code is not None and not (isinstance(code, str) and _ERROR_CODE.fullmatch(code)):
            raise EmulatorError(f"code must look like a CloudPush Code (Flow.Limited), got {code!r}")
        if retry_after_ms is not None and (
            isinstance(retry_after_ms, bool)
            or not isinstance(retry_after_ms, int)
            or not 0 <= retry_after_ms <= MAX_FAULT_DELAY_MS
        ):
            raise EmulatorError(
                f"retry_after_ms must be an integer from 0 to {MAX_FAULT_DELAY_MS}, got {retry_after_ms!r}"
            )
        fault = Fault(
            next(self._ids),
            kind,
            None if rate is not None else count,
            None if rate is None else float(rate),
            latency_ms,
            frozenset(actions) if actions is not None else None,
            code,
            retry_after_ms,
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


# --- operations of the Python API and the control routes --------------------------------------

_NAMES = "a string or a list of strings"
#: Control-API fields and the JSON types each accepts (a bool is not a number here).
DEVICE_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "device_id": ((str,), "a string"),
    "account": ((str, type(None)), "a string or null"),
    "aliases": ((str, list, type(None)), _NAMES),
    "tags": ((str, list, type(None)), _NAMES),
    "device_type": ((str,), "a string"),
    "app_key": ((int, type(None)), "an integer"),
    "online": ((bool,), "true or false"),
}
FAULT_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "kind": ((str,), "a string"),
    "count": ((int,), "an integer"),
    "rate": ((int, float, type(None)), "a number or null"),
    "latency_ms": ((int,), "an integer"),
    "actions": ((str, list, type(None)), _NAMES),
    "code": ((str, type(None)), "a string or null"),
    "retry_after_ms": ((int, type(None)), "an integer or null"),
}


def check_fields(fields: Mapping[str, Any], spec: Mapping[str, tuple[tuple[type, ...], str]], what: str) -> None:
    """Refuse unknown keys and values of the wrong JSON type (``true`` is no integer) with an :class:`EmulatorError`."""
    unknown = set(fields) - set(spec)
    if unknown:
        raise EmulatorError(f"unknown {what} fields {sorted(unknown)}; known: {sorted(spec)}")
    for name, value in fields.items():
        types, expected = spec[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise EmulatorError(f"{what} field {name!r} must be {expected}, got {type(value).__name__}")


def _app_key(state: EmulatorState, app_key: int | None) -> int:
    if app_key is not None and (not isinstance(app_key, int) or isinstance(app_key, bool)):
        # int() would serve True as AppKey 1, 5.0 as 5, and raise ValueError for "x".
        raise EmulatorError(f"app_key must be an integer, got {type(app_key).__name__}")
    key = state.app_keys[0] if app_key is None else app_key
    if key not in state.app_keys:
        raise EmulatorError(f"app_key {key} is not served by this emulator ({state.app_keys})")
    return key


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (str, list, tuple, set, frozenset)):
        raise EmulatorError(f"{what} must be a string or a list of strings, got {type(value).__name__}")
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise EmulatorError(f"{what} must be strings")
    return [item.strip() for item in items if item.strip()]


def register_device(
    state: EmulatorState,
    device_id: str,
    account: str | None = None,
    aliases: str | Iterable[str] = (),
    tags: str | Iterable[str] = (),
    device_type: str = "ANDROID",
    app_key: int | None = None,
    online: bool = True,
) -> dict[str, Any]:
    """Register (or replace) a device in ``app_key``'s registry (default: the first AppKey served).

    ``aliases`` / ``tags``: a comma-separated string or an iterable of strings; ``device_type``:
    ANDROID, iOS or HARMONY in any case. Test setup, so no API limit applies. Returns
    ``{"app_key", "device_id", "device_type", "account", "aliases", "tags", "online"}``. Raises
    :class:`EmulatorError` for an AppKey not served, an empty ``device_id``, an unknown device type,
    names that are not strings, or a value of the wrong type (``online="no"``, ``app_key=True``: the
    control API's JSON types, for Python callers too).
    """
    if account is not None and not isinstance(account, str):
        raise EmulatorError(f"account must be a string or None, got {type(account).__name__}")
    if not isinstance(online, bool):  # bool("no") is True
        raise EmulatorError(f"online must be True or False, got {type(online).__name__}")
    with state.lock:
        key = _app_key(state, app_key)
        device = state.registry.app(key).register(
            device_id,
            account=account,
            aliases=_names(aliases, "aliases"),
            tags=_names(tags, "tags"),
            device_type=device_type,
            online=online,
        )
        return {"app_key": key, **device.to_dict()}


def register_devices(state: EmulatorState, entries: list[Any]) -> list[dict[str, Any]]:
    """Register each entry (a JSON object with the keywords of :func:`register_device`) in order.

    Returns their records. Raises :class:`EmulatorError` for an entry that is not an object, has an
    unknown key or no ``device_id``; the entries before it stay registered.
    """
    registered = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise EmulatorError("each device must be a JSON object")
        check_fields(entry, DEVICE_FIELDS, "device")
        if "device_id" not in entry:
            raise EmulatorError("device_id is required")
        registered.append(register_device(state, **entry))
    return registered


def list_devices(state: EmulatorState, app_key: int | None = None) -> list[dict[str, Any]]:
    """Registered devices of ``app_key`` (default: every AppKey served), as :func:`register_device` returns them.

    Raises :class:`EmulatorError` for an AppKey not served.
    """
    with state.lock:
        keys = state.app_keys if app_key is None else (_app_key(state, app_key),)
        return [
            {"app_key": key, **device.to_dict()} for key in keys for device in state.registry.app(key).devices.values()
        ]


def add_fault(state: EmulatorState, **fields: Any) -> dict[str, Any]:
    """Add a fault from control-API fields; returns it as :meth:`Fault.to_dict`.

    ``kind`` is required; ``count``, ``rate``, ``latency_ms`` and ``actions`` as for
    :meth:`FaultPlan.add`. Raises :class:`EmulatorError` for an unknown field or a bad value.
    """
    unknown = set(fields) - set(FAULT_FIELDS)
    if unknown:
        raise EmulatorError(f"unknown fault fields {sorted(unknown)}; known: {sorted(FAULT_FIELDS)}")
    if "kind" not in fields:
        raise EmulatorError("kind is required")
    with state.lock:
        return state.faults.add(**fields).to_dict()
