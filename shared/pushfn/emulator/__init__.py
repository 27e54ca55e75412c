"""A local CloudPush (Alibaba Cloud Mobile Push, API 2016-08-01) on loopback HTTP.

It verifies V2 and V3 signatures like the service, enforces the documented limits, resolves
targets against a device registry, honours ``IdempotentToken``, records every accepted push,
injects faults on request and shows every call live on an inbox page at ``/``::

    with Emulator() as emu:                      # any free port on 127.0.0.1
        client = PushClient(endpoint=emu.url, app_key=23267207, ...)
        ...
        assert emu.pushes()[0]["devices"] == [...]

Modules, one job each: :mod:`~pushfn.emulator.app` (the :class:`Emulator` class, its settings,
:func:`serve`), :mod:`~pushfn.emulator.server` (HTTP on aiohttp: API, control routes, live feed, inbox
files, the loopback rules), :mod:`~pushfn.emulator.wire` (a request parsed once, an answer rendered),
:mod:`~pushfn.emulator.auth` (V2/V3 signatures, STS, timestamps, nonces), :mod:`~pushfn.emulator.actions`
(the pipeline and one handler per action), :mod:`~pushfn.emulator.rules` (parameter names, typed
reads, tag expressions, documented limits), :mod:`~pushfn.emulator.registry` (devices, aliases,
tags, target resolution), :mod:`~pushfn.emulator.state` (everything remembered, faults, control
operations), :mod:`~pushfn.emulator.history` (bounded rings of pushes and calls, SQLite store),
:mod:`~pushfn.emulator.errors`. aiohttp is imported only when an emulator starts.
"""

from __future__ import annotations

from pushfn.emulator.app import Emulator, EmulatorSettings, serve
from pushfn.emulator.errors import ApiError, EmulatorError

__all__ = ["ApiError", "Emulator", "EmulatorError", "EmulatorSettings", "serve"]
