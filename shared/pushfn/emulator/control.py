"""State operations shared by the Python API (:class:`Emulator`) and the HTTP control routes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pushfn.emulator.errors import EmulatorError
from pushfn.emulator.state import EmulatorState

DEVICE_FIELDS = {"device_id", "account", "aliases", "tags", "device_type", "app_key", "online"}
FAULT_FIELDS = {"kind", "count", "rate", "latency_ms", "actions"}


def _app_key(state: EmulatorState, app_key: int | None) -> int:
    key = state.app_keys[0] if app_key is None else int(app_key)
    if key not in state.app_keys:
        raise EmulatorError(f"app_key {key} is not served by this emulator ({state.app_keys})")
    return key


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
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
    :class:`EmulatorError` for an AppKey not served, an empty ``device_id``, an unknown device type or
    names that are not strings.
    """
    with state.lock:
        key = _app_key(state, app_key)
        device = state.registry.app(key).register(
            device_id,
            account=account,
            aliases=_names(aliases, "aliases"),
            tags=_names(tags, "tags"),
            device_type=device_type,
            online=bool(online),
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
        unknown = set(entry) - DEVICE_FIELDS
        if unknown:
            raise EmulatorError(f"unknown device fields {sorted(unknown)}; known: {sorted(DEVICE_FIELDS)}")
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
    unknown = set(fields) - FAULT_FIELDS
    if unknown:
        raise EmulatorError(f"unknown fault fields {sorted(unknown)}; known: {sorted(FAULT_FIELDS)}")
    if "kind" not in fields:
        raise EmulatorError("kind is required")
    with state.lock:
        return state.faults.add(**fields).to_dict()
