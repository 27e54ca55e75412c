"""A local CloudPush (Alibaba Cloud Mobile Push, API 2016-08-01) on loopback HTTP.

It verifies V2 and V3 signatures like the service, enforces the documented limits, resolves
targets against a device registry, honours ``IdempotentToken``, records every accepted push,
injects faults on request and shows the pushes on an inbox page at ``/``::

    with Emulator() as emu:                      # any free port on 127.0.0.1
        client = PushClient(endpoint=emu.url, app_key=23267207, ...)
        ...
        assert emu.pushes()[0]["devices"] == [...]

Stdlib only at run time (plus :mod:`pushfn.push.signing`).
"""

from __future__ import annotations

from pushfn.emulator.emulator import Emulator, serve
from pushfn.emulator.errors import ApiError, EmulatorError
from pushfn.emulator.settings import EmulatorSettings

__all__ = ["ApiError", "Emulator", "EmulatorError", "EmulatorSettings", "serve"]
