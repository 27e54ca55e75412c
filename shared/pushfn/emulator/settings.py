"""Emulator settings: built-in defaults, overridable by settings (``PUSHFN_EMULATOR_*``) and CLI flags.

The defaults are the values of the API docs' own examples (``testid`` / ``testsecret``, AppKey
``23267207``), so snippets copied from the docs work against the emulator unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pushfn.emulator.errors import EmulatorError
from pushfn.settings import Settings

DEFAULT_ACCESS_KEY_ID = "testid"
DEFAULT_ACCESS_KEY_SECRET = "testsecret"
DEFAULT_APP_KEY = 23267207
DEFAULT_HOST = "127.0.0.1"
#: Port of ``serve`` (a stable one you can put in PUSH_ENDPOINT); the class defaults to 0 (any free port).
DEFAULT_SERVE_PORT = 9100

ENV_ACCESS_KEY_ID = "PUSHFN_EMULATOR_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "PUSHFN_EMULATOR_ACCESS_KEY_SECRET"
ENV_APP_KEY = "PUSHFN_EMULATOR_APP_KEY"


def parse_app_keys(value: str) -> tuple[int, ...]:
    """``"23267207"`` or ``"1,2"`` → ``(23267207,)`` / ``(1, 2)``."""
    try:
        keys = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise EmulatorError(f"{ENV_APP_KEY} must be integers separated by commas, got {value!r}") from None
    if not keys:
        raise EmulatorError(f"{ENV_APP_KEY} is empty")
    return keys


@dataclass(frozen=True)
class EmulatorSettings:
    """Who may call the emulator and for which apps."""

    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    access_key_secret: str = field(default=DEFAULT_ACCESS_KEY_SECRET, repr=False)
    app_keys: tuple[int, ...] = (DEFAULT_APP_KEY,)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmulatorSettings:
        """``PUSHFN_EMULATOR_ACCESS_KEY_ID`` / ``_SECRET`` / ``_APP_KEY`` of ``settings`` (their defaults
        are the docs' example values). Raises :class:`EmulatorError` for app keys that are not integers."""
        return cls(
            access_key_id=settings.pushfn_emulator_access_key_id,
            access_key_secret=settings.pushfn_emulator_access_key_secret,
            app_keys=parse_app_keys(settings.pushfn_emulator_app_key),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmulatorSettings:
        """:meth:`from_settings` of ``Settings.from_env(env)`` (default: the process environment)."""
        return cls.from_settings(Settings.from_env(env))
