"""Base classes: parameter naming, whole-request rules and wire serialisation.

Fields are declared in snake_case (``ios_badge``); their alias is the case-sensitive API name
(``iOSBadge``). Input may use either spelling; anything else is rejected with a hint.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from pushfn.errors import FieldProblem
from pushfn.push.models._errors import invalid_request_error, printable
from pushfn.push.models._naming import api_name
from pushfn.push.models._rules import raise_problems
from pushfn.push.models._types import AppKey
from pushfn.push.models._wire import to_wire


def reference_time(info: ValidationInfo) -> datetime:
    """The ``now`` that time rules compare against (validation context, else the clock)."""
    context = info.context if isinstance(info.context, Mapping) else {}
    now = context.get("now")
    return now.astimezone(timezone.utc) if isinstance(now, datetime) else datetime.now(timezone.utc)


@functools.cache
def _input_names(model: type[WireModel]) -> Mapping[str, str]:
    """Every accepted input spelling -> API name, for one model class."""
    names: dict[str, str] = {}
    for snake, field in model.model_fields.items():
        names[snake] = names[field.alias or snake] = field.alias or snake
    names.update(model.input_synonyms)
    return names


class WireModel(BaseModel):
    """A set of CloudPush parameters (a whole request, or one ``MassPush`` task)."""

    model_config = ConfigDict(alias_generator=api_name, extra="forbid", frozen=True)

    #: Extra input spellings accepted for a parameter, beyond its API and snake_case names.
    input_synonyms: ClassVar[Mapping[str, str]] = {}

    def __init__(self, /, **data: Any) -> None:
        # Direct construction fails like parse_request does: with InvalidRequestError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # Not chained: the pydantic error holds the raw input, which may be too deep to print.
            raise invalid_request_error(exc, type(self)) from None

    # Tell pydantic this is still its own __init__ (as RootModel does): otherwise model_validate
    # would route through it and lose the validation context that carries `now`.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def api_names(cls) -> tuple[str, ...]:
        """Every parameter's API name (``iOSBadge``), in declaration order."""
        return tuple(field.alias or name for name, field in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _accept_both_spellings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        names = _input_names(cls)
        renamed: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for key, value in data.items():
            # Unknown names pass through so that pydantic reports them (extra="forbid") together
            # with every other problem; the error translation adds the "did you mean" hint.
            api = names.get(key, key) if isinstance(key, str) else str(key)
            if not api.isprintable():
                # An unknown name holding a lone surrogate or a control character is reported with
                # the others, escaped: pydantic itself would refuse it as the whole "(request)".
                api = printable(api)
            if api in renamed:
                problems.append(FieldProblem(api, "duplicate_field", "is given twice (under two spellings)"))
            renamed[api] = value
        if problems:
            raise_problems(problems)
        return renamed

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> WireModel:
        problems = self.rule_problems(reference_time(info))
        if problems:
            raise_problems(problems)
        return self

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        """Rules spanning several fields; overridden by models that have some."""
        return []

    def wire_params(self) -> dict[str, str]:
        """Every set parameter as ``{API name: wire string}``."""
        dumped = self.model_dump(by_alias=True, exclude_none=True)
        return {name: to_wire(value) for name, value in dumped.items()}


class ApiRequest(WireModel):
    """One CloudPush 2016-08-01 action's request parameters."""

    action: ClassVar[str]

    #: Filled from the client's app key by ``parse_request`` when absent.
    app_key: AppKey | None = None

    def to_query(self) -> dict[str, str]:
        """Parameters sent in the URL query string (all of them, except MassPush tasks)."""
        return self.wire_params()

    def to_form(self) -> dict[str, str]:
        """Parameters sent in the form body (only MassPush has any)."""
        return {}
