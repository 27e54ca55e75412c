"""``pushfn deploy-check``: refuse an ``s deploy`` that would make an HTTP function refusing everything.

``s.yaml`` gives the FC HTTP function ``PUSHFN_WEBHOOK_SECRETS`` and ``PUSHFN_API_KEYS`` from the
deploying shell (``${env(...)}``), and Serverless Devs has no template rule like SAM's
``HttpAuthConfigured``; so the HTTP resource's ``pre-deploy`` action runs this command in that shell
(its environment is inherited; a non-zero exit stops the deploy before anything is uploaded).

It reads only those two variables and judges them by the function's own rules
(:meth:`pushfn.http.settings.HttpSettings.from_settings`): at least one must be set; each webhook
secret at least :data:`~pushfn.http.settings.MIN_SECRET_BYTES` bytes (a ``whsec_`` one valid base64);
each API key entry ``tenant:<sha256 hex>`` (the keys themselves are never deployed, so their length
is checked where they are hashed, by ``hash_api_key``). ``PUSHFN_HTTP_AUTH`` is not consulted:
``s.yaml`` does not deploy it, so the function always requires a signature or a key.

Exit codes: 0 ready (one line on stdout counting the secrets and keys), 2 refused (one line on
stderr starting ``pushfn: deploy-check:``, naming the variable and the rule, never a value).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from pushfn.http.settings import HttpSettings

#: The variables judged: the HTTP function's credentials as ``s.yaml`` passes them.
CHECKED = ("PUSHFN_WEBHOOK_SECRETS", "PUSHFN_API_KEYS")


def http_auth_settings(env: Mapping[str, str] | None = None) -> HttpSettings:
    """The HTTP function's authentication settings from ``env`` (default: the process environment).

    Raises :class:`~pushfn.push.errors.ConfigurationError` (a weak or malformed secret, a malformed
    API key entry, or neither variable set), its message naming the variable and the rule.
    """
    from pushfn.errors import ConfigurationError
    from pushfn.http.settings import HttpSettings
    from pushfn.settings import Settings

    http = HttpSettings.from_settings(Settings.from_env(env, only=CHECKED))
    if not http.webhook_secrets and not http.api_keys:
        raise ConfigurationError(
            "set PUSHFN_WEBHOOK_SECRETS or PUSHFN_API_KEYS in this shell before 's deploy': the HTTP "
            "function accepts only signed webhooks or API keys, so without either it would refuse every "
            "request (README 'Deploy')"
        )
    return http


def add_deploy_check_command(sub: argparse._SubParsersAction) -> None:
    """Add ``pushfn deploy-check`` to the CLI's subcommands."""
    command = sub.add_parser(
        "deploy-check",
        help="refuse a Function Compute deploy without usable webhook secrets or API keys (s.yaml runs it)",
        description="Check PUSHFN_WEBHOOK_SECRETS and PUSHFN_API_KEYS in this shell as the HTTP function "
        "will: at least one set, no weak secret, no malformed key entry. s.yaml's pre-deploy action runs it.",
        epilog="exit codes: 0 ready, 2 refused",
    )
    command.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from pushfn.cli import EXIT_BAD_INPUT, EXIT_OK, _err
    from pushfn.errors import ConfigurationError

    try:
        http = http_auth_settings()
    except ConfigurationError as exc:
        _err(f"deploy-check: {exc}")
        return EXIT_BAD_INPUT
    print(
        f"deploy-check: the HTTP function will accept {len(http.webhook_secrets)} webhook secret(s) "
        f"and {len(http.api_keys)} API key(s)"
    )
    return EXIT_OK


__all__ = ["CHECKED", "add_deploy_check_command", "http_auth_settings"]
