"""The local webhook secret and API key of ``pushfn serve``: made on the first start, kept in the data folder.

``<data folder>/serve-auth.json`` (mode 0600, linked into place whole, so two starts cannot both write it
and none reads it half-written)
holds ``{"webhook_secret": "whsec_<base64 of 32 random bytes>", "api_key": "pfk_<43 url-safe chars>",
"tenant": "local"}``. Every later start reads the same values, so curl lines and scripts keep working.
The HTTP function receives them as it would in the cloud: ``PUSHFN_WEBHOOK_SECRETS`` and
``PUSHFN_API_KEYS`` (``local:<sha256 hex of the key>``); values set in the environment win.
A kept file others may read is warned about and set back to 0600. A file that cannot be read or holds
a secret under the Standard Webhooks minimum of 24 bytes raises
:class:`LocalAuthError`; nothing weak is ever used.

``pushfn event --sign`` and ``pushfn invoke http_push`` read the same file (:func:`read_kept`, never
making one) when the environment names no webhook secret, so an event signed by one is accepted by the
other after ``pushfn serve`` ran once.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pushfn.errors import ConfigurationError

if TYPE_CHECKING:
    from pushfn.settings import Settings

FILE_NAME = "serve-auth.json"
TENANT = "local"
#: Standard Webhooks' minimum secret length (the HTTP function refuses shorter ones too).
MIN_SECRET_BYTES = 24


class LocalAuthError(ConfigurationError):
    """``serve-auth.json`` (or the data folder holding it) cannot be read or made, is not the expected JSON,
    or holds a weak secret or key."""


@dataclass(frozen=True)
class LocalAuth:
    """The local ``webhook_secret`` (``whsec_…``), ``api_key`` and its ``tenant``, and the ``path`` kept in;
    ``created`` is True on the start that made them."""

    webhook_secret: str
    api_key: str
    tenant: str
    path: Path
    created: bool = False

    def __repr__(self) -> str:  # never print the values by accident
        return f"LocalAuth(path={str(self.path)!r}, tenant={self.tenant!r})"


def load_or_create(data_dir: Path) -> LocalAuth:
    """The kept secrets of ``data_dir``, made (and written, 0600) when there are none.

    Raises :class:`LocalAuthError` naming the file and the problem (never a value).
    """
    path = data_dir / FILE_NAME
    ensure_folder(data_dir)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    made = {
        "webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        "api_key": "pfk_" + secrets.token_urlsafe(32),
        "tenant": TENANT,
    }
    # Written whole under a private name, then linked into place: link() fails when the file exists, so
    # one start wins, and no start ever reads a half-written file.
    draft = data_dir / f".{FILE_NAME}.{secrets.token_hex(8)}"
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(made, handle, indent=2)
            handle.write("\n")
        os.link(draft, path)
    except FileExistsError:  # another start made it first: use theirs
        return _read(path)
    except OSError as exc:
        raise LocalAuthError(f"{path}: cannot be created ({exc.strerror or type(exc).__name__})") from None
    finally:
        with contextlib.suppress(OSError):
            draft.unlink()
    return LocalAuth(made["webhook_secret"], made["api_key"], TENANT, path, created=True)


def data_folder(settings: Settings) -> Path:
    """The data folder ``settings`` name (``PUSHFN_DATA_DIR``, else the XDG data folder): where the
    idempotency store, the emulator's history and ``serve-auth.json`` are kept: ``settings.data_dir``."""
    return settings.data_dir


def read_kept(data_dir: Path) -> LocalAuth | None:
    """The secrets ``pushfn serve`` keeps in ``data_dir``, or ``None`` when it never made any (nothing
    is created). Raises :class:`LocalAuthError` as :func:`load_or_create` does for an unusable file."""
    try:
        return _read(data_dir / FILE_NAME)
    except FileNotFoundError:
        return None


def http_overrides(base: Settings, auth: LocalAuth) -> dict[str, Any]:
    """The settings the HTTP function takes from ``auth`` (``PUSHFN_WEBHOOK_SECRETS``, and
    ``PUSHFN_API_KEYS`` as ``tenant:<sha256 hex>``), each only when ``base`` names none: the
    environment's own values (or their ``_REF``) win. A dict for :meth:`~pushfn.settings.Settings.replace`."""
    from pushfn.http.settings import hash_api_key

    changes: dict[str, Any] = {}
    if not configured_webhook_secrets(base):
        changes["pushfn_webhook_secrets"] = auth.webhook_secret
    if not configured_api_keys(base):
        changes["pushfn_api_keys"] = f"{auth.tenant}:{hash_api_key(auth.api_key)}"
    return changes


def configured_api_keys(settings: Settings) -> str | None:
    """The variable naming the HTTP function's API keys in ``settings`` (``PUSHFN_API_KEYS`` or its
    ``_REF``), or None when the kept local key is the one accepted."""
    if settings.pushfn_api_keys:
        return "PUSHFN_API_KEYS"
    return "PUSHFN_API_KEYS_REF" if settings.pushfn_api_keys_ref else None


def configured_webhook_secrets(settings: Settings) -> str | None:
    """The variable naming the HTTP function's webhook secrets in ``settings`` (``PUSHFN_WEBHOOK_SECRETS``
    or its ``_REF``), or None when the kept local secret is the one accepted."""
    if settings.pushfn_webhook_secrets:
        return "PUSHFN_WEBHOOK_SECRETS"
    return "PUSHFN_WEBHOOK_SECRETS_REF" if settings.pushfn_webhook_secrets_ref else None


def ensure_folder(data_dir: Path) -> None:
    """Create the data folder (and its parents) when missing; :class:`LocalAuthError` when it cannot be."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalAuthError(
            f"{data_dir}: the data folder cannot be created ({exc.strerror or type(exc).__name__}); "
            "set PUSHFN_DATA_DIR to another folder"
        ) from None


def _read(path: Path) -> LocalAuth:
    from pushfn.json_input import JsonInputError, decode_json

    try:
        data = path.read_bytes()
        _make_private(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LocalAuthError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        document = decode_json(data)
    except JsonInputError as exc:
        raise LocalAuthError(f"{path}: not valid JSON ({exc.detail}); delete it to make new secrets") from None
    if not isinstance(document, dict):
        raise LocalAuthError(f"{path}: must hold a JSON object; delete it to make new secrets")
    secret, key, tenant = document.get("webhook_secret"), document.get("api_key"), document.get("tenant", TENANT)
    if not isinstance(secret, str) or _secret_bytes(secret) < MIN_SECRET_BYTES:
        raise LocalAuthError(f"{path}: webhook_secret must be at least {MIN_SECRET_BYTES} bytes; delete the file")
    if not isinstance(key, str) or len(key.encode("utf-8")) < MIN_SECRET_BYTES:
        raise LocalAuthError(f"{path}: api_key must be at least {MIN_SECRET_BYTES} bytes; delete the file")
    if not isinstance(tenant, str) or not tenant.isidentifier():
        raise LocalAuthError(f"{path}: tenant must be a simple name such as 'local'")
    return LocalAuth(secret, key, tenant, path)


def _make_private(path: Path) -> None:
    """A kept file others may read (a copy, an ``umask`` 022 edit) is warned about and set back to 0600;
    one that cannot be fixed is refused (:class:`LocalAuthError`): its secrets are no longer this user's."""
    import stat

    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    from pushfn.logs import get_logger

    get_logger("pushfn.serve").warning(
        "%s was readable by others (mode %04o); set to 0600 — replace its secrets (delete the file) if another "
        "user may have read them",
        path,
        mode,
        extra={"fields": {"event": "serve.auth_file_mode_fixed", "path": str(path), "mode": f"{mode:04o}"}},
    )
    try:
        path.chmod(0o600)
    except OSError as exc:
        raise LocalAuthError(
            f"{path}: readable by others (mode {mode:04o}) and cannot be set to 0600 "
            f"({exc.strerror or type(exc).__name__}); fix its mode or delete it"
        ) from None


def _secret_bytes(secret: str) -> int:
    """Bytes of key material, counted as the HTTP function counts them (``whsec_``: decoded base64)."""
    if secret.startswith("whsec_"):
        try:
            return len(base64.b64decode(secret[6:], validate=True))
        except ValueError:
            return 0
    return len(secret.encode("utf-8"))


__all__ = [
    "FILE_NAME",
    "LocalAuth",
    "LocalAuthError",
    "configured_api_keys",
    "configured_webhook_secrets",
    "data_folder",
    "ensure_folder",
    "http_overrides",
    "load_or_create",
    "read_kept",
]
