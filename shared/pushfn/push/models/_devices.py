"""Requests about devices, aliases, tags, continuous pushes and statistics (request models of
``alibabacloud-push20160801`` 2.1.8; account/alias/tag limits from https://help.aliyun.com/document_detail/92832.html).

List-valued parameters take a list or a comma-separated string and are sent comma-joined.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, ClassVar, Literal

from pushfn.errors import FieldProblem
from pushfn.push.models._base import ApiRequest
from pushfn.push.models._rules import (
    between,
    each_max_bytes,
    each_max_chars,
    max_bytes,
    max_items,
)
from pushfn.push.models._types import (
    BindKeyType,
    Bool,
    CommaList,
    Int,
    KeyType,
    ListTarget,
    NonEmptyStr,
    Target,
    TargetValue,
    Text,
    UtcDateTime,
)

MessageId = Annotated[Int, between(1, 2**63 - 1)]
Account = Annotated[NonEmptyStr, max_bytes(64)]
Alias = Annotated[NonEmptyStr, max_bytes(128)]
AliasNames = Annotated[CommaList, max_items(10, "aliases"), each_max_bytes(128)]
TagNames = Annotated[CommaList, max_items(10, "tags"), each_max_chars(128)]


class CancelPush(ApiRequest):
    """Cancel a scheduled push that has not been sent yet (``MessageId``: the positive int64 ``Push`` returned)."""

    action: ClassVar[str] = "CancelPush"
    message_id: MessageId


class QueryPushStatByMsg(ApiRequest):
    """Delivery statistics of one push (``MessageId``: the positive int64 ``Push`` returned)."""

    action: ClassVar[str] = "QueryPushStatByMsg"
    message_id: MessageId


class CheckDevice(ApiRequest):
    """Whether one device id is known to the app (``DeviceId``)."""

    action: ClassVar[str] = "CheckDevice"
    device_id: NonEmptyStr


class CheckDevices(ApiRequest):
    """Whether each of up to 100 device ids is known to the app (``DeviceIds``: a list or comma string)."""

    action: ClassVar[str] = "CheckDevices"
    device_ids: Annotated[CommaList, max_items(100, "device ids")]


class QueryDeviceInfo(ApiRequest):
    """One device's details: platform, account, aliases, tags, online state (``DeviceId``)."""

    action: ClassVar[str] = "QueryDeviceInfo"
    device_id: NonEmptyStr


class QueryDevicesByAccount(ApiRequest):
    """The devices bound to one account (``Account``: at most 64 UTF-8 bytes)."""

    action: ClassVar[str] = "QueryDevicesByAccount"
    account: Account


class BindAlias(ApiRequest):
    """Bind up to 10 aliases (``AliasName``, each at most 128 UTF-8 bytes) to one device."""

    action: ClassVar[str] = "BindAlias"
    device_id: NonEmptyStr
    alias_name: AliasNames


class UnbindAlias(ApiRequest):
    """Unbind aliases from one device: the ``AliasName`` given (up to 10), or all with ``UnbindAll=true``."""

    action: ClassVar[str] = "UnbindAlias"
    device_id: NonEmptyStr
    alias_name: AliasNames | None = None
    unbind_all: Bool | None = None

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        if self.alias_name is None and not self.unbind_all:
            return [FieldProblem("AliasName", "required", "is required unless UnbindAll=true")]
        return []


class QueryAliases(ApiRequest):
    """The aliases bound to one device (``DeviceId``)."""

    action: ClassVar[str] = "QueryAliases"
    device_id: NonEmptyStr


class QueryDevicesByAlias(ApiRequest):
    """The devices bound to one alias (``Alias``: at most 128 UTF-8 bytes)."""

    action: ClassVar[str] = "QueryDevicesByAlias"
    alias: Alias


class BindTag(ApiRequest):
    """Add up to 10 tags (``TagName``, each at most 128 characters) to up to 1000 devices (``ClientKey``;
    ``KeyType`` must be ``DEVICE``)."""

    action: ClassVar[str] = "BindTag"
    client_key: Annotated[CommaList, max_items(1000, "client keys")]
    key_type: BindKeyType
    tag_name: TagNames


class UnbindTag(ApiRequest):
    """Remove up to 10 tags (``TagName``) from up to 1000 devices (``ClientKey``; ``KeyType`` ``DEVICE``)."""

    action: ClassVar[str] = "UnbindTag"
    client_key: Annotated[CommaList, max_items(1000, "client keys")]
    key_type: BindKeyType
    tag_name: TagNames


class QueryTags(ApiRequest):
    """The tags of one ``ClientKey`` (a device, account or alias, as ``KeyType`` says)."""

    action: ClassVar[str] = "QueryTags"
    client_key: NonEmptyStr  # one device, account or alias
    key_type: KeyType


class ListTags(ApiRequest):
    """Every tag of the app (no parameter but ``AppKey``)."""

    action: ClassVar[str] = "ListTags"


class RemoveTag(ApiRequest):
    """Delete one tag from the app altogether (``TagName``: exactly one name)."""

    action: ClassVar[str] = "RemoveTag"
    tag_name: Annotated[TagNames, max_items(1, "tag (remove one tag per call)")]


class BindPhone(ApiRequest):
    """Bind a phone number to one device, for the SMS fallback of ``Push`` (``Sms*`` parameters)."""

    action: ClassVar[str] = "BindPhone"
    device_id: NonEmptyStr
    phone_number: NonEmptyStr


class UnbindPhone(ApiRequest):
    """Unbind the phone number from one device (``DeviceId``)."""

    action: ClassVar[str] = "UnbindPhone"
    device_id: NonEmptyStr


class CheckCertificate(ApiRequest):
    """The app's certificate status: ``Android``/``IOS`` flags, iOS development and production cert info."""

    action: ClassVar[str] = "CheckCertificate"


class ContinuouslyPush(ApiRequest):
    """Send a ``Target=TBD`` message to a batch of targets (MessageId is a string here)."""

    action: ClassVar[str] = "ContinuouslyPush"
    message_id: NonEmptyStr
    target: ListTarget
    target_value: TargetValue

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        items = self.target_value.split(",")
        if any(not item for item in items):
            return [FieldProblem("TargetValue", "format", "has an empty item; separate values with single commas")]
        if len(items) > 1000:
            return [FieldProblem("TargetValue", "max_items", f"takes at most 1000 values; got {len(items)}")]
        return []


class CompleteContinuouslyPush(ApiRequest):
    """End a continuous push (``Target=TBD``); ``MessageId`` is a string here, as in ``ContinuouslyPush``."""

    action: ClassVar[str] = "CompleteContinuouslyPush"
    message_id: NonEmptyStr


class QueryDeviceStat(ApiRequest):
    """Device counts between ``StartTime`` and ``EndTime`` (``QueryType`` ``NEW`` or ``TOTAL``)."""

    action: ClassVar[str] = "QueryDeviceStat"
    start_time: UtcDateTime
    end_time: UtcDateTime
    query_type: Literal["NEW", "TOTAL"]
    device_type: Literal["iOS", "ANDROID", "ALL"] | None = None

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return _period_problems(self.start_time, self.end_time)


def _period_problems(start: datetime, end: datetime, max_days: int | None = None) -> list[FieldProblem]:
    if end < start:
        return [FieldProblem("EndTime", "range", "must not be before StartTime")]
    if max_days is not None and end - start > timedelta(days=max_days):
        return [FieldProblem("EndTime", "range", f"must be at most {max_days} days after StartTime")]
    return []


class QueryPushRecords(ApiRequest):
    """The app's push records from ``StartTime`` to ``EndTime``, paged (``Page`` 1-10,000, ``PageSize`` 1-100)."""

    action: ClassVar[str] = "QueryPushRecords"
    start_time: UtcDateTime
    end_time: UtcDateTime
    keyword: Text | None = None
    next_token: Text | None = None  # deprecated by the service; use Page
    page: Annotated[Int, between(1, 10_000)] | None = None
    page_size: Annotated[Int, between(1, 100)] | None = None
    push_type: Literal["MESSAGE", "NOTICE", "LIVE_ACTIVITY"] | None = None
    source: Literal["API", "CONSOLE", "OpenAPIExplorer"] | None = None
    target: Target | None = None

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return _period_problems(self.start_time, self.end_time)


class QueryPushStatByApp(ApiRequest):
    """Daily push statistics of the app over at most 31 days (``Granularity=DAY``)."""

    action: ClassVar[str] = "QueryPushStatByApp"
    start_time: UtcDateTime
    end_time: UtcDateTime
    granularity: Literal["DAY"]

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return _period_problems(self.start_time, self.end_time, max_days=31)


class QueryUniqueDeviceStat(ApiRequest):
    """Unique-device counts between ``StartTime`` and ``EndTime`` per ``DAY`` or ``MONTH``."""

    action: ClassVar[str] = "QueryUniqueDeviceStat"
    start_time: UtcDateTime
    end_time: UtcDateTime
    granularity: Literal["DAY", "MONTH"]

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return _period_problems(self.start_time, self.end_time)


DEVICE_REQUESTS: tuple[type[ApiRequest], ...] = (
    CancelPush,
    QueryPushStatByMsg,
    CheckDevice,
    CheckDevices,
    QueryDeviceInfo,
    QueryDevicesByAccount,
    BindAlias,
    UnbindAlias,
    QueryAliases,
    QueryDevicesByAlias,
    BindTag,
    UnbindTag,
    QueryTags,
    ListTags,
    RemoveTag,
    BindPhone,
    UnbindPhone,
    CheckCertificate,
    ContinuouslyPush,
    CompleteContinuouslyPush,
    QueryDeviceStat,
    QueryPushRecords,
    QueryPushStatByApp,
    QueryUniqueDeviceStat,
)
