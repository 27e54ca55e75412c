"""Emulator settings: built-in defaults, overridable by environment variables and CLI flags.

The defaults are the values of the API docs' own examples (``testid`` / ``testsecret``, AppKey
``23267207``), so snippets copied from the docs work against the emulator unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pushfn.emulator.errors import EmulatorError

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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorSettings:
        env = os.environ if environ is None else environ
        app_keys = env.get(ENV_APP_KEY)
        return cls(
            access_key_id=env.get(ENV_ACCESS_KEY_ID) or DEFAULT_ACCESS_KEY_ID,
            access_key_secret=env.get(ENV_ACCESS_KEY_SECRET) or DEFAULT_ACCESS_KEY_SECRET,
            app_keys=parse_app_keys(app_keys) if app_keys else (DEFAULT_APP_KEY,),
        )
