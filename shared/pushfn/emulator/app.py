"""The public face: :class:`Emulator` (start, stop, inspect, script faults), its settings, and :func:`serve`.

Settings: built-in defaults, overridable by settings (``PUSHFN_EMULATOR_*``) and CLI flags. The
defaults are the values of the API docs' own examples (``testid`` / ``testsecret``, AppKey
``23267207``), so snippets copied from the docs work against the emulator unchanged.

The HTTP server (:mod:`pushfn.emulator.server`, aiohttp) is imported by :meth:`Emulator.start`
only, so importing this module stays cheap.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from pushfn.emulator import state as operations
from pushfn.emulator.auth import Credential
from pushfn.emulator.errors import EmulatorError
from pushfn.emulator.history import DEFAULT_RING_SIZE, MAX_PAGE
from pushfn.emulator.state import EmulatorState
from pushfn.settings import Settings

if TYPE_CHECKING:
    from pushfn.api_time import Clock
    from pushfn.emulator.server import EmulatorServer
    from pushfn.push import PushClient

DEFAULT_ACCESS_KEY_ID = "testid"
DEFAULT_ACCESS_KEY_SECRET = "testsecret"
DEFAULT_APP_KEY = 23267207
DEFAULT_HOST = "127.0.0.1"
#: Port of ``serve`` (a stable one you can put in PUSH_ENDPOINT); the class defaults to 0 (any free port).
DEFAULT_SERVE_PORT = 9100

ENV_ACCESS_KEY_ID = "PUSHFN_EMULATOR_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "PUSHFN_EMULATOR_ACCESS_KEY_SECRET"
ENV_APP_KEY = "PUSHFN_EMULATOR_APP_KEY"


#: AppKeys are positive signed 64-bit integers (a Java ``Long`` on the service side).
MAX_APP_KEY = 2**63 - 1


def parse_app_keys(value: str) -> tuple[int, ...]:
    """``"23267207"`` or ``"1,2"`` → ``(23267207,)`` / ``(1, 2)``.

    Raises :class:`EmulatorError` naming ``PUSHFN_EMULATOR_APP_KEY`` unless each part is ASCII digits
    from 1 to :data:`MAX_APP_KEY` (``int()`` alone took ``-5``, ``0``, ``1_000``, full-width digits and
    numbers no request could carry)."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise EmulatorError(f"{ENV_APP_KEY} is empty")
    for part in parts:
        if not (part.isascii() and part.isdigit() and len(part) <= 19 and 1 <= int(part) <= MAX_APP_KEY):
            raise EmulatorError(
                f"{ENV_APP_KEY} must be AppKeys (whole numbers from 1 to {MAX_APP_KEY}) separated by commas,"
                f" got {part[:40]!r}"
            )
    return tuple(int(part) for part in parts)


def check_app_keys(app_keys: Iterable[Any]) -> tuple[int, ...]:
    """``app_keys`` given to :class:`Emulator` as a tuple; at least one.

    Raises :class:`EmulatorError` for one that is not an integer (``True``, ``"5"``, ``5.7`` were
    turned into 1, 5 and 5) or is outside 1 to :data:`MAX_APP_KEY`."""
    keys = tuple(app_keys)
    for key in keys:
        if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= MAX_APP_KEY:
            raise EmulatorError(f"app_keys must be whole numbers from 1 to {MAX_APP_KEY}, got {key!r}")
    if not keys:
        raise EmulatorError("at least one app key is required")
    return keys


def _check_key_part(value: Any, what: str, shown: bool) -> str:
    # A secret or token is never quoted back; an AccessKeyId may be (it travels in every request).
    if not isinstance(value, str) or not value:
        raise EmulatorError(f"{what} must be a non-empty string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a non-UTF-8 argv or environment byte arrives as a lone surrogate
        raise EmulatorError(f"{what} must be Unicode text (it holds a byte that is not UTF-8)") from None
    if shown and not value.isprintable():
        raise EmulatorError(f"{what} must be printable, got {value[:40]!r}")
    return value


def check_credentials(
    access_key_id: Any, access_key_secret: Any, security_tokens: Mapping[Any, Any] | None
) -> dict[str, Credential]:
    """The keys an :class:`Emulator` accepts: AccessKeyId → :class:`Credential`.

    ``security_tokens``: ``{access_key_id: (secret, token)}`` for STS keys. Raises
    :class:`EmulatorError` (never quoting a secret or token) for a part that is not a non-empty
    string of Unicode text — a lone surrogate made every request a 500 (UnicodeEncodeError while
    signing), ``5`` or ``b"x"`` a key no request matches — an STS entry that is not a pair
    (``"ab"`` was unpacked as secret ``a``, token ``b``), or an STS key id that is the permanent one.
    """
    key_id = _check_key_part(access_key_id, "access_key_id", shown=True)
    credentials = {key_id: Credential(_check_key_part(access_key_secret, "access_key_secret", shown=False))}
    if security_tokens is not None and not isinstance(security_tokens, Mapping):
        raise EmulatorError("security_tokens must map an AccessKeyId to (secret, token)")
    for sts_id, pair in (security_tokens or {}).items():
        sts_id = _check_key_part(sts_id, "security_tokens key", shown=True)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise EmulatorError(f"security_tokens[{sts_id!r}] must be a (secret, token) pair")
        if sts_id in credentials:
            raise EmulatorError(f"security_tokens names {sts_id!r} twice or as the permanent access_key_id")
        secret = _check_key_part(pair[0], f"the secret of security_tokens[{sts_id!r}]", shown=False)
        token = _check_key_part(pair[1], f"the token of security_tokens[{sts_id!r}]", shown=False)
        credentials[sts_id] = Credential(secret, token)
    return credentials


@dataclass(frozen=True)
class EmulatorSettings:
    """Who may call the emulator and for which apps."""

    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    access_key_secret: str = field(default=DEFAULT_ACCESS_KEY_SECRET, repr=False)
    app_keys: tuple[int, ...] = (DEFAULT_APP_KEY,)
    #: Calls and accepted pushes kept (``PUSHFN_EMULATOR_RING_SIZE``), each in its own ring.
    ring_size: int = DEFAULT_RING_SIZE

    @classmethod
    def from_settings(cls, settings: Settings) -> EmulatorSettings:
        """``PUSHFN_EMULATOR_ACCESS_KEY_ID`` / ``_SECRET`` / ``_APP_KEY`` of ``settings`` (their defaults
        are the docs' example values). Raises :class:`EmulatorError` for app keys that are not integers."""
        return cls(
            access_key_id=settings.pushfn_emulator_access_key_id,
            access_key_secret=settings.pushfn_emulator_access_key_secret,
            app_keys=parse_app_keys(settings.pushfn_emulator_app_key),
            ring_size=settings.pushfn_emulator_ring_size,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmulatorSettings:
        """:meth:`from_settings` of ``Settings.from_env(env)`` (default: the process environment)."""
        return cls.from_settings(Settings.from_env(env))


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the emulator on this machine: every address it stands for is
    loopback (``localhost``, 127.0.0.0/8 in any spelling the resolver takes — ``127.1``, ``0x7f.1`` —,
    ``::1``, a name in ``/etc/hosts``). ``False`` for the wildcard and for a name that does not resolve
    (see :func:`host_resolves`)."""
    name = host.strip().strip("[]").split("%")[0]
    if name.lower() == "localhost":
        return True
    if not name:
        return False  # "" binds every interface
    if is_loopback_address(name):
        return True
    try:
        ipaddress.ip_address(name)
        return False  # an address literal that is not loopback
    except ValueError:
        pass
    addresses = _addresses(name)
    return bool(addresses) and all(is_loopback_address(str(address)) for address in addresses)


def is_loopback_address(address: str) -> bool:
    """Whether an IP address literal is this machine (an IPv4-mapped IPv6 one too: ``::ffff:127.0.0.1``,
    which Python's own ``is_loopback`` calls False before 3.13); ``False`` for anything not a literal."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def host_resolves(host: str) -> bool:
    """Whether ``host`` names any address at all (a typo such as ``locahost`` does not)."""
    name = host.strip().strip("[]").split("%")[0]
    return not name or bool(_addresses(name))


def _addresses(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    import socket

    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class Emulator:
    """A CloudPush emulator on a real loopback HTTP port.

    ``access_key_id`` / ``access_key_secret`` / ``app_keys`` default to ``settings`` (an
    :class:`EmulatorSettings`, e.g. ``EmulatorSettings.from_settings(Settings.from_env())`` for the
    ``PUSHFN_EMULATOR_*`` variables), whose own defaults are ``testid`` / ``testsecret`` /
    ``(23267207,)``. The emulator never reads the environment itself. ``security_tokens`` adds STS keys:
    ``{access_key_id: (secret, token)}``; requests with those keys must carry that token.
    ``qps_limits`` (``{"Push": 10}``) answers ``Throttling.User`` beyond that many requests per second.
    ``clock`` (epoch seconds) is for tests of the 15-minute windows. ``ring_size`` (default from
    ``settings``, 10,000) bounds the calls and pushes kept; ``store`` names an SQLite file that keeps them
    across restarts, locked to this emulator from construction until :meth:`stop` (a second emulator on
    the same file is an :class:`EmulatorError`: both would hand out the same MessageIds). A ``host``
    that is not loopback needs ``allow_remote=True`` (the API is then reachable from the network; the
    control API and the inbox still answer loopback peers only).
    ``ssl_context`` (a server-side :class:`ssl.SSLContext` with a certificate loaded) serves HTTPS:
    :attr:`url` then starts ``https://``.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        app_keys: Iterable[int] | None = None,
        security_tokens: Mapping[str, tuple[str, str]] | None = None,
        clock: Clock | None = None,
        qps_limits: Mapping[str, float] | None = None,
        log_requests: bool = False,
        settings: EmulatorSettings | None = None,
        ring_size: int | None = None,
        store: str | Path | None = None,
        allow_remote: bool = False,
        ssl_context: Any = None,
    ) -> None:
        base = settings if settings is not None else EmulatorSettings()
        self.settings = EmulatorSettings(
            access_key_id=access_key_id or base.access_key_id,
            access_key_secret=access_key_secret or base.access_key_secret,
            app_keys=check_app_keys(app_keys) if app_keys is not None else base.app_keys,
            ring_size=ring_size if ring_size is not None else base.ring_size,
        )
        check_app_keys(self.settings.app_keys)  # settings built by hand are checked too
        if not isinstance(host, str) or any(not c.isprintable() for c in host):
            raise EmulatorError(f"host must be a host name or address, got {host!r}")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            # int() made True port 1 and 1.5 port 1; bind() raised OverflowError, not OSError, for 70000.
            raise EmulatorError(f"port must be a TCP port from 0 to 65535 (0: any free port), got {port!r}")
        if not allow_remote and not is_loopback_host(host) and host_resolves(host):
            raise EmulatorError(
                f"--host {host} is reachable from the network; the emulator accepts the documented example keys,"
                " so pass --allow-remote (allow_remote=True) if you mean it"
            )
        credentials = check_credentials(self.settings.access_key_id, self.settings.access_key_secret, security_tokens)
        self.state = EmulatorState(
            credentials, self.settings.app_keys, clock, qps_limits, self.settings.ring_size, store
        )
        self._address = (host, port)
        self._log_requests = log_requests
        self._ssl_context = ssl_context
        self._server: EmulatorServer | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind the port and serve from an asyncio loop on a daemon thread; returns ``self``.

        Raises :class:`EmulatorError` when already running or when another emulator took the ``store``
        file since :meth:`stop`, :class:`OSError` when the address cannot be bound.
        """
        from pushfn.emulator.server import EmulatorServer  # aiohttp: only when an emulator runs

        if self._server is not None:
            raise EmulatorError("the emulator is already running")
        self.state.open()  # started again after stop(): its --store file, locked to this emulator again
        try:
            server = EmulatorServer(self.state, self._address, self._log_requests, self._ssl_context)
            server.start()
        except BaseException:
            self.state.close()  # a port in use must not leave the store locked for the next try
            raise
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and free the port (waits at most 5 s); pushes and devices are kept.

        Does nothing when not running.
        """
        server = self._server
        if server is None:
            return
        self._server = None
        server.stop()
        self.state.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (the one picked when constructed with ``port=0``).

        Raises :class:`EmulatorError` when not running.
        """
        if self._server is None:
            raise EmulatorError("the emulator is not running")
        return self._server.port

    @property
    def host(self) -> str:
        """The address the emulator binds, as given (default ``127.0.0.1``)."""
        return self._address[0]

    @property
    def url(self) -> str:
        """``http://host:port`` (``https://`` when serving TLS; an IPv6 host in brackets): the
        ``PUSH_ENDPOINT`` of a pushfn client.

        Raises :class:`EmulatorError` when not running.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """``host:port`` — what the official SDKs take as their endpoint."""
        return self.url.split("://", 1)[1]

    def client(self, **overrides: Any) -> PushClient:
        """A :class:`pushfn.push.PushClient` signed with this emulator's own keys and AppKey.

        ``overrides`` are passed to ``PushClient`` (``timeout``, ``retry``, ``signature_version``,
        ``credentials``…). Imported lazily: the emulator itself never needs the client.
        """
        from pushfn.push import PushClient, StaticCredentials

        settings = self.settings
        kwargs: dict[str, Any] = {
            "endpoint": self.url,
            "app_key": settings.app_keys[0],
            "credentials": StaticCredentials(settings.access_key_id, settings.access_key_secret),
        }
        kwargs.update(overrides)
        return PushClient(**kwargs)

    # --- state --------------------------------------------------------------------------------

    def pushes(self) -> list[dict[str, Any]]:
        """Every accepted push still in the ring, oldest first (one record per MassPush task); copies.

        Each record carries a ``seq``; the ring keeps the last ``ring_size`` records.
        """
        return self.state.snapshot()

    def calls(self, since: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        """Calls still in the ring with ``seq > since``, newest first, as ``GET /_emulator/calls`` gives them.

        Every Push and MassPush call, and every refused or throttled call of any action; copies.
        Raises :class:`EmulatorError` unless ``since`` is a whole number from 0 and ``limit`` one from 1
        to :data:`~pushfn.emulator.history.MAX_PAGE`, the bounds of the control API's ``?since=`` and
        ``?limit=`` (``limit=0`` gave one call, ``since="5"`` raised TypeError).
        """
        for name, value, low in (("since", since, 0), ("limit", limit, 1)):
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not low <= value <= (MAX_PAGE if low else value)
            ):
                bound = f"from 1 to {MAX_PAGE}" if low else "from 0"
                raise EmulatorError(f"{name} must be a whole number {bound}, got {value!r}")
        with self.state.lock:
            return self.state.history.call_page(since=since, limit=limit)

    def reset(self, keep_devices: bool = False) -> None:
        """Forget pushes, faults, nonces, idempotent tokens and rate windows (and devices, unless kept).

        Raises :class:`EmulatorError` when ``keep_devices`` is not a bool (``"no"`` kept them).
        """
        if not isinstance(keep_devices, bool):
            raise EmulatorError(f"keep_devices must be True or False, got {type(keep_devices).__name__}")
        self.state.reset(keep_devices=keep_devices)

    def register_device(
        self,
        device_id: str,
        account: str | None = None,
        aliases: Iterable[str] = (),
        tags: Iterable[str] = (),
        device_type: str = "ANDROID",
        app_key: int | None = None,
        online: bool = True,
    ) -> dict[str, Any]:
        """Register (or replace) a device, so pushes to its id, account, aliases or tags reach it.

        ``aliases`` / ``tags``: strings (or one comma-separated string); ``device_type``: ANDROID, iOS or
        HARMONY, any case; ``app_key``: default the first AppKey served. Returns the device record
        (``app_key``, ``device_id``, ``device_type``, ``account``, ``aliases``, ``tags``, ``online``).
        Raises :class:`EmulatorError` for an AppKey not served, an empty id or an unknown device type.
        """
        return operations.register_device(self.state, device_id, account, aliases, tags, device_type, app_key, online)

    def devices(self, app_key: int | None = None) -> list[dict[str, Any]]:
        """Registered devices of ``app_key`` (default: every AppKey served), as :meth:`register_device` returns them.

        Raises :class:`EmulatorError` for an AppKey not served.
        """
        return operations.list_devices(self.state, app_key)

    def add_fault(
        self,
        kind: str,
        count: int = 1,
        rate: float | None = None,
        latency_ms: int = 0,
        actions: Iterable[str] | None = None,
        code: str | None = None,
        retry_after_ms: int | None = None,
    ) -> dict[str, Any]:
        """Next ``count`` matching requests, or each with probability ``rate`` (until reset).

        Kinds: ``internal_error`` (500, not processed), ``throttle`` (400 Throttling.User, not
        processed; ``code`` answers another Code, e.g. ``Flow.Limited``, and ``retry_after_ms`` (at most a day) adds
        ``x-acs-retry-after`` in milliseconds), ``latency`` (processed, answered ``latency_ms`` late, at most a day),
        ``drop`` (processed, connection closed without an answer). ``actions`` limits the fault to
        those API actions (case-sensitive names such as ``Push``). Raises :class:`EmulatorError` for a
        bad value or an action the emulator does not answer (such a fault would never fire).
        """
        fields: dict[str, Any] = {
            "kind": kind,
            "count": count,
            "rate": rate,
            "latency_ms": latency_ms,
            "actions": actions,
        }
        if code is not None or retry_after_ms is not None:
            fields.update(code=code, retry_after_ms=retry_after_ms)
        return operations.add_fault(self.state, **fields)

    def clear_faults(self) -> None:
        """Remove every injected fault, counted or rate-based."""
        with self.state.lock:
            self.state.faults.clear()

    def set_qps_limit(self, action: str, qps: float | None) -> None:
        """Answer ``Throttling.User`` (HTTP 400) to ``action`` beyond ``qps`` requests per rolling second.

        ``None`` removes the limit. A test knob, not a published CloudPush quota. Raises
        :class:`EmulatorError` for an action the emulator does not answer or a ``qps`` that is not a
        positive number.
        """
        self.state.set_qps_limit(action, qps)


def remote_warning(host: str) -> str | None:
    """The warning line for a bind ``host`` reachable from the network; ``None`` for a loopback host."""
    if is_loopback_host(host):
        return None
    return (
        f"pushfn: warning: the emulator's API listens on {host}, reachable from the network, and accepts"
        " the documented example keys; the control API and the inbox still answer this machine only"
    )


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_SERVE_PORT,
    access_key_id: str | None = None,
    access_key_secret: str | None = None,
    app_keys: Iterable[int] | None = None,
    log_requests: bool = True,
    out: TextIO | None = None,
    stop_event: threading.Event | None = None,
    settings: EmulatorSettings | None = None,
    ring_size: int | None = None,
    store: str | Path | None = None,
    allow_remote: bool = False,
    devices: Iterable[str] = (),
    err: TextIO | None = None,
) -> None:
    """Run an emulator in the foreground until Ctrl-C (or ``stop_event``), printing where it is.

    ``settings``, ``ring_size``, ``store`` and ``allow_remote`` as for :class:`Emulator`; the arguments
    win over the settings. ``devices``: ANDROID device ids registered before the banner is printed.
    ``out`` gets the banner, ``err`` (default stderr) the warning of a host reachable from the network.
    Raises :class:`EmulatorError` (bad settings, store or device id) or :class:`OSError` (the address
    cannot be bound) before anything is printed; the emulator is then stopped again.
    """
    out = out or sys.stdout
    stop_event = stop_event or threading.Event()
    emulator = Emulator(
        host,
        port,
        access_key_id,
        access_key_secret,
        app_keys,
        log_requests=log_requests,
        settings=settings,
        ring_size=ring_size,
        store=store,
        allow_remote=allow_remote,
    ).start()
    try:
        devices = list(devices)
        for device_id in devices:
            emulator.register_device(device_id)
        warning = remote_warning(host)
        if warning is not None:
            (err or sys.stderr).write(warning + "\n")
            (err or sys.stderr).flush()
        settings = emulator.settings
        out.write(
            f"CloudPush emulator on {emulator.url}  (inbox: {emulator.url}/)\n"
            f"  AccessKeyId {settings.access_key_id}, AppKey {','.join(map(str, settings.app_keys))}\n"
            + (f"  devices: {', '.join(devices)}\n" if devices else "")
            + f"  control API: {emulator.url}/_emulator/ calls|pushes|events|reset|devices|faults (Ctrl-C stops)\n"
        )
        out.flush()
        while not stop_event.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
