"""Typed reads of business parameters, each failure raised as the API's own error code.

Every value travels as a string; this is the one place that turns strings into booleans, integers,
lists and times, and names the parameter in the error the way CloudPush does
(``MissingTitle``, ``InvalidiOSBadge.Format``). For a MassPush task the code names the field and the
message the full path (``PushTask.3.Title``), so a user finds the offending task.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pushfn.api_time import parse_api_time
from pushfn.emulator.errors import ApiError, invalid


class Params:
    """Read-only view of one request's (or one MassPush task's) business parameters."""

    def __init__(self, values: Mapping[str, str], prefix: str = "") -> None:
        self.values = dict(values)
        self.prefix = prefix

    def path(self, name: str) -> str:
        """``name`` as the user sent it: ``Title`` in a request, ``PushTask.3.Title`` in a task."""
        return f"{self.prefix}{name}"

    def get(self, name: str) -> str | None:
        """The raw string value; ``None`` when absent (an empty value stays ``""``)."""
        return self.values.get(name)

    def has(self, name: str) -> bool:
        """Whether ``name`` is present and not empty."""
        return self.values.get(name) not in (None, "")

    def required(self, name: str) -> str:
        """The value of a mandatory parameter.

        Raises :class:`ApiError` ``Missing<name>`` when it is absent or empty.
        """
        value = self.values.get(name)
        if value is None or value == "":
            raise ApiError(f"Missing{name}", f"{self.path(name)} is mandatory for this action.")
        return value

    def boolean(self, name: str) -> bool | None:
        """``true`` / ``false`` in any case, as a bool; ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format``.
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        # The Python SDKs send str(True) == "True"; the docs show "true": any case is accepted.
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise invalid(name, "Format", f"{self.path(name)} must be true or false, got {value!r}.")
        return lowered == "true"

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        """An integer within ``[low, high]`` (``None``: unbounded on that side); ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format`` or ``Invalid<name>.Range``.
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            raise invalid(name, "Format", f"{self.path(name)} must be an integer, got {value!r}.") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise invalid(name, "Range", f"{self.path(name)} must be within [{low}, {high}], got {number}.")
        return number

    def number(self, name: str, low: float, high: float) -> float | None:
        """A float within ``[low, high]``; ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format`` or ``Invalid<name>.Range`` (NaN is out of range).
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise invalid(name, "Format", f"{self.path(name)} must be a number, got {value!r}.") from None
        if not low <= number <= high:
            raise invalid(name, "Range", f"{self.path(name)} must be within [{low}, {high}], got {number}.")
        return number

    def enum(self, name: str, allowed: Collection[str]) -> str | None:
        """One of ``allowed`` (case-sensitive); ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format`` listing the choices.
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if value not in allowed:
            choices = ", ".join(sorted(allowed))
            raise invalid(name, "Format", f"{self.path(name)} must be one of {choices}, got {value!r}.")
        return value

    def items(self, name: str, *, required: bool = True) -> list[str]:
        """A comma-separated list, blanks around items ignored, empty items dropped."""
        value = self.required(name) if required else (self.values.get(name) or "")
        return [item.strip() for item in value.split(",") if item.strip()]

    def api_time(self, name: str) -> float | None:
        """Epoch seconds of a ``YYYY-MM-DDThh:mm:ssZ`` (UTC) value; ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format``.
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        parsed = parse_api_time(value)
        if parsed is None:
            raise invalid(name, "Format", f"{self.path(name)} must be YYYY-MM-DDThh:mm:ssZ (UTC), got {value!r}.")
        return parsed
