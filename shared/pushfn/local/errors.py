"""The one error of the local tools: input to ``pushfn invoke`` / ``pushfn event`` that cannot be used."""

from __future__ import annotations

from pushfn.errors import PushfnError


class LocalInputError(PushfnError, ValueError):
    """An event file, a JSON environ or an option that cannot be used; ``field`` names it (``--event``,
    ``REQUEST_METHOD``, ``--time``), ``rule`` says what it breaks, the message says it for a person.
    The CLI prints it as one line and exits 2."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.detail = message
