"""Named message templates: Push parameters with ``{placeholder}`` slots, filled from caller data.

Templates come from configuration (the value of ``PUSHFN_TEMPLATES``, passed in by the caller: an
inline JSON object or the path of a ``.json`` file)::

    {"order_shipped": {"Target": "ACCOUNT", "PushType": "NOTICE",
                       "Title": "Order {order} shipped", "Body": "Arrives {eta}",
                       "ExtParameters": {"order": "{order}"}}}

Substitution is deliberately tiny and safe: a slot is a bare identifier (``{order}``); ``{{`` and
``}}`` are literal braces. Attribute access, indexing and format specs (``{a.b}``, ``{a[0]}``,
``{a:>10}``) are rejected when the templates are loaded, so caller data can never reach into Python
objects the way ``str.format`` would let it. A value that is exactly one slot (``"{badge}"``) takes
the parameter's own type, so ``iOSBadge`` can stay an integer. Object and array values (handy for
``ExtParameters``) are filled recursively and then sent as compact JSON, the form the API expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.masking import shorten
from pushfn.problems import fold_name
from pushfn.push.errors import InvalidRequestError
from pushfn.specs.tables import load_table

#: The setting holding the templates (inline JSON object or a file path).
TEMPLATES_ENV = "PUSHFN_TEMPLATES"

#: Tokens of a template string: an escaped brace, a slot, or any other brace (an error).
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

#: Caller values a slot accepts; anything richer could smuggle structure into a push.
_SCALARS = (str, int, float, bool)

Value = Any  # a JSON value: str, int, float, bool, None, list, dict


@dataclass(frozen=True)
class Template:
    """One named template, checked at load time; :attr:`slots` are the parameters it needs."""

    name: str
    params: Mapping[str, Value]
    slots: frozenset[str]

    def render(self, values: Mapping[str, Any]) -> dict[str, Value]:
        """Fill every slot from ``values``; raise :class:`InvalidRequestError` on a mismatch."""
        problems = _check_values(self.slots, values)
        if problems:
            raise InvalidRequestError(problems, action="Push")
        return {key: _to_param(_fill(value, values)) for key, value in self.params.items()}


def compile_template(name: str, params: Mapping[str, Value]) -> Template:
    """Check one template definition and find its slots; raise :class:`ConfigurationError` if bad."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(f"template name {name!r} must be 1-64 letters, digits or _ . : -")
    if not isinstance(params, Mapping) or not params:
        raise ConfigurationError(f"template {name!r} must be a non-empty JSON object of Push parameters")
    slots: set[str] = set()
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"template {name!r} has an empty or non-string parameter name")
        _collect_slots(value, f"{name}.{key}", slots)
    return Template(name=name, params=dict(params), slots=frozenset(slots))


def load_templates(source: str | None = None) -> dict[str, Template]:
    """Templates from ``source``, the value of ``PUSHFN_TEMPLATES``: inline JSON or a file path
    (read by :func:`pushfn.specs.tables.load_table`).

    ``None`` or blank means no templates (an empty dict), not an error: most deployments use none.
    Raises :class:`ConfigurationError` for a file that cannot be read, a document that is not a
    bounded JSON object, or a template that does not compile (see :func:`compile_template`).
    """
    raw = load_table(source, variable=TEMPLATES_ENV, shape="{name: {Push params}}")
    return {name: compile_template(name, params) for name, params in raw.items()}


def render_template(
    templates: Mapping[str, Template | Mapping[str, Value]],
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Value]:
    """Push parameters of template ``name`` filled with ``params``, then ``overrides`` applied.

    ``overrides`` (typically the target chosen by the caller) are taken literally, never rendered,
    and replace a template parameter of the same name in either spelling (``Target``/``target``,
    ``iOSBadge``/``ios_badge``).
    """
    if not isinstance(name, str) or name not in templates:
        known = ", ".join(sorted(templates)) or "none configured"
        raise InvalidRequestError(
            [
                FieldProblem(
                    "template", "unknown_template", f"no template named {shorten(str(name), 64)!r} (known: {known})"
                )
            ],
            action="Push",
        )
    template = templates[name]
    if not isinstance(template, Template):
        template = compile_template(name, template)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise InvalidRequestError(
            [FieldProblem("params", "type", "params must be a JSON object of placeholder values")],
            action="Push",
        )
    rendered = template.render(params)
    for key, value in (overrides or {}).items():
        for existing in [k for k in rendered if fold_name(k) == fold_name(key)]:
            del rendered[existing]
        rendered[key] = value
    return rendered


# --- internals ---------------------------------------------------------------------------------


def _collect_slots(value: Value, where: str, slots: set[str]) -> None:
    if isinstance(value, str):
        for match in _TOKEN.finditer(value):
            token = match.group(0)
            if match.group(1):
                slots.add(match.group(1))
            elif token not in ("{{", "}}"):
                raise ConfigurationError(
                    f"template {where}: only bare {{name}} placeholders are allowed "
                    f"(no attribute, index or format spec); write {{{{ or }}}} for a literal brace"
                )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect_slots(item, f"{where}.{key}", slots)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_slots(item, f"{where}[{index}]", slots)
    elif value is not None and not isinstance(value, (int, float, bool)):
        raise ConfigurationError(f"template {where}: unsupported value type {type(value).__name__}")


def _check_values(slots: frozenset[str], values: Mapping[str, Any]) -> list[FieldProblem]:
    problems = [
        FieldProblem(f"params.{slot}", "missing", f"the template needs a value for {slot!r}")
        for slot in sorted(slots)
        if slot not in values
    ]
    for key in sorted(values, key=str):
        if key not in slots:
            problems.append(
                FieldProblem(f"params.{shorten(str(key), 64)}", "unknown", "the template has no such placeholder")
            )
        elif values[key] is None or not isinstance(values[key], _SCALARS):
            problems.append(
                FieldProblem(f"params.{key}", "type", "a placeholder value must be a string, number or boolean")
            )
    return problems


def _fill(value: Value, values: Mapping[str, Any]) -> Value:
    if isinstance(value, str):
        whole = _TOKEN.fullmatch(value)
        if whole and whole.group(1):
            return values[whole.group(1)]  # keep the caller's type for a value that is one slot
        return _TOKEN.sub(lambda m: _text(values[m.group(1)]) if m.group(1) else m.group(0)[0], value)
    if isinstance(value, Mapping):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def _to_param(value: Value) -> Value:
    """Objects and arrays become compact JSON strings: CloudPush takes ``ExtParameters`` as a string."""
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
