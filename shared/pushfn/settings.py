"""Every environment variable pushfn reads: name, type, default and meaning, read here and nowhere else.

:meth:`Settings.from_env` is the one place that looks at ``os.environ``; every other module receives
a :class:`Settings` (or the values it needs) from its caller, so a test builds settings from a dict
and a handler reads the environment once, at cold start. The README's configuration table is
checked against :data:`VARIABLES` by the test suite (names, meanings, defaults).

A malformed value raises :class:`SettingsError` naming the variable and the rule; secret values are
never repeated in the message.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from urllib.parse import urlsplit

from pushfn.errors import ConfigurationError

# Type-only imports, kept off the cold-start path (`typing` alone costs ~5 ms to import); type
# checkers treat this constant like `typing.TYPE_CHECKING`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from typing import Any


class SettingsError(ConfigurationError):
    """An environment variable holds a value its rule refuses (the message names the variable)."""


# --- parsers: raw text (already stripped, never empty) → value; ValueError says the rule ------------------------


def _text(raw: str) -> str:
    return raw


#: The most calls (and pushes) an emulator keeps: ``PUSHFN_EMULATOR_RING_SIZE``, ``--ring-size`` and
#: ``Emulator(ring_size=…)`` all stop here (two rings of 10 million entries already need gigabytes).
EMULATOR_MAX_RING_SIZE = 10_000_000


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be a whole number (an integer)") from None
        if value < minimum:
            raise ValueError(f"must be a whole number, at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        return value

    return parse


def _seconds(maximum: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number of seconds") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a positive number of seconds")
        if value > maximum:
            raise ValueError(f"must be a positive number of seconds, at most {maximum:g}")
        return value

    return parse


def _signature_version(raw: str) -> str:
    lowered = raw.lower()
    if lowered not in ("v2", "v3"):
        raise ValueError("must be 'v2' or 'v3' (signature v2 or v3)")
    return lowered


def _app_key(raw: str) -> str:
    # CloudPush AppKeys are positive integers (int64 on the wire); kept as text, as written.
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 2**63 - 1:
        raise ValueError("must be the app's numeric AppKey")
    return raw


def _endpoint(raw: str, example: str = "https://cloudpush.aliyuncs.com") -> str:
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must be scheme://host[:port] only (no path, query or user)")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValueError("has an invalid port") from None
    return raw


def _proxy(raw: str) -> str:
    # http://[user:password@]host[:port], or host:port (http:// assumed, as curl and requests do).
    # http.client tunnels HTTPS through a plain-HTTP proxy only: no https:// or socks proxies.
    text = raw if "://" in raw else f"http://{raw}"
    parts = urlsplit(text)
    if parts.scheme.lower() != "http":
        raise ValueError("must be an http:// proxy URL (https:// and socks proxies are not supported)")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be http://[user:password@]host[:port]")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValueError("has an invalid port") from None
    return text


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        lowered = raw.lower()
        if lowered not in allowed:
            raise ValueError("must be " + " or ".join(repr(a) for a in allowed))
        return lowered

    return parse


def _reference(raw: str) -> str:
    # Where a secret is stored (resolved once per cold start by pushfn.secret_refs): an SSM
    # SecureString parameter, or a Secrets Manager secret (optionally one key of its JSON).
    service, _, where = raw.partition(":")
    if service not in ("ssm", "secretsmanager") or not where.strip() or any(c.isspace() for c in where):
        raise ValueError("must be ssm:<parameter name or ARN> or secretsmanager:<secret name or ARN>[#json key]")
    if service == "ssm" and "#" in where:
        raise ValueError("must name an SSM parameter without #key (only Secrets Manager secrets hold JSON keys)")
    return raw


class Variable:
    """One environment variable: its name, meaning, default (typed, and as the README states it), parser.

    ``attribute`` is the :class:`Settings` attribute holding its value: the name in lower case.
    ``secret`` values never appear in a ``repr`` or an error message. ``deploy``: the platforms
    (``"aws"``, ``"fc"``) whose template (``template.yaml``, ``s.yaml``) sets the variable; a
    variable no template sets is optional there (the suite checks both ways).
    ``reference_for``: for a ``<NAME>_REF`` variable, the secret variable it supplies.
    """

    __slots__ = (
        "attribute",
        "default",
        "deploy",
        "meaning",
        "name",
        "parse",
        "reference_for",
        "secret",
        "shown_default",
    )

    def __init__(
        self,
        name: str,
        meaning: str,
        *,
        default: Any = None,
        shown: str | None = None,
        parse: Callable[[str], Any] = _text,
        secret: bool = False,
        deploy: tuple[str, ...] = (),
        reference_for: str | None = None,
    ) -> None:
        self.name = name
        self.attribute = name.lower()
        self.meaning = meaning
        self.default = default
        # As the README states it: given, else the default as written ("—" for none).
        self.shown_default = shown if shown is not None else ("—" if default is None else str(default))
        self.parse = parse
        self.secret = secret
        self.deploy = deploy
        self.reference_for = reference_for

    def read(self, env: Mapping[str, str], *, where: str = "") -> Any:
        """The typed value from ``env`` (default when unset or blank). Raises :class:`SettingsError`.

        ``where`` is appended to the variable's name in the message (`` in /etc/pushfn.ini``).
        """
        raw = env.get(self.name)
        if raw is None or not raw.strip():
            return self.default
        return self.parse_text(raw, where=where)

    def parse_text(self, raw: str, *, where: str = "") -> Any:
        """Parse one non-blank value by this variable's rule; raises :class:`SettingsError`."""
        try:
            return self.parse(raw.strip())
        except ValueError as exc:
            # A URL's user:password@ part is as secret as a secret variable.
            shown = "" if self.secret or "@" in raw else f" (got {raw.strip()[:40]!r})"
            raise SettingsError(f"{self.name}{where} {exc}{shown}") from None

    def __repr__(self) -> str:
        return f"Variable({self.name!r})"


# Plain classes, not dataclasses: this module is on every function's cold-start path, and
# ``dataclasses`` pulls in ``inspect`` (~10 ms).

#: Every variable pushfn reads, in the order of the README's configuration table.
VARIABLES: tuple[Variable, ...] = (
    Variable(
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "AccessKey id (Function Compute sets it for the function's role)",
        deploy=("aws",),
    ),
    Variable("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AccessKey secret", secret=True),
    Variable(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET_REF",
        "where the AccessKey secret is stored: `ssm:<SecureString parameter>` or "
        "`secretsmanager:<secret>[#json key]`, read once per cold start",
        parse=_reference,
        deploy=("aws",),
        reference_for="ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    ),
    Variable("ALIBABA_CLOUD_SECURITY_TOKEN", "STS token: makes the keys above temporary credentials", secret=True),
    Variable("PUSH_ACCESS_KEY_ID", "compatibility name, used when the above are unset"),
    Variable("PUSH_ACCESS_KEY_SECRET", "compatibility name, used when the above are unset", secret=True),
    Variable("PUSH_APP_KEY", "the app's AppKey", parse=_app_key, deploy=("aws", "fc")),
    Variable("PUSH_REGION_ID", "region sent with V2 requests", default="cn-hangzhou", deploy=("aws", "fc")),
    Variable(
        "PUSH_ENDPOINT",
        "CloudPush URL (the emulator's for local runs)",
        default="https://cloudpush.aliyuncs.com",
        parse=_endpoint,
    ),
    Variable(
        "PUSH_SIGNATURE_VERSION",
        "`v2` (HMAC-SHA1) or `v3` (ACS3-HMAC-SHA256)",
        default="v2",
        parse=_signature_version,
    ),
    Variable("PUSH_CONNECT_TIMEOUT", "seconds to wait for a connection", default=5.0, shown="5", parse=_seconds(3600)),
    Variable("PUSH_READ_TIMEOUT", "seconds to wait for the answer", default=10.0, shown="10", parse=_seconds(3600)),
    Variable(
        "PUSH_MAX_ATTEMPTS",
        "tries per call, first included (only where a retry is safe)",
        default=4,
        parse=_integer(1, 100),
    ),
    Variable(
        "PUSH_TRANSPORT",
        "HTTP client: `stdlib` (keep-alive `http.client`) or `requests`",
        default="stdlib",
        parse=_choice("stdlib", "requests"),
    ),
    Variable("SSL_CERT_FILE", "CA bundle (PEM) trusted for HTTPS instead of the system's", shown="system CAs"),
    Variable("REQUESTS_CA_BUNDLE", "the same, used when `SSL_CERT_FILE` is unset", shown="system CAs"),
    Variable(
        "HTTPS_PROXY",
        "proxy for HTTPS endpoints, `http://[user:password@]host:port` (a CONNECT tunnel); upper case only",
        parse=_proxy,
        secret=True,
    ),
    Variable("HTTP_PROXY", "proxy for plain-HTTP endpoints, as above", parse=_proxy, secret=True),
    Variable(
        "NO_PROXY",
        "comma-separated hosts (a name covers its subdomains; `*` = all) reached without the proxy",
    ),
    Variable(
        "PUSHFN_CONFIG_FILE",
        "INI file with a `[push_config]` section (`PUSH_ACCESS_KEY_ID`, `PUSH_ACCESS_KEY_SECRET`, `PUSH_APP_KEY`, "
        "`PUSH_REGION_ID`)",
        shown="~/.config/pushfn/config.ini",
    ),
    Variable(
        "ALIBABA_CLOUD_CREDENTIALS_URI",
        "URL returning role credentials (`{Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`)",
    ),
    Variable("ALIBABA_CLOUD_ECS_METADATA", "RAM role name on an ECS instance (enables the metadata lookup)"),
    Variable(
        "ALIBABA_CLOUD_ECS_METADATA_ENABLED",
        "`true`: look the role name up in the metadata service",
        default=False,
        shown="off",
        parse=_flag,
    ),
    Variable(
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
        "`true`: never ask the metadata service, even when the two above ask for it",
        default=False,
        shown="off",
        parse=_flag,
    ),
    Variable(
        "ALIBABA_CLOUD_IMDSV1_DISABLED",
        "`true`: metadata only with an IMDSv2 session token, no fallback to v1",
        default=False,
        shown="off",
        parse=_flag,
    ),
    Variable(
        "ALIBABA_CLOUD_ROLE_ARN",
        "RAM role assumed with the OIDC token (RRSA), with the next two",
    ),
    Variable("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ARN of the OIDC identity provider that issued the token (RRSA)"),
    Variable(
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "file holding the OIDC token, read again at every refresh (RRSA)",
    ),
    Variable(
        "ALIBABA_CLOUD_ROLE_SESSION_NAME",
        "session name of an assumed role (OIDC, or a CLI profile without `ram_session_name`)",
        shown="`pushfn-<epoch seconds>`",
    ),
    Variable(
        "ALIBABA_CLOUD_PROFILE",
        "Alibaba Cloud CLI profile in `~/.aliyun/config.json` to take the keys from",
        shown="the file's `current`",
    ),
    Variable(
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
        "`true`: never read `~/.aliyun/config.json`",
        default=False,
        shown="off",
        parse=_flag,
    ),
    Variable(
        "ALIBABA_CLOUD_STS_REGION",
        "region of the STS endpoint, `sts.<region>.aliyuncs.com`, for assumed roles",
        shown="— (`sts.aliyuncs.com`)",
    ),
    Variable(
        "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
        "`true`: STS through its VPC endpoint `sts-vpc.<region>.aliyuncs.com` (needs a region)",
        default=False,
        shown="off",
        parse=_flag,
    ),
    Variable(
        "PUSHFN_STS_ENDPOINT",
        "STS URL instead of the one built from the two above (a private gateway, a local stand-in)",
        shown="`https://sts.aliyuncs.com`",
        parse=lambda raw: _endpoint(raw, "https://sts.aliyuncs.com"),
    ),
    Variable("XDG_CONFIG_HOME", "base folder of the default INI file", shown="~/.config"),
    Variable(
        "PUSHFN_IDEMPOTENCY_URL",
        "idempotency store: `sqlite:///path.db`, `dynamodb://TABLE`, `tablestore://INSTANCE/TABLE`, `memory://`",
        shown="SQLite in the data folder",
        deploy=("aws", "fc"),
    ),
    Variable(
        "PUSHFN_DATA_DIR",
        "where the default SQLite store lives",
        shown="`$XDG_DATA_HOME/pushfn` or `~/.local/share/pushfn`",
    ),
    Variable("XDG_DATA_HOME", "base folder of the data folder", shown="~/.local/share"),
    Variable("PUSHFN_TABLESTORE_ENDPOINT", "Tablestore endpoint for `tablestore://`", deploy=("fc",)),
    Variable(
        "PUSHFN_IDEMPOTENCY_TTL",
        "seconds an `Idempotency-Key` is remembered",
        default=86400,
        parse=_integer(1),
    ),
    Variable(
        "PUSHFN_HTTP_AUTH",
        "`required` (webhook signature or API key) or `none`",
        default="required",
        parse=_choice("required", "none"),
    ),
    Variable(
        "PUSHFN_WEBHOOK_SECRETS",
        "comma-separated Standard Webhooks secrets (`whsec_<base64>`, or any other value used as UTF-8 bytes), "
        "each at least 24 bytes; several = rotation",
        secret=True,
        deploy=("fc",),
    ),
    Variable(
        "PUSHFN_WEBHOOK_SECRETS_REF",
        "where `PUSHFN_WEBHOOK_SECRETS` is stored (`ssm:…` or `secretsmanager:…`, as above)",
        parse=_reference,
        deploy=("aws",),
        reference_for="PUSHFN_WEBHOOK_SECRETS",
    ),
    Variable(
        "PUSHFN_WEBHOOK_TOLERANCE",
        "seconds a `webhook-timestamp` may differ from now, both ways",
        default=300,
        parse=_integer(1),
    ),
    Variable(
        "PUSHFN_API_KEYS",
        "comma-separated `tenant:<sha256 hex of the key>` (64 lowercase hex; keys of at least 24 bytes)",
        deploy=("fc",),
    ),
    Variable(
        "PUSHFN_API_KEYS_REF",
        "where `PUSHFN_API_KEYS` is stored (`ssm:…` or `secretsmanager:…`, as above)",
        parse=_reference,
        deploy=("aws",),
        reference_for="PUSHFN_API_KEYS",
    ),
    Variable(
        "PUSHFN_HTTP_MAX_BODY_BYTES",
        "largest accepted body (`413` beyond)",
        default=262144,
        parse=_integer(1),
    ),
    Variable(
        "PUSHFN_HTTP_DEDUPE_SECONDS",
        "window in which an identical request without `Idempotency-Key` is answered from the first (`0` = off)",
        default=60,
        parse=_integer(0),
    ),
    Variable("PUSHFN_HTTP_BASE_PATH", "prefix stripped before routing (e.g. `/api`)"),
    Variable(
        "PUSHFN_TEMPLATES",
        "named message templates: inline JSON `{name: {Push params with {placeholders}}}` or a path to a JSON file",
    ),
    Variable(
        "PUSHFN_SCHEDULES",
        "name → push spec table for EventBridge rule schedules, which cannot carry a payload "
        "(inline JSON or a file path)",
    ),
    Variable(
        "PUSHFN_DEAD_LETTER_URL",
        "where permanently failed queue messages go: a directory (`file:///dir`) or an SQS queue URL",
        shown="— (log line only)",
        deploy=("aws",),
    ),
    Variable(
        "PUSHFN_FILE_PUSH_SPEC",
        "the file function's default push content when a file has no `.push.json` sidecar and no `push-template` "
        'metadata: a push spec without targets or `{"template": NAME}` (inline JSON or a file path)',
        shown="— (such a file is rejected with a report)",
    ),
    Variable(
        "PUSHFN_FILE_ROOT", "a local folder the file function reads objects from instead of the bucket (local runs)"
    ),
    Variable(
        "PUSHFN_FILE_CONCURRENCY",
        "chunks of one file the file function sends at once (`1` = one after the other), "
        "all under the client-side rate limit of CloudPush's quotas",
        default=8,
        parse=_integer(1, 64),
    ),
    Variable(
        "PUSHFN_OSS_ENDPOINT",
        "OSS endpoint of the file function instead of the one built from the event's region",
        shown="`https://oss-<region>-internal.aliyuncs.com`",
    ),
    Variable(
        "PUSHFN_FILE_FANOUT_TARGETS",
        "valid targets the file function sends itself; the chunks after them are handed to the queue function",
        default=50000,
        parse=_integer(1),
    ),
    Variable(
        "PUSHFN_FANOUT_QUEUE_URL",
        "SQS queue URL of the queue function, for the file function's fan-out (AWS)",
        deploy=("aws",),
    ),
    Variable(
        "PUSHFN_FANOUT_FC_FUNCTION",
        "the queue function as `service/function`, invoked asynchronously for the file function's fan-out (FC)",
        deploy=("fc",),
    ),
    Variable(
        "PUSHFN_FANOUT_FC_ENDPOINT",
        "Function Compute endpoint for the fan-out instead of the one built from the invocation's account and region",
        shown="`https://<account>.<region>-internal.fc.aliyuncs.com`",
    ),
    Variable("AWS_REGION", "AWS region (Lambda sets it) for the SQS dead-letter queue"),
    Variable("AWS_DEFAULT_REGION", "AWS region when `AWS_REGION` is unset"),
    Variable("PUSHFN_EMULATOR_ACCESS_KEY_ID", "the emulator's accepted AccessKey id", default="testid"),
    Variable(
        "PUSHFN_EMULATOR_ACCESS_KEY_SECRET",
        "the emulator's accepted AccessKey secret",
        default="testsecret",
        secret=True,
    ),
    Variable(
        "PUSHFN_EMULATOR_APP_KEY",
        "the emulator's accepted AppKeys (comma-separated)",
        default="23267207",
    ),
    Variable(
        "PUSHFN_EMULATOR_RING_SIZE",
        "how many calls and accepted pushes the emulator keeps (oldest forgotten first)",
        default=10000,
        parse=_integer(1, EMULATOR_MAX_RING_SIZE),
    ),
)

_BY_ATTRIBUTE = {variable.attribute: variable for variable in VARIABLES}
_BY_NAME = {variable.name: variable for variable in VARIABLES}

#: Client settings the INI file's ``[push_config]`` section may hold (besides the keys, which the
#: credential chain reads from it in its own place): the environment wins over the file.
CONFIG_FILE_NAMES: tuple[str, ...] = (
    "PUSH_APP_KEY",
    "PUSH_REGION_ID",
    "PUSH_ENDPOINT",
    "PUSH_SIGNATURE_VERSION",
    "PUSH_CONNECT_TIMEOUT",
    "PUSH_READ_TIMEOUT",
    "PUSH_MAX_ATTEMPTS",
)


class Settings:
    """A snapshot of every setting, one attribute per variable (its name in lower case).

    Unset or blank variables take their defaults. Values are typed: seconds as ``float`` or ``int``
    as stated, flags as ``bool``, text as ``str`` (``None`` when unset and without a default).
    ``Settings(push_app_key="1")`` builds one in code (tests); unknown names raise ``TypeError``.
    """

    alibaba_cloud_access_key_id: str | None
    alibaba_cloud_access_key_secret: str | None
    alibaba_cloud_access_key_secret_ref: str | None
    alibaba_cloud_security_token: str | None
    push_access_key_id: str | None
    push_access_key_secret: str | None
    push_app_key: str | None
    push_region_id: str
    push_endpoint: str
    push_signature_version: str
    push_connect_timeout: float
    push_read_timeout: float
    push_max_attempts: int
    push_transport: str
    ssl_cert_file: str | None
    requests_ca_bundle: str | None
    https_proxy: str | None
    http_proxy: str | None
    no_proxy: str | None
    pushfn_config_file: str | None
    alibaba_cloud_credentials_uri: str | None
    alibaba_cloud_ecs_metadata: str | None
    alibaba_cloud_ecs_metadata_enabled: bool
    alibaba_cloud_ecs_metadata_disabled: bool
    alibaba_cloud_imdsv1_disabled: bool
    alibaba_cloud_role_arn: str | None
    alibaba_cloud_oidc_provider_arn: str | None
    alibaba_cloud_oidc_token_file: str | None
    alibaba_cloud_role_session_name: str | None
    alibaba_cloud_profile: str | None
    alibaba_cloud_cli_profile_disabled: bool
    alibaba_cloud_sts_region: str | None
    alibaba_cloud_vpc_endpoint_enabled: bool
    pushfn_sts_endpoint: str | None
    xdg_config_home: str | None
    pushfn_idempotency_url: str | None
    pushfn_data_dir: str | None
    xdg_data_home: str | None
    pushfn_tablestore_endpoint: str | None
    pushfn_idempotency_ttl: int
    pushfn_http_auth: str
    pushfn_webhook_secrets: str | None
    pushfn_webhook_secrets_ref: str | None
    pushfn_webhook_tolerance: int
    pushfn_api_keys: str | None
    pushfn_api_keys_ref: str | None
    pushfn_http_max_body_bytes: int
    pushfn_http_dedupe_seconds: int
    pushfn_http_base_path: str | None
    pushfn_templates: str | None
    pushfn_schedules: str | None
    pushfn_dead_letter_url: str | None
    pushfn_file_push_spec: str | None
    pushfn_file_root: str | None
    pushfn_file_concurrency: int
    pushfn_oss_endpoint: str | None
    pushfn_file_fanout_targets: int
    pushfn_fanout_queue_url: str | None
    pushfn_fanout_fc_function: str | None
    pushfn_fanout_fc_endpoint: str | None
    aws_region: str | None
    aws_default_region: str | None
    pushfn_emulator_access_key_id: str
    pushfn_emulator_access_key_secret: str
    pushfn_emulator_app_key: str
    pushfn_emulator_ring_size: int

    # ``_given``: the attributes set explicitly (in the environment, or by name in code), as opposed
    # to defaulted, so a lower-priority source (the INI file) can fill only what was left unset.
    __slots__ = (*_BY_ATTRIBUTE, "_given")

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - _BY_ATTRIBUTE.keys()
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for attribute, variable in _BY_ATTRIBUTE.items():
            object.__setattr__(self, attribute, values.get(attribute, variable.default))
        object.__setattr__(self, "_given", frozenset(values))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, only: Collection[str] | None = None) -> Settings:
        """Read every variable from ``env`` (default: ``os.environ``, the only place pushfn reads it).

        ``only``: read just these variable names (others keep their defaults), for a check that must
        not fail on a setting it does not judge. Raises :class:`SettingsError` for the first value its
        rule refuses, :class:`KeyError` for a name in ``only`` that is no variable.
        """
        source = os.environ if env is None else env
        unknown = sorted(set(only or ()) - _BY_NAME.keys())
        if unknown:  # a typo'd name is a bug, never a silently unread setting
            raise KeyError(f"no such variable: {', '.join(unknown)}")
        values = {}
        for variable in VARIABLES:
            if only is not None and variable.name not in only:
                continue
            raw = source.get(variable.name)
            if raw is not None and raw.strip():
                values[variable.attribute] = variable.parse_text(raw)
        return cls(**values)

    def is_set(self, attribute: str) -> bool:
        """Whether ``attribute`` was given (in the environment or in code) rather than defaulted."""
        if attribute not in _BY_ATTRIBUTE:
            raise AttributeError(attribute)
        return attribute in self._given

    def fill_from(self, values: Mapping[str, str], *, where: str) -> Settings:
        """A copy where :data:`CONFIG_FILE_NAMES` not set here take their value from ``values``.

        ``values`` maps variable names in any case (an INI section's keys are lower case) to text,
        parsed by the same rules as the environment; a refused value raises :class:`SettingsError`
        naming ``NAME in <where>``. Other names in ``values`` are ignored.
        """
        lowered = {str(key).lower(): text for key, text in values.items()}
        changes = {}
        for name in CONFIG_FILE_NAMES:
            variable = _BY_NAME[name]
            raw = lowered.get(name.lower())
            if not self.is_set(variable.attribute) and raw is not None and raw.strip():
                changes[variable.attribute] = variable.parse_text(raw, where=f" in {where}")
        return self.replace(**changes) if changes else self

    @property
    def config_file(self) -> Path:
        """The INI file: ``PUSHFN_CONFIG_FILE``, else ``$XDG_CONFIG_HOME/pushfn/config.ini``, else
        ``~/.config/pushfn/config.ini``. It need not exist."""
        if self.pushfn_config_file:
            return Path(self.pushfn_config_file).expanduser()
        base = Path(self.xdg_config_home).expanduser() if self.xdg_config_home else Path.home() / ".config"
        return base / "pushfn" / "config.ini"

    @property
    def data_dir(self) -> Path:
        """The data folder (the default SQLite store, ``pushfn serve``'s files): ``PUSHFN_DATA_DIR``, else
        ``$XDG_DATA_HOME/pushfn``, else ``~/.local/share/pushfn``. It need not exist."""
        if self.pushfn_data_dir:
            return Path(self.pushfn_data_dir).expanduser()
        base = Path(self.xdg_data_home).expanduser() if self.xdg_data_home else Path.home() / ".local" / "share"
        return base / "pushfn"

    @property
    def aliyun_cli_config_file(self) -> Path | None:
        """The Alibaba Cloud CLI's ``~/.aliyun/config.json`` (the path ``alibabacloud-credentials`` and the
        CLI read); ``None`` when the home folder cannot be determined. It need not exist."""
        try:
            return Path.home() / ".aliyun" / "config.json"
        except RuntimeError:  # no HOME and no password-database entry (some minimal containers)
            return None

    @property
    def aws_region_name(self) -> str | None:
        """``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (``None`` when neither is set)."""
        return self.aws_region or self.aws_default_region

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (same names as the constructor)."""
        given = {attribute: getattr(self, attribute) for attribute in self._given}
        return type(self)(**{**given, **changes})

    def to_dict(self) -> dict[str, Any]:
        """Every setting by attribute name, defaults included."""
        return {attribute: getattr(self, attribute) for attribute in _BY_ATTRIBUTE}

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are read-only; use replace()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{v.attribute}={'***' if v.secret and getattr(self, v.attribute) else repr(getattr(self, v.attribute))}"
            for v in VARIABLES
            if getattr(self, v.attribute) != v.default
        )
        return f"Settings({shown})"


__all__ = ["CONFIG_FILE_NAMES", "VARIABLES", "Settings", "SettingsError", "Variable"]
