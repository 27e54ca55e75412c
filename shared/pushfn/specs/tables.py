"""Named tables from configuration: a JSON object given inline or as the path of a JSON file.

Two settings hold one: ``PUSHFN_TEMPLATES`` (``{name: Push parameters with {placeholders}}``, see
:mod:`pushfn.specs.templates`) and ``PUSHFN_SCHEDULES`` (``{schedule or rule name: push spec}``, for
EventBridge rule schedules, whose events cannot carry a spec). Both are read by :func:`load_table`:
a value starting with ``{`` (after an optional BOM and blanks) is the JSON itself, anything else is
a path (``~`` expanded). The document is decoded by :func:`pushfn.json_input.decode_json` (a BOM is
dropped; depth, sizes and numbers are bounded; duplicate keys refused).

Values come from :class:`~pushfn.settings.Settings`; nothing here reads the environment. Every
problem is a :class:`~pushfn.errors.ConfigurationError` naming the variable: the operator's
mistake, which only fixing the configuration can cure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pushfn.errors import ConfigurationError
from pushfn.json_input import JsonInputError, decode_json

#: The setting holding the schedules table.
SCHEDULES_ENV = "PUSHFN_SCHEDULES"


def load_table(source: str | None, *, variable: str, shape: str) -> dict[str, Any]:
    """The JSON object ``source`` holds inline or names as a file; ``{}`` when ``source`` is unset or blank.

    ``variable`` names the setting in error messages; ``shape`` describes the expected object
    (``{name: spec}``). Raises :class:`ConfigurationError`: the file cannot be read, the document
    is not bounded JSON (the message names the :class:`~pushfn.json_input.JsonInputError` rule), or
    it is not a JSON object.
    """
    text = (source or "").strip()
    if not text:
        return {}
    document: str | bytes = text
    if not text.removeprefix("\ufeff").lstrip().startswith(("{", "[")):
        path = Path(text).expanduser()
        try:
            document = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"{variable}: cannot read file {str(path)!r}: {exc.strerror or type(exc).__name__}"
            ) from None
    try:
        table = decode_json(document)
    except JsonInputError as exc:
        raise ConfigurationError(f"{variable}: not valid JSON ({exc.rule}: {exc})") from None
    if not isinstance(table, dict):
        raise ConfigurationError(f"{variable}: must be a JSON object of {shape}")
    return table


def load_schedules(source: str | None) -> dict[str, Any]:
    """The ``{name: push spec}`` table of ``PUSHFN_SCHEDULES`` (the value, not the environment);
    empty when unset. Specs are validated when a tick uses them, not here. Raises
    :class:`ConfigurationError` like :func:`load_table`."""
    return load_table(source, variable=SCHEDULES_ENV, shape="{name: spec}")


__all__ = ["SCHEDULES_ENV", "load_schedules", "load_table"]
