"""Where the AccessKey comes from: a chain of providers, first match wins.

Order — the official default chain of ``alibabacloud-credentials`` (environment → OIDC role → CLI
profile → credentials file → ECS RAM role → credentials URI; ``provider/default.py`` in
github.com/aliyun/credentials-python), with pushfn's compatibility sources in their places:

1. explicit keys given in code;
2. ``ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN`` — also how Function Compute 3.x (Python
   3.12) hands the function's role keys over, re-read on every call since the platform rotates them;
3. ``PUSH_ACCESS_KEY_ID/_SECRET`` (the seed's names);
4. the function context's role credentials (FC Python ≤ 3.10 runtimes; 3.12 has no
   ``context.credentials``) — the platform's identity, like the environment's;
5. OIDC role assumption, RRSA (``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN``,
   ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``): STS ``AssumeRoleWithOIDC``;
6. the Alibaba Cloud CLI's profile in ``~/.aliyun/config.json`` (``ALIBABA_CLOUD_PROFILE``, else the
   file's ``current``): modes ``AK``, ``StsToken`` and ``RamRoleArn`` (STS ``AssumeRole``);
7. an INI file with a ``[push_config]`` section (the seed's format, in place of the official
   ``~/.alibabacloud/credentials``);
8. a credentials URI; 9. ECS RAM-role metadata (opt-in here, see :func:`default_chain`).

Role credentials expire; :class:`RefreshingProvider` refreshes them before they do. Secrets never
appear in ``repr``, logs or error messages. Nothing here imports more than the standard library's
basics at import time: the STS client (:mod:`pushfn.push.sts`), the JSON reader and ``requests`` load
on the first fetch that needs them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pushfn.api_time import format_api_time, parse_api_time
from pushfn.lazy_logger import LazyLogger
from pushfn.masking import mask
from pushfn.push.errors import CredentialsError
from pushfn.settings import Settings

# `typing` and `dataclasses` stay off the cold-start path; type checkers treat this constant like
# `typing.TYPE_CHECKING` and see a real Protocol.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object

logger = LazyLogger(__name__)

#: Refresh role credentials this long before they expire (the official SDK uses 15 minutes).
REFRESH_MARGIN_SECONDS = 15 * 60
#: ECS metadata service (reachable only inside an ECS instance).
ECS_METADATA_URL = "http://100.100.100.200"
#: Largest credential file read (a CLI config holds a few profiles of ~1 KB, an OIDC token ~1-2 KB).
MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024


class Credentials:
    """One AccessKey pair, with the STS ``security_token`` when the keys are temporary (a role's).

    Immutable; equal when every field is. ``expiration``: epoch seconds when temporary credentials stop
    working (``None`` for long-term keys); ``source``: which provider produced them, for diagnostics
    (``env``, ``fc-context``, ``ecs-ram-role``…). The secret and the token never appear in ``repr``.
    Raises :class:`~pushfn.push.errors.CredentialsError` when the id or the secret is empty.
    """

    __slots__ = ("access_key_id", "access_key_secret", "expiration", "security_token", "source")
    access_key_id: str
    access_key_secret: str
    security_token: str | None
    expiration: float | None
    source: str

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        security_token: str | None = None,
        expiration: float | None = None,
        source: str = "explicit",
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise CredentialsError(f"{source}: AccessKeyId and AccessKeySecret must both be set")
        set_field = object.__setattr__
        set_field(self, "access_key_id", access_key_id)
        set_field(self, "access_key_secret", access_key_secret)
        set_field(self, "security_token", security_token)
        set_field(self, "expiration", expiration)
        set_field(self, "source", source)

    def _values(self) -> tuple[object, ...]:
        return (self.access_key_id, self.access_key_secret, self.security_token, self.expiration, self.source)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        sts = ", sts" if self.security_token else ""
        return f"Credentials({mask(self.access_key_id)}, source={self.source}{sts})"


class CredentialsProvider(Protocol):
    """Anything that can hand out current credentials (``None``: not configured here)."""

    def get_credentials(self) -> Credentials | None:
        """The current credentials, or ``None`` when this source has none configured.

        Raises :class:`~pushfn.push.errors.CredentialsError` when the source is configured but
        unusable (half a key pair, an unreadable document, an unreachable credential endpoint).
        """
        ...


class StaticCredentials:
    """Fixed keys given in code or configuration; ``source`` names where they came from (``explicit``),
    ``expiration`` when they stop working (epoch seconds; None: unknown or never)."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        security_token: str | None = None,
        *,
        source: str = "explicit",
        expiration: float | None = None,
    ) -> None:
        self._credentials = Credentials(
            access_key_id, access_key_secret, security_token or None, expiration=expiration, source=source
        )

    def get_credentials(self) -> Credentials:
        """The fixed keys (never ``None``)."""
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticCredentials({mask(self._credentials.access_key_id)})"


class EnvironmentCredentials:
    """Keys from a pair (plus optional token) of settings, e.g. ``ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET``.

    ``settings`` is a :class:`~pushfn.settings.Settings` snapshot, or a zero-argument callable that
    returns a fresh one: the environment of a Function Compute 3.x instance carries its role's
    temporary keys, which the platform rotates, so the functions' runtime passes
    ``Settings.from_env`` and every call sees the current keys. A snapshot never changes: rotating
    keys then means building a new snapshot (and a new chain).
    """

    def __init__(
        self,
        id_var: str,
        secret_var: str,
        token_var: str | None = None,
        *,
        settings: Settings | Callable[[], Settings],
        source: str = "env",
    ) -> None:
        self._vars = (id_var, secret_var, token_var)
        self._settings = settings
        self._source = source

    def get_credentials(self) -> Credentials | None:
        """The pair from the settings read now; ``None`` when both are unset.

        Raises :class:`~pushfn.push.errors.CredentialsError` when only one of the pair is set.
        """
        settings = self._settings() if callable(self._settings) else self._settings
        id_var, secret_var, token_var = self._vars
        key_id = getattr(settings, id_var.lower()) or ""
        secret = getattr(settings, secret_var.lower()) or ""
        if not key_id and not secret:
            return None
        if not key_id or not secret:
            missing = id_var if not key_id else secret_var
            raise CredentialsError(f"{self._source}: {missing} is empty while its pair is set")
        token = (getattr(settings, token_var.lower()) or "") if token_var else ""
        return Credentials(key_id, secret, token or None, source=self._source)


class FunctionContextCredentials:
    """The role credentials FC passes in ``context.credentials`` (Python 3.6–3.10 runtimes).

    Those are temporary keys, and every invocation's context carries the current ones, so a
    long-lived instance must not keep the first context's: :meth:`bind` replaces the context each
    invocation (:func:`pushfn.runtime.get_runtime` does). Concurrent invocations of one instance
    share the provider; every context of one function carries keys of the same role, so the most
    recently bound (the freshest) serves them all.
    """

    def __init__(self, context: Any = None) -> None:
        self._context = context
        self._lock = threading.Lock()

    def bind(self, context: Any) -> None:
        """Use ``context`` (an invocation's FC/Lambda context) from now on; ``None`` is ignored."""
        if context is None:
            return
        with self._lock:
            self._context = context

    def get_credentials(self) -> Credentials | None:
        """The bound context's ``credentials`` (snake_case or camelCase attributes); ``None`` when it
        has no key pair (no context bound, or a runtime that puts the keys in the environment)."""
        with self._lock:
            context = self._context
        creds = getattr(context, "credentials", None)
        key_id = getattr(creds, "access_key_id", None) or getattr(creds, "accessKeyId", None)
        secret = getattr(creds, "access_key_secret", None) or getattr(creds, "accessKeySecret", None)
        if not key_id or not secret:
            return None
        token = getattr(creds, "security_token", None) or getattr(creds, "securityToken", None)
        return Credentials(key_id, secret, token or None, source="fc-context")


class IniFileCredentials:
    """The seed's INI file: section ``[push_config]`` with ``PUSH_ACCESS_KEY_ID`` and ``PUSH_ACCESS_KEY_SECRET``."""

    SECTION = "push_config"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    def get_credentials(self) -> Credentials | None:
        """The keys in the file's ``[push_config]`` (optional ``PUSH_SECURITY_TOKEN``); ``None`` when the
        file, the section or both keys are absent.

        Raises :class:`~pushfn.push.errors.CredentialsError` when the file is not INI or only one key is set.
        """
        values = read_ini_section(self._path, self.SECTION)
        if not values:
            return None
        key_id, secret = values.get("push_access_key_id", ""), values.get("push_access_key_secret", "")
        if not key_id and not secret:
            return None
        if not key_id or not secret:
            raise CredentialsError(f"{self._path}: [push_config] needs both PUSH_ACCESS_KEY_ID and _SECRET")
        token = values.get("push_security_token") or None
        return Credentials(key_id, secret, token, source=f"ini:{self._path.name}")


def read_ini_section(path: Path, section: str) -> dict[str, str]:
    """The section's keys (lower-cased by configparser); empty when the file or section is absent."""
    if not path.is_file():
        return {}
    import configparser  # only when there is a file to read: off the cold-start path

    parser = configparser.ConfigParser(interpolation=None)
    try:
        # utf-8-sig: a file saved "with BOM" by an editor is still UTF-8.
        parser.read(path, encoding="utf-8-sig")
    except configparser.Error as exc:
        raise CredentialsError(f"{path}: not a valid INI file ({type(exc).__name__})") from None
    except UnicodeDecodeError as exc:
        raise CredentialsError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    return dict(parser[section]) if parser.has_section(section) else {}


def read_credential_file(path: Path, where: str, limit: int = MAX_CREDENTIAL_FILE_BYTES) -> bytes:
    """The bytes of the small file ``path`` (at most ``limit``); ``where`` prefixes every error.

    Raises :class:`~pushfn.push.errors.CredentialsError` when it cannot be read, is not a regular file
    (a device such as ``/dev/zero`` or a FIFO would be read without end, or block: refused before any
    read), or is larger than ``limit`` (refused without reading it whole).
    """
    import stat  # only when there is a file to read

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise CredentialsError(f"{where}: not a regular file")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CredentialsError(f"{where}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise CredentialsError(f"{where}: larger than {limit} bytes, which no credential file is")
    return data


# --- temporary credentials that must be refreshed ------------------------------------------------


def parse_expiration(value: str) -> float:
    """``2024-01-15T08:30:00Z`` → epoch seconds."""
    epoch = parse_api_time(value)
    if epoch is None:
        raise CredentialsError(f"unreadable credential Expiration {str(value)[:40]!r}")
    return epoch


def credentials_from_document(doc: Any, source: str) -> Credentials:
    """The JSON shape both the ECS metadata service and credential URIs return."""
    if not isinstance(doc, dict) or doc.get("Code", "Success") != "Success":
        code = doc.get("Code") if isinstance(doc, dict) else None
        raise CredentialsError(f"{source}: credential document refused (Code={code!r})")
    try:
        return Credentials(
            doc["AccessKeyId"],
            doc["AccessKeySecret"],
            doc.get("SecurityToken") or None,
            expiration=parse_expiration(doc["Expiration"]) if doc.get("Expiration") else None,
            source=source,
        )
    except KeyError as exc:
        raise CredentialsError(f"{source}: credential document lacks {exc.args[0]}") from None


class RefreshingProvider:
    """Caches temporary credentials and fetches new ones shortly before they expire.

    "Shortly" is ``margin_seconds`` before, or half-way to the expiry when fresh credentials are already
    inside the margin (never a fetch per call). Credentials fetched already expired are refused with a
    :class:`~pushfn.push.errors.CredentialsError` that names the clock as the likely cause.

    One thread refreshes while the others wait on the lock; if a refresh fails while the cached
    credentials are still valid, those are served (the official SDK's "allow stale" behaviour).
    """

    def __init__(
        self,
        fetch: Callable[[], Credentials],
        *,
        margin_seconds: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._margin = margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Credentials | None = None
        self._refresh_at = 0.0  # clock value from which the cached credentials are fetched again

    def _fresh(self, creds: Credentials | None) -> bool:
        return creds is not None and (creds.expiration is None or self._clock() < self._refresh_at)

    def _fetched(self) -> tuple[Credentials, float]:
        """Fetch, refusing credentials that have already expired; the credentials and when to fetch again."""
        creds = self._fetch()
        now = self._clock()
        if creds.expiration is None:
            return creds, float("inf")
        if creds.expiration <= now:
            raise CredentialsError(
                f"{creds.source}: the credentials fetched already expired at {format_api_time(creds.expiration)}; "
                f"is this machine's clock right? (it reads {format_api_time(now)})"
            )
        # Within the margin already (a short session, or a clock ahead of the source's): used until
        # half-way to their expiry, not fetched again on every call.
        return creds, max(creds.expiration - self._margin, now + (creds.expiration - now) / 2)

    def get_credentials(self) -> Credentials:
        """The cached credentials while they are more than ``margin_seconds`` from expiry, else fresh ones.

        Raises :class:`~pushfn.push.errors.CredentialsError` when the fetch fails and nothing cached is
        still valid.
        """
        cached = self._cached
        if self._fresh(cached):
            return cached  # type: ignore[return-value]
        with self._lock:
            if self._fresh(self._cached):
                return self._cached  # type: ignore[return-value]
            try:
                fresh, refresh_at = self._fetched()
                # The credentials first: a reader without the lock pairs new ones with the old time (and
                # waits on the lock), never old ones with the new time.
                self._cached = fresh
                self._refresh_at = refresh_at
                logger.info("refreshed role credentials", extra={"fields": {"source": self._cached.source}})
            except CredentialsError:
                stale = self._cached
                if stale is not None and stale.expiration is not None and stale.expiration > self._clock():
                    logger.warning("credential refresh failed; serving cached credentials until they expire")
                    return stale
                raise
            return self._cached


def _http_get_json(
    url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 1.0, method: str = "GET"
) -> Any:
    import requests  # local: the common paths (env keys) never need it at import time

    try:
        resp = requests.request(method, url, headers=dict(headers or {}), timeout=timeout)
    except requests.RequestException as exc:
        raise CredentialsError(f"credential source unreachable ({type(exc).__name__})") from None
    if resp.status_code != 200:
        raise CredentialsError(f"credential source answered HTTP {resp.status_code}")
    if method == "PUT":
        return resp.text
    from pushfn.json_input import JsonInputError, decode_json

    try:
        # The one JSON decoder: a BOM is fine, a depth bomb or duplicate keys are refused, not raised.
        return decode_json(resp.content)
    except JsonInputError:
        return resp.text.strip()  # a role name is plain text; a bad document fails as "not an object"


class UriCredentials(RefreshingProvider):
    """``ALIBABA_CLOUD_CREDENTIALS_URI``: a GET returns the same JSON document as the ECS metadata service."""

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(lambda: credentials_from_document(_http_get_json(uri), "credentials-uri"), **kwargs)


class EcsRamRoleCredentials(RefreshingProvider):
    """The ECS instance's RAM role, through the metadata service (IMDSv2 token, then v1 fallback)."""

    def __init__(
        self,
        role_name: str | None = None,
        *,
        base_url: str = ECS_METADATA_URL,
        imdsv1_allowed: bool = True,
        **kwargs: Any,
    ) -> None:
        self._role = role_name
        self._base = base_url.rstrip("/")
        self._imdsv1 = imdsv1_allowed
        super().__init__(self._fetch_role_credentials, **kwargs)

    def _token_headers(self) -> dict[str, str]:
        try:
            token = _http_get_json(
                f"{self._base}/latest/api/token",
                headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "21600"},
                method="PUT",
            )
            return {"X-aliyun-ecs-metadata-token": str(token)}
        except CredentialsError:
            if not self._imdsv1:
                raise
            return {}

    def _fetch_role_credentials(self) -> Credentials:
        headers = self._token_headers()
        role = self._role
        if not role:
            listing = _http_get_json(f"{self._base}/latest/meta-data/ram/security-credentials/", headers=headers)
            role = str(listing).strip().splitlines()[0] if listing else ""
            if not role:
                raise CredentialsError("ecs-ram-role: the instance has no RAM role attached")
        doc = _http_get_json(f"{self._base}/latest/meta-data/ram/security-credentials/{role}", headers=headers)
        return credentials_from_document(doc, "ecs-ram-role")


# --- roles assumed through STS (pushfn.push.sts, imported on the first fetch) ----------------------


def _assumed_role_margin(duration_seconds: int) -> float:
    """Refresh 15 minutes before expiry, or a quarter of the session for sessions under an hour: a
    900 s session refreshed 900 s early would be fetched again on every call."""
    return min(REFRESH_MARGIN_SECONDS, duration_seconds / 4)


def _default_session_name() -> str:
    from pushfn.push.sts import default_session_name  # STS is loaded only with a role to assume

    return default_session_name()


class _AssumedRole(RefreshingProvider):
    """A :class:`RefreshingProvider` whose fetch calls STS; the STS client is built on the first fetch."""

    def __init__(
        self,
        *,
        duration_seconds: int,
        endpoint: str | None,
        settings: Settings | None,
        sts: Any,
        source: str,
        clock: Callable[[], float],
    ) -> None:
        self._duration = duration_seconds
        self._endpoint = endpoint
        self._settings = settings
        self._sts = sts
        self._source = source
        super().__init__(self._assume, margin_seconds=_assumed_role_margin(duration_seconds), clock=clock)

    @property
    def sts(self) -> Any:
        """The :class:`~pushfn.push.sts.StsClient` used (built on first use from ``endpoint`` / ``settings``)."""
        if self._sts is None:
            from pushfn.push.sts import StsClient, sts_endpoint

            settings = self._settings or Settings()
            self._sts = StsClient(self._endpoint or sts_endpoint(settings), settings=settings)
        return self._sts

    def _assume(self) -> Credentials:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self._source})"


class RamRoleArnCredentials(_AssumedRole):
    """A RAM role assumed with another provider's keys: STS ``AssumeRole``, signed V2 with ``caller``'s keys.

    ``caller`` is asked on every refresh (its keys may rotate too). ``session_name`` defaults to
    ``pushfn-<epoch seconds>``, ``duration_seconds`` to 3600 (at least 900); ``endpoint`` (a URL) to
    :func:`pushfn.push.sts.sts_endpoint` of ``settings``. The role's credentials are cached and fetched
    again 15 minutes before they expire (a quarter of a shorter session). Raises
    :class:`~pushfn.push.errors.CredentialsError` when ``caller`` has no keys or STS refuses
    (see :mod:`pushfn.push.sts` for the API facts and their sources).
    """

    def __init__(
        self,
        caller: CredentialsProvider,
        role_arn: str,
        *,
        session_name: str | None = None,
        duration_seconds: int = 3600,
        policy: str | None = None,
        external_id: str | None = None,
        endpoint: str | None = None,
        settings: Settings | None = None,
        sts: Any = None,
        source: str = "ram-role-arn",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._caller = caller
        self._role_arn = role_arn
        self._session_name = session_name or _default_session_name()
        self._policy = policy
        self._external_id = external_id
        super().__init__(
            duration_seconds=duration_seconds,
            endpoint=endpoint,
            settings=settings,
            sts=sts,
            source=source,
            clock=clock,
        )

    def _assume(self) -> Credentials:
        caller = self._caller.get_credentials()
        if caller is None:
            raise CredentialsError(f"{self._source}: no keys to call STS AssumeRole with")
        return self.sts.assume_role(
            caller,
            self._role_arn,
            self._session_name,
            duration_seconds=self._duration,
            policy=self._policy,
            external_id=self._external_id,
            source=self._source,
        )


class OidcRoleCredentials(_AssumedRole):
    """RRSA: a RAM role assumed with an OIDC token read from a file (STS ``AssumeRoleWithOIDC``, anonymous).

    The file is read again at every refresh (the platform rotates the token); credentials are cached
    and refreshed as :class:`RamRoleArnCredentials`' are. Built by :meth:`from_settings` from
    ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``.
    Raises :class:`~pushfn.push.errors.CredentialsError` naming the variable when one of the three is
    missing, when the token file cannot be read or is empty, and when STS refuses.
    """

    def __init__(
        self,
        role_arn: str | None,
        oidc_provider_arn: str | None,
        token_file: str | os.PathLike[str] | None,
        *,
        session_name: str | None = None,
        duration_seconds: int = 3600,
        policy: str | None = None,
        endpoint: str | None = None,
        settings: Settings | None = None,
        sts: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._role_arn = role_arn
        self._provider_arn = oidc_provider_arn
        self._token_file = Path(token_file) if token_file else None
        self._session_name = session_name or _default_session_name()
        self._policy = policy
        super().__init__(
            duration_seconds=duration_seconds,
            endpoint=endpoint,
            settings=settings,
            sts=sts,
            source="oidc-role-arn",
            clock=clock,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OidcRoleCredentials | None:
        """The provider ``settings`` configure; ``None`` unless ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` or
        ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` is set (``ALIBABA_CLOUD_ROLE_ARN`` alone is left to other tools)."""
        if not (settings.alibaba_cloud_oidc_provider_arn or settings.alibaba_cloud_oidc_token_file):
            return None
        return cls(
            settings.alibaba_cloud_role_arn,
            settings.alibaba_cloud_oidc_provider_arn,
            settings.alibaba_cloud_oidc_token_file,
            session_name=settings.alibaba_cloud_role_session_name,
            settings=settings,
            **kwargs,
        )

    def _read_token(self) -> str:
        path = self._token_file
        data = read_credential_file(path, f"ALIBABA_CLOUD_OIDC_TOKEN_FILE {path}")  # type: ignore[arg-type]
        try:
            token = data.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise CredentialsError(f"ALIBABA_CLOUD_OIDC_TOKEN_FILE {path}: not UTF-8 text") from None
        if not token:
            raise CredentialsError(f"ALIBABA_CLOUD_OIDC_TOKEN_FILE {path}: the file is empty")
        return token

    def _assume(self) -> Credentials:
        given = {
            "ALIBABA_CLOUD_ROLE_ARN": self._role_arn,
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": self._provider_arn,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": self._token_file,
        }
        missing = [name for name, value in given.items() if not value]
        if missing:
            unset = " and ".join(missing)
            raise CredentialsError(f"oidc-role-arn: {unset} unset while the other OIDC settings are set")
        return self.sts.assume_role_with_oidc(
            self._role_arn,  # type: ignore[arg-type]
            self._provider_arn,  # type: ignore[arg-type]
            self._read_token(),
            self._session_name,
            duration_seconds=self._duration,
            policy=self._policy,
            source=self._source,
        )


# --- the Alibaba Cloud CLI's profiles --------------------------------------------------------------

#: Profile modes read (``aliyun configure --mode``); the CLI matches them case-insensitively.
CLI_PROFILE_MODES = ("AK", "StsToken", "RamRoleArn")


class CliProfileCredentials:
    """The keys of a profile in the Alibaba Cloud CLI's ``~/.aliyun/config.json``.

    The profile is ``profile`` (``ALIBABA_CLOUD_PROFILE``), else the file's ``current``. The file
    (written by ``aliyun configure``) is ``{"current": NAME, "profiles": [{"name", "mode", …}]}``; a
    profile's fields by mode (aliyun-cli ``config/profile.go``; alibabacloud-credentials
    ``provider/cli_profile.py``):

    - ``AK``: ``access_key_id``, ``access_key_secret``;
    - ``StsToken``: the same and ``sts_token``, optional ``sts_expiration`` (epoch seconds; 0 when not
      recorded): once it has passed, every call raises CredentialsError saying the token expired;
    - ``RamRoleArn``: the AK pair and ``ram_role_arn``, optional ``ram_session_name``,
      ``expired_seconds`` (≥ 900, default 3600), ``sts_region``, ``policy``, ``external_id``: the
      role is assumed through STS (:class:`RamRoleArnCredentials`) and refreshed before it expires.

    ``None`` when the file does not exist. The file must be a regular file of at most
    :data:`MAX_CREDENTIAL_FILE_BYTES` (:func:`read_credential_file`). It is read on first use and again only when it
    changes (size or modification time). Raises :class:`~pushfn.push.errors.CredentialsError` naming
    the file and the field for anything else: not JSON, no profile chosen, no such profile, a mode
    pushfn does not read, a missing or mistyped field.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        profile: str | None = None,
        *,
        settings: Settings | None = None,
        sts: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = Path(path)
        self._profile = profile
        self._settings = settings or Settings()
        self._sts = sts
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._inner: CredentialsProvider | None = None
        self._chosen = ""

    def __repr__(self) -> str:
        return f"CliProfileCredentials({self._path}, profile={self._profile or 'current'})"

    def get_credentials(self) -> Credentials | None:
        """The chosen profile's credentials; ``None`` when the file does not exist."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialsError(f"{self._path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp or self._inner is None:
                self._inner = self._load()
                self._stamp = stamp
            inner = self._inner
        creds = inner.get_credentials()
        if creds is not None and creds.expiration is not None and creds.expiration <= self._clock():
            # Checked on every call, not at load: the file does not change while its token runs out.
            raise CredentialsError(
                f"{self._path}: profile {_shown_name(self._chosen)}: the STS token expired at "
                f'{format_api_time(creds.expiration)} ("sts_expiration"); renew it with `aliyun configure`'
            )
        return creds

    def _load(self) -> CredentialsProvider:
        from pushfn.json_input import JsonInputError, decode_json  # only when there is a file to read

        path = self._path
        try:
            config = decode_json(read_credential_file(path, str(path)))
        except JsonInputError as exc:
            raise CredentialsError(f"{path}: {exc}") from None
        if not isinstance(config, dict):
            raise CredentialsError(f'{path}: expected a JSON object with "current" and "profiles"')
        profiles = config.get("profiles", [])
        if not isinstance(profiles, list):
            raise CredentialsError(f'{path}: "profiles" must be a list')
        name = self._profile
        chosen_by = "ALIBABA_CLOUD_PROFILE"
        if not name:
            name, chosen_by = config.get("current"), '"current"'
            if not isinstance(name, str) or not name:
                raise CredentialsError(
                    f'{path}: no profile chosen: "current" is empty and ALIBABA_CLOUD_PROFILE is unset'
                )
        for entry in profiles:
            if isinstance(entry, dict) and entry.get("name") == name:
                provider = self._provider(entry, name)
                self._chosen = name
                return provider
        named = [_shown_name(e.get("name")) for e in profiles if isinstance(e, dict)]
        known = ", ".join(named[:10]) + (f", +{len(named) - 10} more" if len(named) > 10 else "") or "none"
        raise CredentialsError(
            f"{path}: no profile named {_shown_name(name)} (chosen by {chosen_by}); profiles: {known}"
        )

    def _provider(self, profile: dict[str, Any], name: str) -> CredentialsProvider:
        where = f"{self._path}: profile {_shown_name(name)}"

        def text(field: str, *, required: bool = True) -> str:
            value = profile.get(field)
            if value is None or value == "":
                if required:
                    raise CredentialsError(f'{where} (mode {mode}): "{field}" is empty')
                return ""
            if not isinstance(value, str):
                raise CredentialsError(f'{where}: "{field}" must be text')
            return value

        mode_text = profile.get("mode")
        if not isinstance(mode_text, str) or not mode_text:
            raise CredentialsError(f'{where}: "mode" is empty; run `aliyun configure --profile {name}`')
        mode = next((m for m in CLI_PROFILE_MODES if m.lower() == mode_text.lower()), None)
        if mode is None:
            raise CredentialsError(
                f'{where}: "mode" {_shown_name(mode_text)} is not read by pushfn '
                f"(it reads {', '.join(CLI_PROFILE_MODES)}); "
                "choose another profile with ALIBABA_CLOUD_PROFILE, or set ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true"
            )
        key_id, secret = text("access_key_id"), text("access_key_secret")
        source = f"cli-profile:{name}"
        if mode == "AK":
            return StaticCredentials(key_id, secret, source=source)
        if mode == "StsToken":
            expires = profile.get("sts_expiration")
            if isinstance(expires, bool) or not isinstance(expires, int | None) or (expires or 0) < 0:
                raise CredentialsError(f'{where}: "sts_expiration" must be whole epoch seconds (0: not recorded)')
            token = text("sts_token")
            return StaticCredentials(
                key_id, secret, token, source=source, expiration=float(expires) if expires else None
            )
        from pushfn.push.sts import check_duration, sts_endpoint

        settings = self._settings
        return RamRoleArnCredentials(
            StaticCredentials(key_id, secret, source=source),
            text("ram_role_arn"),
            session_name=text("ram_session_name", required=False) or settings.alibaba_cloud_role_session_name,
            duration_seconds=check_duration(profile.get("expired_seconds"), f'{where}: "expired_seconds"'),
            policy=text("policy", required=False) or None,
            external_id=text("external_id", required=False) or None,
            endpoint=sts_endpoint(settings, text("sts_region", required=False) or None, f'{where}: "sts_region"'),
            settings=settings,
            sts=self._sts,
            source=f"{source}/ram-role-arn",
            clock=self._clock,
        )


def _shown_name(name: object) -> str:
    """A profile name for an error: quoted, escaped (no newline forges a line), at most 40 characters."""
    return repr(str(name)[:40])


class ChainProvider:
    """Asks each provider in order, on every call; the first that has credentials wins.

    Nothing is remembered between calls: a provider whose answer changes (the function context of
    the latest invocation, keys re-read from the environment) must be asked again, and one that
    gains credentials later must win again by its place in the order. Providers that fetch over
    the network cache their own answers (:class:`RefreshingProvider`).
    """

    def __init__(self, providers: Sequence[CredentialsProvider]) -> None:
        self._providers = list(providers)

    @property
    def providers(self) -> list[CredentialsProvider]:
        """The providers in the order they are asked (a copy)."""
        return list(self._providers)

    def get_credentials(self) -> Credentials:
        """The first provider's credentials that are not ``None``.

        Raises :class:`~pushfn.push.errors.CredentialsError` when none has any, naming the settings that
        would supply them, or the first provider's own ``CredentialsError`` (asking stops there).
        """
        for provider in self._providers:
            creds = provider.get_credentials()
            if creds is not None:
                return creds
        raise CredentialsError(
            "no credentials found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
            "(or PUSH_ACCESS_KEY_ID/_SECRET), run with a role, run `aliyun configure` for a CLI profile, "
            "or add a [push_config] INI file"
        )


def default_chain(
    settings: Settings | Callable[[], Settings] | None = None,
    *,
    explicit: CredentialsProvider | None = None,
    context: Any = None,
) -> ChainProvider:
    """The documented chain (this module's docstring), configured by ``settings``. ECS metadata is
    consulted only when asked for.

    ``settings`` is a :class:`~pushfn.settings.Settings` snapshot, or a callable returning a fresh
    one (then the key pairs are re-read on every call, so rotated keys are picked up; the other
    choices — OIDC role, CLI profile file and name, INI file, URI, metadata — are fixed when the chain
    is built). Building the chain reads no file and calls nothing: each source looks when asked. ``None`` reads the
    environment once, now. ``context`` is an invocation's FC/Lambda context, or a
    :class:`FunctionContextCredentials` the caller keeps binding to the latest context (the
    provider is then in the chain even while its context has no keys).

    Unlike the official chain, the metadata probe is opt-in (``ALIBABA_CLOUD_ECS_METADATA=<role>`` or
    ``ALIBABA_CLOUD_ECS_METADATA_ENABLED=true``): elsewhere (laptops, FC, Lambda) it could only fail,
    after a one-second timeout on every cold start.
    """
    source: Settings | Callable[[], Settings] = Settings.from_env() if settings is None else settings
    now = source() if callable(source) else source
    providers: list[CredentialsProvider] = []
    if explicit is not None:
        providers.append(explicit)
    providers.append(
        EnvironmentCredentials(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            settings=source,
            source="env",
        )
    )
    providers.append(
        EnvironmentCredentials("PUSH_ACCESS_KEY_ID", "PUSH_ACCESS_KEY_SECRET", None, settings=source, source="env-push")
    )
    if isinstance(context, FunctionContextCredentials):
        providers.append(context)
    elif context is not None:
        providers.append(FunctionContextCredentials(context))
    oidc = OidcRoleCredentials.from_settings(now)
    if oidc is not None:
        providers.append(oidc)
    cli_config = now.aliyun_cli_config_file
    if cli_config is not None and not now.alibaba_cloud_cli_profile_disabled:
        providers.append(CliProfileCredentials(cli_config, now.alibaba_cloud_profile, settings=now))
    providers.append(IniFileCredentials(now.config_file))
    if now.alibaba_cloud_credentials_uri:
        providers.append(UriCredentials(now.alibaba_cloud_credentials_uri))
    role = now.alibaba_cloud_ecs_metadata
    if (role or now.alibaba_cloud_ecs_metadata_enabled) and not now.alibaba_cloud_ecs_metadata_disabled:
        providers.append(EcsRamRoleCredentials(role or None, imdsv1_allowed=not now.alibaba_cloud_imdsv1_disabled))
    return ChainProvider(providers)


def default_config_file(xdg_config_home: str | None = None) -> Path:
    """``$XDG_CONFIG_HOME/pushfn/config.ini`` for the value given, else ``~/.config/pushfn/config.ini``.

    The rule is :attr:`Settings.config_file <pushfn.settings.Settings.config_file>`'s (which also honours
    ``PUSHFN_CONFIG_FILE``), applied to ``xdg_config_home`` alone; this module never reads the environment.
    """
    return Settings.from_env({"XDG_CONFIG_HOME": xdg_config_home} if xdg_config_home else {}).config_file


def describe(document: Mapping[str, Any]) -> str:
    """A log-safe one-liner for a credential document (used in diagnostics)."""
    return json.dumps({"AccessKeyId": mask(document.get("AccessKeyId")), "Expiration": document.get("Expiration")})
