"""Rules of a push that span several parameters (the SDK's field docs and the limits
page, https://help.aliyun.com/document_detail/92832.html), as :class:`FieldProblem` lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pushfn.api_time import format_api_time
from pushfn.errors import FieldProblem
from pushfn.push.models._tag_expression import check_tag_target
from pushfn.push.models._wire import utf8_len

if TYPE_CHECKING:
    from pushfn.push.models._push_fields import PushFields

CONTENT_LIMIT_BYTES = 1800
MAX_LIST_TARGETS = 1000
#: Per-item byte limit of list targets (None: no documented limit).
LIST_TARGET_ITEM_BYTES: dict[str, int | None] = {"DEVICE": None, "ACCOUNT": 64, "ALIAS": 128}
MAX_SCHEDULE_AHEAD = timedelta(days=7)
#: A PushTime slightly in the past is the caller's clock or a slow hop, not a mistake.
PAST_GRACE = timedelta(seconds=60)
MIN_EXPIRE_AFTER = timedelta(seconds=3)
MAX_EXPIRE_AFTER = timedelta(hours=72)

#: Parameters counted together against the 1,800-byte content limit, per (platform, PushType).
CONTENT_PARTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ANDROID", "MESSAGE"): ("Title", "Body"),
    ("ANDROID", "NOTICE"): (
        "Title",
        "Body",
        "AndroidMusic",
        "AndroidOpenType",
        "AndroidActivity",
        "AndroidOpenUrl",
        "AndroidExtParameters",
    ),
    ("iOS", "MESSAGE"): ("Title", "Body"),
    ("iOS", "NOTICE"): ("Body", "iOSMusic", "iOSBadge", "iOSExtParameters"),
    ("HARMONY", "MESSAGE"): ("Title", "Body"),
    ("HARMONY", "NOTICE"): ("Title", "Body"),
}
_PLATFORM_LABEL = {"ANDROID": "Android", "iOS": "iOS", "HARMONY": "HarmonyOS"}


def push_problems(push: PushFields, now: datetime) -> list[FieldProblem]:
    """Every broken cross-parameter rule of one push (a ``Push`` or a ``MassPush`` task), by API field name.

    Title/Body presence, the 1,800-byte content limit per platform, ``TargetValue`` for its ``Target``,
    ``PushTime`` (at most 7 days ahead of ``now``, not in the past) and ``ExpireTime`` (more than 3 s and
    at most 72 h after ``PushTime``, else after ``now``), parameters required together and mutually
    exclusive ones. ``now`` is an aware datetime.
    """
    problems: list[FieldProblem] = []
    for rule in _RULES:
        problems.extend(rule(push, now))
    return problems


def _title_and_body(push: PushFields, now: datetime) -> list[FieldProblem]:
    problems = []
    if push.title is None and push.device_type != "iOS":
        problems.append(FieldProblem("Title", "required", f"is required when DeviceType is {push.device_type}"))
    live_activity = push.device_type == "iOS" and push.ios_live_activity_event is not None
    if push.body is None and not live_activity:
        problems.append(FieldProblem("Body", "required", "is required (only an iOS Live Activity push may omit it)"))
    return problems


def _content_size(push: PushFields, now: datetime) -> list[FieldProblem]:
    platforms = ("ANDROID", "iOS", "HARMONY") if push.device_type == "ALL" else (push.device_type,)
    wire = push.wire_params()
    problems = []
    for platform in platforms:
        parts = CONTENT_PARTS[(platform, push.push_type)]
        total = sum(utf8_len(wire.get(name, "")) for name in parts)
        if total > CONTENT_LIMIT_BYTES:
            label = f"{_PLATFORM_LABEL[platform]} {push.push_type.lower()}"
            problems.append(
                FieldProblem(
                    "Body",
                    "max_bytes",
                    f"{label} content ({'+'.join(parts)}) is {total} UTF-8 bytes; the limit is "
                    f"{CONTENT_LIMIT_BYTES} bytes (a CJK character counts 3)",
                )
            )
    return problems


def _target_value(push: PushFields, now: datetime) -> list[FieldProblem]:
    value = push.target_value
    target = push.target

    def problem(rule: str, message: str) -> list[FieldProblem]:
        return [FieldProblem("TargetValue", rule, message)]

    if target in LIST_TARGET_ITEM_BYTES:
        items = value.split(",")
        for position, item in enumerate(items, 1):
            if not item:
                return problem("format", f"item {position} is empty; separate values with single commas")
        if len(items) > MAX_LIST_TARGETS:
            return problem("max_items", f"Target={target} takes at most {MAX_LIST_TARGETS} values; got {len(items)}")
        limit = LIST_TARGET_ITEM_BYTES[target]
        for position, item in enumerate(items, 1):
            if limit is not None and utf8_len(item) > limit:
                # The value itself is not echoed: accounts and aliases can identify people.
                return problem(
                    "max_bytes",
                    f"item {position} is {utf8_len(item)} UTF-8 bytes; each {target.lower()} may be at most {limit}",
                )
        return []
    if target in ("ALL", "TBD"):
        return [] if value == target else problem("format", f"must be {target!r} when Target={target}")
    return [FieldProblem("TargetValue", rule, message) for rule, message in check_tag_target(value)]


def _schedule(push: PushFields, now: datetime) -> list[FieldProblem]:
    problems = []
    if push.push_time is not None:
        if push.target == "TBD":
            problems.append(FieldProblem("PushTime", "not_allowed", "cannot be used with Target=TBD (continuous push)"))
        if push.push_time > now + MAX_SCHEDULE_AHEAD:
            problems.append(
                FieldProblem(
                    "PushTime",
                    "range",
                    f"must be at most 7 days ahead (latest {format_api_time(now + MAX_SCHEDULE_AHEAD)})",
                )
            )
        elif push.push_time < now - PAST_GRACE:
            problems.append(FieldProblem("PushTime", "range", f"is in the past (now is {format_api_time(now)})"))
    if push.expire_time is not None:
        start, label = (push.push_time, "PushTime") if push.push_time is not None else (now, "now")
        if push.expire_time <= start + MIN_EXPIRE_AFTER:
            problems.append(
                FieldProblem(
                    "ExpireTime", "range", f"must be more than 3 seconds after {label} ({format_api_time(start)})"
                )
            )
        elif push.expire_time > start + MAX_EXPIRE_AFTER:
            problems.append(
                FieldProblem(
                    "ExpireTime",
                    "range",
                    f"must be at most 72 hours after {label} "
                    f"({format_api_time(start + MAX_EXPIRE_AFTER)} at the latest)",
                )
            )
    return problems


def _required_with(push: PushFields, now: datetime) -> list[FieldProblem]:
    popup = push.android_popup_activity is not None
    starting = push.ios_live_activity_event == "start"
    dependencies = [
        # (needed parameter, its value, whether it is needed, why)
        ("AndroidActivity", push.android_activity, push.android_open_type == "ACTIVITY", "AndroidOpenType=ACTIVITY"),
        ("AndroidOpenUrl", push.android_open_url, push.android_open_type == "URL", "AndroidOpenType=URL"),
        ("AndroidPopupTitle", push.android_popup_title, popup, "AndroidPopupActivity is set"),
        ("AndroidPopupBody", push.android_popup_body, popup, "AndroidPopupActivity is set"),
        (
            "AndroidMessageOppoCategory",
            push.android_message_oppo_category,
            push.android_message_oppo_notify_level is not None,
            "AndroidMessageOppoNotifyLevel is set",
        ),
        (
            "HarmonyInboxContent",
            push.harmony_inbox_content,
            push.harmony_render_style == "MULTI_LINE",
            "HarmonyRenderStyle=MULTI_LINE",
        ),
        (
            "HarmonyAction",
            push.harmony_action or push.harmony_uri,
            push.harmony_action_type == "APP_CUSTOM_PAGE",
            "HarmonyActionType=APP_CUSTOM_PAGE (give HarmonyAction or HarmonyUri)",
        ),
        ("iOSLiveActivityAttributes", push.ios_live_activity_attributes, starting, "iOSLiveActivityEvent=start"),
        (
            "iOSLiveActivityAttributesType",
            push.ios_live_activity_attributes_type,
            starting,
            "iOSLiveActivityEvent=start",
        ),
    ]
    return [
        FieldProblem(field, "required_with", f"is required when {why}")
        for field, value, needed, why in dependencies
        if needed and value is None
    ]


def _exclusive(push: PushFields, now: datetime) -> list[FieldProblem]:
    if push.ios_badge is not None and push.ios_badge_auto_increment:
        return [FieldProblem("iOSBadge", "mutually_exclusive", "must be empty when iOSBadgeAutoIncrement=true")]
    return []


_RULES: tuple[Callable[[PushFields, datetime], list[FieldProblem]], ...] = (
    _title_and_body,
    _content_size,
    _target_value,
    _schedule,
    _required_with,
    _exclusive,
)
