"""Masking of secrets and device ids in text and structures: what logs and messages show of them.

Masking lives in one place so every module hides values the same way, and a test can check that
no log line carries a secret or a full device id. Call sites mask what they know is sensitive
(:func:`mask`, :func:`mask_list`); :func:`scrub` is the last line of defence over a whole record —
message, ``extra["fields"]`` (values, nested structures *and* dict keys: a spec that uses a device id
as a JSON key puts it into ``problems[].field``), other extra attributes, exception text — so a value
no call site thought of is still masked:

- anything shaped like a device id: a run of exactly 32 ASCII letters/digits (CloudPush device ids
  are 32 hex digits), wherever it appears (after a percent-encoded ``%2C`` too);
- the value of any field whose name says secret (``*secret*``, ``*password*``, ``authorization``,
  ``*signature*``, ``*credential*``, ``api_key``, ``*cookie*``, ``security_token``, ``session_token``,
  ``access_token``, ``token``);
- in text: ``name=value``, ``name: value`` and ``"name": "value"`` for those names and for any
  ``…token`` but CloudPush's ``IdempotentToken``, or ``api key`` (``token=…``, ``X-Api-Key: …``,
  ``"password": "…"``; an Authorization scheme before the value is kept, the credentials masked),
  ``Bearer …``, ``whsec_…`` secrets, ``pfk_…`` local API keys and a URL's password.

No ``logging`` here: a push that logs nothing (the cold path) masks its messages without loading it;
:mod:`pushfn.logs` applies these to every record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TYPE_CHECKING = False  # `typing` stays off the cold-start path; type checkers read this as typing's
if TYPE_CHECKING:
    from typing import Any

#: Characters of a sensitive value left visible (enough to correlate, not to reuse).
_VISIBLE = 4
#: Deeper structures are cut (a log line is no place for them, and recursion must stay bounded).
_MAX_DEPTH = 32

# Also after a percent-encoded separator (``%2C`` in a logged URL or query string), and after an escape
# sequence (``\t``, ``\x00``, ``\u2028``, ``\ud800``: how a JSON key or name holding a control character or a
# lone surrogate is shown in a field problem) whose letters and hex digits would otherwise join the run.
_DEVICE_ID = re.compile(
    r"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2})|(?<=\\[abfnrtv])|(?<=\\x[0-9A-Fa-f]{2})"
    r"|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\U[0-9A-Fa-f]{8}))[A-Za-z0-9]{32}(?![A-Za-z0-9])"
)
_SECRET_WORDS = (
    r"secret|password|passwd|passphrase|pwd|authorization|signature|credential|cookie|private[_-]?key"
    r"|api[_-]?key"
)
_SECRET_TOKENS = r"security[_-]?token|session[_-]?token|access[_-]?token"
_SECRET_NAME = re.compile(rf"(?i)({_SECRET_WORDS}|{_SECRET_TOKENS}|^token$|^bearer$)")
#: An Authorization scheme before the credentials (``Basic``, ``ACS3-HMAC-SHA256``…): skipped, not masked.
_SCHEME = r"(?:(?:bearer|basic|digest|token|acs[\w-]*|hmac[\w-]*)\s+)?"
_SECRET_IN_TEXT = re.compile(
    # In text any ``…token`` (``refresh_token``, ``X-Auth-Token``) / ``api key`` is a secret's name, but
    # CloudPush's ``IdempotentToken`` (a de-duplication UUID, needed to trace a retry) stays readable.
    # No identifier prefix in the pattern (``AccessKeySecret`` matches at ``Secret``): a free prefix
    # would make the scan quadratic on long runs like "a-a-a-…". An Authorization scheme before the
    # value is kept, its credentials masked.
    rf"(?i)({_SECRET_WORDS}|api[ ]key|(?<!idempotent)token)([\"']?\s*[=:]\s*[\"']?{_SCHEME})(?!\s)([^\s\"',&;]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?![^\s\"',;]*…)([^\s\"',;]+)")
#: Webhook secrets (standard or URL-safe base64) and ``pushfn serve``'s local API keys.
_WHSEC = re.compile(r"\b(?:whsec|pfk)_[A-Za-z0-9+/=_-]{4,}")
#: The password of a URL's user information (``redis://user:password@host``).
_URL_PASSWORD = re.compile(r"(//[^/\s:@]{1,256}:)([^@\s/]{1,1024})(@)")


#: What :func:`mask` writes: masking it again keeps it (a record passes a logger's filter, a handler's
#: filter and the formatter, and the length shown must stay the original's).
_MASKED = re.compile(r"[^…]{0,4}…\(\d+\)")


def mask(value: object) -> str:
    """``"e2ba19de97604f55b165576736477b74"`` → ``"e2ba…(32)"``; short values are hidden entirely.
    An already masked value is returned as it is."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if _MASKED.fullmatch(text):
        return text
    if len(text) <= _VISIBLE * 2:
        return f"…({len(text)})"
    return f"{text[:_VISIBLE]}…({len(text)})"


def mask_list(values: str, sep: str = ",") -> str:
    """Mask each item of a comma-separated target list, keeping at most three for brevity."""
    items = [v for v in values.split(sep) if v]
    shown = ",".join(mask(v) for v in items[:3])
    return shown + (f",+{len(items) - 3} more" if len(items) > 3 else "")


def shorten(text: str, limit: int, marker: str = "") -> str:
    """``text`` cut to at most ``limit`` characters (``marker`` ending a cut one), device ids masked first.

    For a value shown in a message or a problem's field: cut before masking, a device id cut in the middle
    is no longer shaped like one, and up to 31 of its 32 characters would reach the log unmasked. As in
    :func:`scrub_cut`, only ``limit`` + 64 characters are masked: the cost is bounded by the limit, not
    by the text (an id starting past that point is cut away whole)."""
    if len(text) <= limit:
        return text
    head, whole = _bounded_head(text, limit)
    head = _DEVICE_ID.sub(lambda m: mask(m.group(0)), head)
    if whole and len(head) <= limit:
        return head
    return head[: limit - len(marker)] + marker


def scrub_text(text: str) -> str:
    """``text`` with device ids, ``name=secret`` pairs, bearer keys and ``whsec_`` secrets masked."""
    text = _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{mask(m.group(3))}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{mask(m.group(2))}", text)
    text = _WHSEC.sub(lambda m: mask(m.group(0)), text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{mask(m.group(2))}{m.group(3)}", text)
    return _DEVICE_ID.sub(lambda m: mask(m.group(0)), text)


def scrub_cut(text: str, limit: int) -> str:
    """``text`` scrubbed (:func:`scrub_text`), then cut to at most ``limit`` characters.

    In that order: cutting first can leave part of a device id or secret at the cut (``…e2ba19de9760``),
    too short for the log filter to recognise, yet most of the value. Only ``limit`` + 64 characters
    are scrubbed, so the cost stays bounded by the limit, not by the text (anything past that point is
    cut away whole)."""
    return scrub_text(_bounded_head(text, limit)[0])[:limit]


#: Letters and digits reaching the end of a cut text: possibly the first part of a device id. A run
#: holds one only if at most 41 long (32, after an escape such as ``\U0001f600`` at most 9 more): a
#: longer run is no id and is kept.
_TRAILING_ID_CHARACTERS = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{1,41}\Z")


def _bounded_head(text: str, limit: int) -> tuple[str, bool]:
    """``(the part of text worth masking for a cut at limit, whether that is the whole text)``.

    ``limit`` + 64 characters, less a run of letters and digits reaching that point: masking shortens
    the ids before it, so the run could move inside the limit, and as part of an id it is not shaped
    like one (a 31-character fragment would pass unmasked)."""
    if len(text) <= limit + 64:
        return text, True
    return _TRAILING_ID_CHARACTERS.sub("", text[: limit + 64]), False


def is_secret_name(name: object) -> bool:
    """True for field names whose values are secrets (see the module docstring)."""
    return isinstance(name, str) and _SECRET_NAME.search(name) is not None


def scrub(value: Any, *, _depth: int = 0) -> Any:
    """A copy of ``value`` safe to log: strings scrubbed, dict keys too, secret-named fields masked.

    Containers become dicts/lists (JSON shapes); numbers, booleans and ``None`` pass through; any other
    object is replaced by its scrubbed ``str()``. Structures deeper than 32 levels are cut.
    """
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _depth >= _MAX_DEPTH:
        return "…(nested)"
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            name = scrub_text(key) if isinstance(key, str) else scrub(key, _depth=_depth + 1)
            if not isinstance(name, (str, int, float, bool)) and name is not None:
                name = str(name)
            while name in out:  # two masked ids may collide: keep both entries
                name = f"{name}'"
            if is_secret_name(key) and item is not None:
                out[name] = mask_all(item, _depth + 1)
            else:
                out[name] = scrub(item, _depth=_depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(item, _depth=_depth + 1) for item in value]
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not break logging
        return f"<{type(value).__name__}>"
    return scrub_text(text)


def mask_all(value: Any, depth: int = 0) -> Any:
    """Every leaf of ``value`` (a secret-named field's), masked with :func:`mask`; containers deeper than
    32 levels below ``depth`` are masked whole."""
    if isinstance(value, Mapping) and depth < _MAX_DEPTH:
        return {scrub_text(str(k)): mask_all(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)) and depth < _MAX_DEPTH:
        return [mask_all(v, depth + 1) for v in value]
    return mask(value)
