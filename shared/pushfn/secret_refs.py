"""Secrets by reference: ``<NAME>_REF`` settings name where a secret is stored; read once per process.

A deployed function's template passes where its secrets live, never their values:
``ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF``, ``PUSHFN_WEBHOOK_SECRETS_REF`` and ``PUSHFN_API_KEYS_REF``
(the variables with a ``reference_for`` in :data:`pushfn.settings.VARIABLES`) hold

- ``ssm:<parameter name or ARN>`` — an SSM Parameter Store parameter, read with decryption
  (``GetParameter``, ``WithDecryption=True``), so a ``SecureString`` arrives in clear;
- ``secretsmanager:<secret name or ARN>[#key]`` — a Secrets Manager secret's ``SecretString``
  (``GetSecretValue``), or one string ``key`` of the JSON object it holds.

:func:`load_settings` is how a function reads its settings: the environment once
(:meth:`Settings.from_env <pushfn.settings.Settings.from_env>`), then each reference fetched at the
first use in the process (the cold start) and cached for its life, so the warm invocations and the
credential chain's re-reads never call AWS again. boto3 is imported only when a reference is set;
the region is ``AWS_REGION`` (Lambda sets it), the endpoint boto3's own (``AWS_ENDPOINT_URL_SSM``…).

A fetched value is parsed by its variable's own rule. Errors are
:class:`~pushfn.settings.SettingsError` naming the ``_REF`` variable, the reference and the AWS error
code — never the value; a failed fetch is not cached, so the next invocation tries again.
"""

from __future__ import annotations

import threading

from pushfn.settings import VARIABLES, Settings, SettingsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

#: ``reference → value`` fetched in this process (the cold start's reads, reused while it lives).
_cache: dict[str, str] = {}
_lock = threading.Lock()

#: The ``_REF`` variables and the secret variable each supplies.
REFERENCES = tuple((v, next(t for t in VARIABLES if t.name == v.reference_for)) for v in VARIABLES if v.reference_for)


def load_settings(
    env: Mapping[str, str] | None = None, *, fetch: Callable[[str, Settings], str] | None = None
) -> Settings:
    """:meth:`Settings.from_env` with every ``<NAME>_REF`` resolved into ``<NAME>`` (see the module doc).

    ``fetch(reference, settings) -> text`` replaces the AWS lookup (tests); the default is
    :func:`fetch_reference`. Raises :class:`~pushfn.settings.SettingsError` for a malformed value, a
    variable set both directly and by reference, or a reference that cannot be read.
    """
    return resolve_references(Settings.from_env(env), fetch=fetch)


def resolve_references(settings: Settings, *, fetch: Callable[[str, Settings], str] | None = None) -> Settings:
    """``settings`` with the value of each set ``_REF`` variable fetched (cached) and parsed into its target."""
    changes: dict[str, Any] = {}
    for reference_var, target in REFERENCES:
        reference = getattr(settings, reference_var.attribute)
        if not reference:
            continue
        if settings.is_set(target.attribute):
            raise SettingsError(f"{target.name} and {reference_var.name} are both set: keep one")
        value = _cached(reference, settings, fetch or fetch_reference, reference_var.name)
        changes[target.attribute] = target.parse_text(value, where=f" (from {reference_var.name})")
    return settings.replace(**changes) if changes else settings


def _cached(reference: str, settings: Settings, fetch: Callable[[str, Settings], str], name: str) -> str:
    value = _cache.get(reference)
    if value is None:
        with _lock:
            value = _cache.get(reference)
            if value is None:
                try:
                    value = fetch(reference, settings)
                except SettingsError as exc:
                    raise SettingsError(f"{name}: {exc}") from None
                if not value.strip():
                    raise SettingsError(f"{name}: {reference} is empty")
                _cache[reference] = value
    return value


def forget_cached() -> None:
    """Drop every fetched value: the next :func:`load_settings` reads the stores again (tests, rotation)."""
    with _lock:
        _cache.clear()


def fetch_reference(reference: str, settings: Settings) -> str:
    """The text stored at ``reference`` (``ssm:…`` or ``secretsmanager:…[#key]``), through boto3.

    Raises :class:`~pushfn.settings.SettingsError` naming the reference and the AWS error code when
    it cannot be read (missing, access denied, not JSON, no such key, unreachable).
    """
    import boto3  # only when a reference is set: never on a cold start that has none
    from botocore.exceptions import BotoCoreError, ClientError

    service, _, where = reference.partition(":")
    region = settings.aws_region_name
    try:
        if service == "ssm":
            answer = boto3.client("ssm", region_name=region).get_parameter(Name=where, WithDecryption=True)
            return str(answer["Parameter"]["Value"])
        secret_id, _, key = where.partition("#")
        answer = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=secret_id)
        text = answer.get("SecretString")
        if text is None:
            raise SettingsError(f"{reference} holds a binary secret: store the value as text")
        return _json_key(reference, text, key) if key else str(text)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SettingsError(f"{reference} cannot be read ({code})") from None
    except BotoCoreError as exc:
        raise SettingsError(f"{reference} cannot be read ({type(exc).__name__})") from None


def _json_key(reference: str, text: str, key: str) -> str:
    from pushfn.json_input import JsonInputError, decode_json

    try:
        # The one JSON decoder (a BOM from a console paste is fine; a depth bomb is refused, not a crash).
        document = decode_json(text)
    except JsonInputError as exc:
        raise SettingsError(
            f"{reference}: the secret is not a JSON object ({exc.rule}), so it has no key {key!r}"
        ) from None
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, str):
        raise SettingsError(f"{reference}: the secret's JSON has no text value under {key!r}")
    return value


__all__ = ["REFERENCES", "fetch_reference", "forget_cached", "load_settings", "resolve_references"]
