"""Bodies and answers of the HTTP routes that are not CloudPush requests themselves.

``Push`` and ``MassPush`` bodies are the request models of :mod:`pushfn.push.models`; these small
models cover the rest (templates, device association) and document the answers in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pushfn.http.identifiers import body_name_validator, check_alias, check_tag
from pushfn.push.models.rules import text_problem

# One name each (pushfn.http.identifiers): the comma pattern stays for the API description; the
# validator adds the byte limit and refuses control characters.
AliasName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^,]+$"),
    AfterValidator(body_name_validator(check_alias)),
]
TagName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^,]+$"),
    AfterValidator(body_name_validator(check_tag)),
]
MAX_PLACEHOLDER_CHARS = 4096


def _one_placeholder_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error naming the parameter: the union reported one per member, each at a path of pydantic's
    own (``params.order.constrained-str``, ``params.order.int``…), none of them the caller's field."""
    if isinstance(value, str) and len(value) > MAX_PLACEHOLDER_CHARS:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": MAX_PLACEHOLDER_CHARS},
        )
    if isinstance(value, str) and (broken := text_problem(value)) is not None:
        # Named where the caller put it: once rendered, a NUL in params.order was reported against Title
        # (or whichever field the slot sits in), a field the caller never sent.
        raise PydanticCustomError(broken[0], "{message}", {"message": broken[1]})
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError("type", "must be a string, a number or a boolean") from None


PlaceholderValue = Annotated[
    Annotated[str, StringConstraints(max_length=MAX_PLACEHOLDER_CHARS)] | int | float | bool,
    WrapValidator(_one_placeholder_error),
]


class TemplatePush(BaseModel):
    """Render a configured template; every other key (``target``, ``TargetValue``…) overrides its params."""

    model_config = ConfigDict(extra="allow", title="TemplatePush")

    template: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    params: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], PlaceholderValue] = Field(
        default_factory=dict
    )


class AliasesBody(BaseModel):
    """1-10 alias names, each 1-128 UTF-8 bytes without a comma or control character."""

    model_config = ConfigDict(extra="forbid", title="Aliases")

    aliases: Annotated[list[AliasName], Field(min_length=1, max_length=10)]


class UnbindAliasesBody(BaseModel):
    """Either some ``aliases`` or ``all: true``."""

    model_config = ConfigDict(extra="forbid", title="UnbindAliases")

    aliases: Annotated[list[AliasName], Field(min_length=1, max_length=10)] | None = None
    #: Only JSON ``true`` unbinds every alias: pydantic's lax bool took ``"yes"``, ``1`` or ``"on"``.
    all: StrictBool = False

    @model_validator(mode="after")
    def _one_of(self) -> UnbindAliasesBody:
        if self.all == (self.aliases is not None):
            raise ValueError("give either 'aliases' or 'all': true, not both or neither")
        return self


class TagsBody(BaseModel):
    """1-10 tag names, each 1-128 characters without a comma or control character."""

    model_config = ConfigDict(extra="forbid", title="Tags")

    tags: Annotated[list[TagName], Field(min_length=1, max_length=10)]


# --- answers -------------------------------------------------------------------------------------


class Accepted(BaseModel):
    """A push CloudPush accepted: its MessageId and the RequestId of the call."""

    model_config = ConfigDict(title="Accepted")

    messageId: str
    requestId: str


class MassAccepted(BaseModel):
    """A MassPush CloudPush accepted: the MessageIds it returned, and the RequestId of the call."""

    model_config = ConfigDict(title="MassAccepted")

    messageIds: list[str]
    requestId: str


class Done(BaseModel):
    """A device or tag change CloudPush carried out: the RequestId of the call."""

    model_config = ConfigDict(title="Done")

    requestId: str


class AliasList(BaseModel):
    """The aliases bound to a device (QueryAliases) and the RequestId of the call."""

    model_config = ConfigDict(title="AliasList")

    aliases: list[str]
    requestId: str


class TagList(BaseModel):
    """Tag names (QueryTags for a device, ListTags for the app) and the RequestId of the call."""

    model_config = ConfigDict(title="TagList")

    tags: list[str]
    requestId: str


class Health(BaseModel):
    """Liveness: status "ok" and the pushfn version; CloudPush is not contacted."""

    model_config = ConfigDict(title="Health")

    status: str
    version: str


class FieldError(BaseModel):
    """One failing field: its name or dotted path (PushTask.1.Title), the rule it broke, and a message."""

    model_config = ConfigDict(title="FieldError")

    field: str
    rule: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with ``errors`` naming each failing field and rule."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    errorsOmitted: int | None = Field(default=None, description="Field errors beyond the 100 listed in errors")
    code: str | None = Field(default=None, description="CloudPush error Code (502/503 from the service)")
    requestId: str | None = Field(default=None, description="CloudPush RequestId of the refused call")
