"""The device registry: which devices an app has, and their account, aliases and tags.

Targets resolve against it the way CloudPush resolves them: DEVICE lists the ids themselves,
ACCOUNT / ALIAS / TAG / ALL select registered devices, always filtered by the push's DeviceType.
Not thread-safe on its own: the emulator state holds the one lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pushfn.emulator.errors import ApiError, EmulatorError
from pushfn.emulator.rules import MAX_ACCOUNT_BYTES, MAX_ALIAS_BYTES, MAX_TAG_CHARS, TagNode, evaluate
from pushfn.json_input import JsonInputError, check_text

DEVICE_TYPES = {"android": "ANDROID", "ios": "iOS", "harmony": "HARMONY"}
MAX_ALIASES_PER_DEVICE = 128
MAX_DEVICES_PER_ALIAS = 128
MAX_DEVICES_PER_ACCOUNT = 10_000


def normalise_device_type(value: str) -> str:
    """``ANDROID``, ``iOS`` or ``HARMONY`` for any capitalisation of them (``ios`` → ``iOS``).

    Raises :class:`EmulatorError` for anything else, ``ALL`` included (a device has one platform).
    """
    try:
        return DEVICE_TYPES[value.lower()]
    except (KeyError, AttributeError):
        raise EmulatorError(f"device_type must be ANDROID, iOS or HARMONY, got {value!r}") from None


@dataclass
class Device:
    """A registered device of one app.

    ``device_type``: ``ANDROID``, ``iOS`` or ``HARMONY``; ``account``: the bound account or ``None``;
    ``online`` is only reported (QueryDeviceInfo), pushes reach offline devices too.
    """

    device_id: str
    device_type: str = "ANDROID"
    account: str | None = None
    aliases: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    online: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, aliases and tags as sorted lists."""
        return {
            "device_id": self.device_id,
            "device_type": self.device_type,
            "account": self.account,
            "aliases": sorted(self.aliases),
            "tags": sorted(self.tags),
            "online": self.online,
        }


class AppRegistry:
    """Devices of one AppKey."""

    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        #: Tags known to the app: bound at least once and not removed (what ListTags lists).
        self.tags: set[str] = set()

    # --- registration (control API) -------------------------------------------------------------

    def register(
        self,
        device_id: str,
        *,
        account: str | None = None,
        aliases: Iterable[str] = (),
        tags: Iterable[str] = (),
        device_type: str = "ANDROID",
        online: bool = True,
    ) -> Device:
        """Add or replace ``device_id`` (control API: no API limit applies); its tags become known to the app.

        Raises :class:`EmulatorError` for an id, account or alias no push could name (empty, blank at
        either end, with a comma: TargetValue separates them with commas and trims them), a tag longer
        than a TAG TargetValue's 128 characters, an account past 64 or an alias past 128 UTF-8 bytes
        (an ACCOUNT / ALIAS item's limits), a name that is not Unicode text (a lone surrogate could not
        be answered as JSON), or an unknown device type.
        """
        if not isinstance(device_id, str) or not device_id.strip():
            raise EmulatorError("device_id must be a non-empty string")
        aliases, tags = list(aliases), list(tags)
        # DEVICE, ACCOUNT and ALIAS TargetValues are comma lists with each item trimmed: a name that is
        # blank, has a comma or blanks at an end could be registered but never reached by any push.
        for what, names in (
            ("device_id", [device_id]),
            ("account", [account] if account else []),
            ("aliases", aliases),
        ):
            for name in names:
                if isinstance(name, str) and (name != name.strip() or "," in name or not name):
                    raise EmulatorError(
                        f"{what} {name[:80]!r} is blank, has a comma or blanks at an end, so no push could name it"
                    )
        for tag in tags:
            if isinstance(tag, str) and len(tag) > MAX_TAG_CHARS:  # a TAG TargetValue names at most 128
                raise EmulatorError(
                    f"tags {tag[:40]!r}… is longer than {MAX_TAG_CHARS} characters, so no push could name it"
                )
        # An ACCOUNT / ALIAS TargetValue item is refused past these (InvalidTargetValue.BytesExceed).
        for what, names, limit in (
            ("account", [account] if account else [], MAX_ACCOUNT_BYTES),
            ("aliases", aliases, MAX_ALIAS_BYTES),
        ):
            for name in names:
                if isinstance(name, str) and len(name.encode("utf-8", "replace")) > limit:
                    raise EmulatorError(f"{what} {name[:40]!r}… is longer than {limit} bytes, so no push could name it")
        try:
            for what, names in (
                ("device_id", [device_id]),
                ("account", [account or ""]),
                ("aliases", aliases),
                ("tags", tags),
            ):
                for name in names:
                    check_text(name, what)
        except JsonInputError as exc:
            raise EmulatorError(str(exc)) from None
        device = Device(
            device_id,
            normalise_device_type(device_type),
            account or None,
            set(aliases),
            set(tags),
            online,
        )
        self.devices[device_id] = device
        self.tags |= device.tags
        return device

    def require(self, device_id: str) -> Device:
        """The registered device ``device_id``.

        Raises :class:`ApiError` ``InvalidDeviceId.NotFound``.
        """
        device = self.devices.get(device_id)
        if device is None:
            raise ApiError("InvalidDeviceId.NotFound", f"The device {device_id!r} does not exist in this app.")
        return device

    # --- lookups -----------------------------------------------------------------------------

    def by_account(self, account: str) -> list[str]:
        """Sorted ids of the devices bound to ``account``."""
        return sorted(d.device_id for d in self.devices.values() if d.account == account)

    def by_alias(self, alias: str) -> list[str]:
        """Sorted ids of the devices bound to ``alias``."""
        return sorted(d.device_id for d in self.devices.values() if alias in d.aliases)

    def with_tag(self, tag: str) -> set[str]:
        """Ids of the devices carrying ``tag``."""
        return {d.device_id for d in self.devices.values() if tag in d.tags}

    # --- association actions -----------------------------------------------------------------

    def bind_alias(self, device_id: str, aliases: list[str]) -> None:
        """Add ``aliases`` to a device; all or nothing.

        Raises :class:`ApiError` ``InvalidDeviceId.NotFound``, or ``InvalidAliasName.CountExceed`` beyond
        128 aliases per device or 128 devices per alias.
        """
        device = self.require(device_id)
        new = [a for a in aliases if a not in device.aliases]
        if len(device.aliases) + len(new) > MAX_ALIASES_PER_DEVICE:
            raise ApiError("InvalidAliasName.CountExceed", f"A device has at most {MAX_ALIASES_PER_DEVICE} aliases.")
        for alias in new:
            if len(self.by_alias(alias)) >= MAX_DEVICES_PER_ALIAS:
                raise ApiError(
                    "InvalidAliasName.CountExceed",
                    f"An alias is bound to at most {MAX_DEVICES_PER_ALIAS} devices.",
                )
        device.aliases.update(new)

    def unbind_alias(self, device_id: str, aliases: list[str] | None) -> None:
        """Remove ``aliases`` (every alias when ``None``) from a device; aliases it lacks are ignored.

        Raises :class:`ApiError` ``InvalidDeviceId.NotFound``.
        """
        device = self.require(device_id)
        if aliases is None:
            device.aliases.clear()
        else:
            device.aliases.difference_update(aliases)

    def bind_tag(self, device_ids: list[str], tags: list[str]) -> None:
        """Add ``tags`` to every device and to the app's tag list; all or nothing.

        Raises :class:`ApiError` ``InvalidDeviceId.NotFound`` when any device is not registered.
        """
        devices = [self.require(d) for d in device_ids]
        for device in devices:
            device.tags.update(tags)
        self.tags.update(tags)

    def unbind_tag(self, device_ids: list[str], tags: list[str]) -> None:
        """Remove ``tags`` from every device (the app keeps listing them); all or nothing.

        Raises :class:`ApiError` ``InvalidDeviceId.NotFound`` when any device is not registered.
        """
        for device in [self.require(d) for d in device_ids]:
            device.tags.difference_update(tags)

    def remove_tag(self, tag: str) -> None:
        """Delete ``tag`` from every device and from the app's tag list; an unknown tag is no error."""
        for device in self.devices.values():
            device.tags.discard(tag)
        self.tags.discard(tag)

    # --- target resolution -------------------------------------------------------------------

    def _of_type(self, device_type: str) -> list[Device]:
        return [d for d in self.devices.values() if device_type == "ALL" or d.device_type == device_type]

    def _is_of_type(self, device_id: str, device_type: str) -> bool:
        device = self.devices.get(device_id)
        return device is not None and (device_type == "ALL" or device.device_type == device_type)

    def resolve(self, target: str, values: list[str], tag_expression: TagNode | None, device_type: str) -> list[str]:
        """Device ids a push reaches, in a stable order, without duplicates."""
        devices = self.devices
        if target == "DEVICE":
            # CloudPush accepts ids it has never seen (they just receive nothing); only a registered
            # device of another platform is left out, as the real DeviceType filter would.
            kept = [v for v in values if v not in devices or self._is_of_type(v, device_type)]
            return list(dict.fromkeys(kept))
        # A list target looks up only its own devices: the whole registry is read for TAG and ALL only.
        if target in ("ACCOUNT", "ALIAS"):
            lookup = self.by_account if target == "ACCOUNT" else self.by_alias
            found = [d for value in values for d in lookup(value)]
            return [d for d in dict.fromkeys(found) if self._is_of_type(d, device_type)]
        eligible = {d.device_id for d in self._of_type(device_type)}
        if target == "TAG" and tag_expression is not None:
            found = sorted(evaluate(tag_expression, self.with_tag, eligible))
        elif target == "ALL":
            found = sorted(eligible)
        else:  # TBD: targets come later through ContinuouslyPush
            found = []
        return [d for d in dict.fromkeys(found) if d in eligible]


class Registry:
    """One :class:`AppRegistry` per AppKey the emulator serves."""

    def __init__(self, app_keys: Iterable[int]) -> None:
        self.apps: dict[int, AppRegistry] = {int(k): AppRegistry() for k in app_keys}

    def app(self, app_key: int) -> AppRegistry:
        """The registry of ``app_key``.

        Raises :class:`EmulatorError` for an AppKey the emulator does not serve.
        """
        try:
            return self.apps[app_key]
        except KeyError:
            raise EmulatorError(f"unknown app key {app_key}") from None

    def clear(self) -> None:
        """Forget every device and tag of every app."""
        for key in self.apps:
            self.apps[key] = AppRegistry()
