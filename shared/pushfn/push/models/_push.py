"""``Push`` and ``MassPush`` (batch of up to 100 ``PushTask``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pushfn.errors import FieldProblem
from pushfn.push.models._base import ApiRequest
from pushfn.push.models._push_fields import PushFields
from pushfn.push.models._rules import between, max_items, min_items, one_of
from pushfn.push.models._types import IdempotentToken, Int, ListTarget, Text

MAX_SMS_DELAY_SECS = 3 * 24 * 3600


class Push(PushFields, ApiRequest):
    """Advanced push: one content to many targets (the 121 parameters of the SDK's ``PushRequest``)."""

    action: ClassVar[str] = "Push"

    idempotent_token: IdempotentToken | None = None
    # --- SMS fallback (Push only) ----------------------------------------------------------------
    sms_delay_secs: Annotated[Int, between(0, MAX_SMS_DELAY_SECS)] | None = None
    sms_params: Text | None = None  # "key1=value1&key2=value2"
    sms_send_policy: Annotated[Int, one_of(0, 1)] | None = None  # 0 not received, 1 not opened
    sms_sign_name: Text | None = None
    sms_template_name: Text | None = None

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return super().rule_problems(now) + self._sms_problems()

    def _sms_problems(self) -> list[FieldProblem]:
        sms = (self.sms_delay_secs, self.sms_params, self.sms_send_policy, self.sms_sign_name, self.sms_template_name)
        if all(value is None for value in sms):
            return []
        needed = {
            "SmsTemplateName": self.sms_template_name,
            "SmsSignName": self.sms_sign_name,
            "SmsDelaySecs": self.sms_delay_secs,
        }
        return [
            FieldProblem(name, "required_with", "is required when SMS fallback (any Sms* parameter) is used")
            for name, value in needed.items()
            if value is None
        ]


class PushTask(PushFields):
    """One task of a ``MassPush``: Push's parameters minus AppKey, IdempotentToken and Sms*."""

    target: ListTarget


class MassPush(ApiRequest):
    """Up to 100 independent pushes in one call; tasks travel in the form body."""

    action: ClassVar[str] = "MassPush"
    input_synonyms: ClassVar[dict[str, str]] = {"tasks": "PushTask"}

    idempotent_token: IdempotentToken | None = None
    push_task: Annotated[list[PushTask], min_items(1, "tasks"), max_items(100, "tasks")]

    def to_query(self) -> dict[str, str]:
        return {name: value for name, value in self.wire_params().items() if name != "PushTask"}

    def to_form(self) -> dict[str, str]:
        return {
            f"PushTask.{number}.{name}": value
            for number, task in enumerate(self.push_task, 1)
            for name, value in task.wire_params().items()
        }
