"""The documented parameter rules: which names exist, typed reads, tag expressions, Push and MassPush limits.

Deliberately NOT built on ``pushfn.push.models``: the emulator is the second opinion that catches a
client which lets a bad request through. Names come from ``alibabacloud-push20160801`` 2.1.8; rules
and numbers from the Mobile Push limits page (https://help.aliyun.com/document_detail/92832.html)
and the tag-format page (https://help.aliyun.com/document_detail/48055.html). Every value travels as
a string; :class:`Params` turns it into booleans, integers, lists and times and names the parameter in
the error the way CloudPush does (``MissingTitle``, ``InvalidiOSBadge.Format``); for a MassPush task
the message names the full path (``PushTask.3.Title``). A parameter outside the name lists is
ignored, as CloudPush ignores it, but the push record names it under ``ignored_params``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from pushfn.api_time import parse_api_time
from pushfn.emulator.errors import ApiError, invalid
from pushfn.json_input import JsonInputError, decode_json

# === parameter names ============================================================================

#: Common (signature and routing) parameters: never business data, stripped from push records.
COMMON_PARAMS = frozenset(
    {
        "Action", "Version", "Format", "RegionId", "AccessKeyId", "Signature", "SignatureMethod",
        "SignatureNonce", "SignatureVersion", "SignatureType", "Timestamp", "SecurityToken",
    }
)  # fmt: skip

PUSH_FIELDS = frozenset(
    {
    "AndroidActivity", "AndroidBadgeAddNum", "AndroidBadgeClass", "AndroidBadgeSetNum", "AndroidBigBody",
    "AndroidBigPictureUrl", "AndroidBigTitle", "AndroidExtParameters", "AndroidHonorTargetUserType",
    "AndroidHuaweiBusinessType", "AndroidHuaweiLiveNotificationPayload", "AndroidHuaweiReceiptId",
    "AndroidHuaweiTargetUserType", "AndroidImageUrl", "AndroidInboxBody", "AndroidMeizuNoticeMsgType",
    "AndroidMessageHuaweiCategory", "AndroidMessageHuaweiUrgency", "AndroidMessageOppoCategory",
    "AndroidMessageOppoNotifyLevel", "AndroidMessageVivoCategory", "AndroidMusic",
    "AndroidNotificationBarPriority", "AndroidNotificationBarType", "AndroidNotificationChannel",
    "AndroidNotificationGroup", "AndroidNotificationHonorChannel", "AndroidNotificationHuaweiChannel",
    "AndroidNotificationNotifyId", "AndroidNotificationThreadId", "AndroidNotificationVivoChannel",
    "AndroidNotificationXiaomiChannel", "AndroidNotifyType", "AndroidOpenType", "AndroidOpenUrl",
    "AndroidOppoDeleteIntentData", "AndroidOppoIntelligentIntent", "AndroidOppoIntentEnv",
    "AndroidOppoPrivateContentParameters", "AndroidOppoPrivateMsgTemplateId",
    "AndroidOppoPrivateTitleParameters", "AndroidPopupActivity", "AndroidPopupBody", "AndroidPopupTitle",
    "AndroidRemind", "AndroidRenderStyle", "AndroidTargetUserType", "AndroidVivoLiveMessage",
    "AndroidVivoPushMode", "AndroidVivoReceiptId", "AndroidXiaoMiActivity", "AndroidXiaoMiNotifyBody",
    "AndroidXiaoMiNotifyTitle", "AndroidXiaomiBigPictureUrl", "AndroidXiaomiFocusParam",
    "AndroidXiaomiFocusPics", "AndroidXiaomiImageUrl", "AndroidXiaomiTemplateId", "AndroidXiaomiTemplateParams",
    "AppKey", "Body", "DeviceType", "ExpireTime", "HarmonyAction", "HarmonyActionType", "HarmonyBadgeAddNum",
    "HarmonyBadgeSetNum", "HarmonyCategory", "HarmonyExtParameters", "HarmonyExtensionExtraData",
    "HarmonyExtensionPush", "HarmonyImageUrl", "HarmonyInboxContent", "HarmonyLiveViewPayload",
    "HarmonyNotificationSlotType", "HarmonyNotifyId", "HarmonyReceiptId", "HarmonyRemind", "HarmonyRemindBody",
    "HarmonyRemindTitle", "HarmonyRenderStyle", "HarmonyTestMessage", "HarmonyUri", "IdempotentToken", "JobKey",
    "PushTime", "PushType", "SendChannels", "SendSpeed", "SmsDelaySecs", "SmsParams", "SmsSendPolicy",
    "SmsSignName", "SmsTemplateName", "StoreOffline", "Target", "TargetValue", "Title", "Trim", "iOSApnsEnv",
    "iOSBadge", "iOSBadgeAutoIncrement", "iOSExtParameters", "iOSInterruptionLevel",
    "iOSLiveActivityAttributes", "iOSLiveActivityAttributesType", "iOSLiveActivityContentState",
    "iOSLiveActivityDismissalDate", "iOSLiveActivityEvent", "iOSLiveActivityId", "iOSLiveActivityStaleDate",
    "iOSMusic", "iOSMutableContent", "iOSNotificationCategory", "iOSNotificationCollapseId",
    "iOSNotificationThreadId", "iOSRelevanceScore", "iOSRemind", "iOSRemindBody", "iOSSilentNotification",
    "iOSSubtitle"
    }
)  # fmt: skip

#: A MassPush task: the Push fields minus AppKey, IdempotentToken and the SMS fallback
#: (``alibabacloud-push20160801`` 2.1.8, ``models/_mass_push_request.py``).
NOT_IN_TASK = frozenset(
    {"AppKey", "IdempotentToken", "SmsDelaySecs", "SmsParams", "SmsSendPolicy", "SmsSignName", "SmsTemplateName"}
)
TASK_FIELDS = PUSH_FIELDS - NOT_IN_TASK


# === typed reads ================================================================================


#: An integer parameter as the service's Java side reads one (Long.parseLong): an optional sign and
#: ASCII digits. int() also took " 5", "1_000" and full-width or Arabic-Indic digits.
_INTEGER = re.compile(r"[+-]?[0-9]{1,4000}")
#: A decimal number in ASCII (a sign, digits with one optional point, an optional exponent).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,400}(?:\.[0-9]{0,400})?|\.[0-9]{1,400})(?:[eE][+-]?[0-9]{1,4})?")


def parse_integer(value: str) -> int | None:
    """``value`` as an int when it is an optional sign and 1 to 4,000 ASCII digits, else ``None``."""
    return int(value) if _INTEGER.fullmatch(value) else None


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
        number = parse_integer(value)
        if number is None:
            raise invalid(name, "Format", f"{self.path(name)} must be an integer, got {value[:80]!r}.")
        if (low is not None and number < low) or (high is not None and number > high):
            raise invalid(name, "Range", f"{self.path(name)} must be within [{low}, {high}], got {number}.")
        return number

    def number(self, name: str, low: float, high: float) -> float | None:
        """A float within ``[low, high]``; ``None`` when absent or empty.

        Raises :class:`ApiError` ``Invalid<name>.Format`` (not ASCII decimal: NaN, inf, full-width digits)
        or ``Invalid<name>.Range``.
        """
        value = self.values.get(name)
        if value is None or value == "":
            return None
        # ASCII as the integers are: float() also read " 0.5", "0_5" and full-width "０.５".
        if not _DECIMAL.fullmatch(value):
            raise invalid(name, "Format", f"{self.path(name)} must be a number, got {value[:80]!r}.")
        number = float(value)
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


# === Target=TAG expressions =====================================================================

MAX_TAG_CHARS = 128
MAX_OPERANDS = 10
MAX_NESTING = 2
MAX_TAGS = 50


@dataclass(frozen=True)
class TagNode:
    """One node of a tag expression: ``op`` ``tag`` with a ``name``, or ``and`` / ``or`` / ``not`` with ``operands``."""

    op: str  # "tag" | "and" | "or" | "not"
    name: str = ""
    operands: tuple[TagNode, ...] = ()


def _fail(path: str, why: str) -> Exception:
    return invalid("TargetValue", "Format", f"{path} is not a valid tag expression: {why}.")


def check_tag_name(name: object, path: str) -> str:
    """``name`` if it is a non-blank string of at most 128 characters.

    Raises :class:`ApiError` ``InvalidTargetValue.Format`` or ``InvalidTargetValue.BytesExceed``, naming ``path``.
    """
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "a tag name must be a non-empty string")
    if len(name) > MAX_TAG_CHARS:
        raise invalid("TargetValue", "BytesExceed", f"{path}: tag names are limited to {MAX_TAG_CHARS} characters.")
    return name


def parse_tag_target(value: str, path: str = "TargetValue") -> TagNode:
    """Parse and validate; a value that is not a JSON object is one tag name."""
    if not value.lstrip().startswith("{"):
        return TagNode("tag", check_tag_name(value, path))
    try:
        # The one bounded decoder (pushfn.json_input): json.loads raised RecursionError, a 500, for
        # an expression nested thousands deep.
        data = decode_json(value)
    except JsonInputError as exc:
        raise _fail(path, f"malformed JSON ({exc.detail})") from None
    if isinstance(data, dict) and set(data) == {"not"}:
        raise _fail(path, "'not' cannot stand alone")
    counter = [0]
    return _parse_node(data, path, depth=0, counter=counter)


def _parse_node(data: object, path: str, depth: int, counter: list[int]) -> TagNode:
    if not isinstance(data, dict) or len(data) != 1:
        raise _fail(path, "each node must be an object with exactly one of and/or/not/tag")
    ((op, arg),) = data.items()
    if op == "tag":
        counter[0] += 1
        if counter[0] > MAX_TAGS:
            raise _fail(path, f"at most {MAX_TAGS} tags")
        return TagNode("tag", check_tag_name(arg, path))
    if op == "not":
        return TagNode("not", operands=(_parse_node(arg, path, depth, counter),))
    if op in ("and", "or"):
        if depth >= MAX_NESTING:
            raise _fail(path, f"and/or nest at most {MAX_NESTING} deep")
        if not isinstance(arg, list) or not 1 <= len(arg) <= MAX_OPERANDS:
            raise _fail(path, f"'{op}' takes an array of 1 to {MAX_OPERANDS} operands")
        return TagNode(op, operands=tuple(_parse_node(item, path, depth + 1, counter) for item in arg))
    raise _fail(path, f"unknown keyword {op!r}")


def evaluate(node: TagNode, members: Callable[[str], set[str]], universe: set[str]) -> set[str]:
    """Device ids matched by the expression; ``not`` is relative to ``universe``."""
    if node.op == "tag":
        return members(node.name) & universe
    if node.op == "not":
        return universe - evaluate(node.operands[0], members, universe)
    results = [evaluate(operand, members, universe) for operand in node.operands]
    if node.op == "and":
        return set.intersection(*results)
    return set.union(*results)


# === Push and MassPush limits ===================================================================

# --- the limit table ---------------------------------------------------------------------------
MAX_TITLE_BYTES = 200
MAX_CONTENT_BYTES = 1800
MAX_LIST_TARGETS = 1000
MAX_ACCOUNT_BYTES = 64
MAX_ALIAS_BYTES = 128
MAX_PUSH_AHEAD_SECONDS = 7 * 24 * 3600
MAX_EXPIRE_AFTER_SECONDS = 72 * 3600
MIN_EXPIRE_MARGIN_SECONDS = 3
MAX_MASS_PUSH_TASKS = 100
MAX_JOB_KEY_CHARS = 32
MAX_POPUP_TITLE_CHARS, MAX_POPUP_BODY_CHARS = 50, 200
MAX_BIG_TITLE_BYTES, MAX_BIG_BODY_BYTES = 200, 1000
MAX_ANDROID_INBOX_ITEMS, MAX_HARMONY_INBOX_ITEMS = 5, 3
MAX_SMS_DELAY_SECONDS = 3 * 24 * 3600

DEVICE_TYPES = ("iOS", "ANDROID", "HARMONY", "ALL")
PUSH_TYPES = ("NOTICE", "MESSAGE")
TARGETS = ("DEVICE", "ACCOUNT", "ALIAS", "TAG", "ALL", "TBD")
LIST_TARGETS = ("DEVICE", "ACCOUNT", "ALIAS")
SEND_CHANNELS = {"accs", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "gcm", "fcm", "apns", "harmony"}

BOOLEANS = (
    "StoreOffline", "Trim", "iOSBadgeAutoIncrement", "iOSMutableContent", "iOSRemind",
    "iOSSilentNotification", "AndroidRemind", "HarmonyRemind", "HarmonyTestMessage", "HarmonyExtensionPush",
)  # fmt: skip
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "iOSBadge": (0, None),
    "AndroidBadgeAddNum": (1, 99),
    "AndroidBadgeSetNum": (0, 99),
    "AndroidNotificationBarPriority": (-2, 2),
    "AndroidNotificationBarType": (1, 100),
    "AndroidRenderStyle": (0, 3),
    "AndroidNotificationNotifyId": (None, None),
    "HarmonyBadgeAddNum": (None, None),
    "HarmonyBadgeSetNum": (None, None),
    "iOSLiveActivityDismissalDate": (0, None),
    "iOSLiveActivityStaleDate": (0, None),
    "SendSpeed": (None, None),
    "SmsDelaySecs": (0, MAX_SMS_DELAY_SECONDS),
    "SmsSendPolicy": (0, 1),
}
ENUMS: dict[str, tuple[str, ...]] = {
    "iOSApnsEnv": ("DEV", "PRODUCT"),
    "iOSInterruptionLevel": ("passive", "active", "time-sensitive", "critical"),
    "iOSLiveActivityEvent": ("start", "update", "end"),
    "AndroidNotifyType": ("VIBRATE", "SOUND", "BOTH", "NONE"),
    "AndroidOpenType": ("APPLICATION", "ACTIVITY", "URL", "NONE"),
    "AndroidMessageHuaweiUrgency": ("HIGH", "NORMAL"),
    "AndroidMessageOppoNotifyLevel": ("1", "2", "16"),
    "HarmonyActionType": ("APP_HOME_PAGE", "APP_CUSTOM_PAGE"),
    "HarmonyRenderStyle": ("NORMAL", "MULTI_LINE"),
}
JSON_MAPS = (
    "AndroidExtParameters", "iOSExtParameters", "HarmonyExtParameters", "ExtParameters",
    "AndroidOppoPrivateContentParameters", "AndroidOppoPrivateTitleParameters",
)  # fmt: skip
# What counts toward the 1,800-byte budget of a notice, per platform (limits page, "content size").
NOTICE_CONTENT = {
    "ANDROID": ("Title", "Body", "AndroidMusic", "AndroidOpenType", "AndroidActivity", "AndroidOpenUrl",
                "AndroidExtParameters"),
    "iOS": ("Body", "iOSMusic", "iOSBadge", "iOSExtParameters"),
    "HARMONY": ("Title", "Body", "HarmonyAction", "HarmonyUri", "HarmonyImageUrl", "HarmonyInboxContent",
                "HarmonyExtParameters"),
}  # fmt: skip
MESSAGE_CONTENT = ("Title", "Body")


def _bytes(value: str | None) -> int:
    return len((value or "").encode("utf-8"))


@dataclass(frozen=True)
class CheckedPush:
    """A push that passed every rule, with what target resolution needs."""

    params: dict[str, str]
    device_type: str
    push_type: str
    target: str
    target_values: list[str]
    tag_expression: TagNode | None
    push_time: float | None


def check_push(p: Params, now: float, *, in_task: bool = False) -> CheckedPush:
    """Check one Push, or one MassPush task with ``in_task``, against every documented rule at ``now``.

    ``now``: epoch seconds, for ``PushTime`` (at most 7 days ahead) and ``ExpireTime`` (more than 3 s
    and at most 72 hours after the send time). The first rule broken raises :class:`ApiError`:
    ``Missing<Param>`` or ``Invalid<Param>.<Rule>`` (``Format``, ``Range``, ``BytesExceed``,
    ``LengthExceed``, ``CountExceed``, ``Conflict``, ``ExceedDays``); in a task the message names the
    ``PushTask.N.`` path.
    """
    device_type = p.enum("DeviceType", DEVICE_TYPES) or p.required("DeviceType")
    push_type = p.enum("PushType", PUSH_TYPES) or p.required("PushType")
    target = p.enum("Target", TARGETS) or p.required("Target")
    if in_task and target not in LIST_TARGETS:
        raise invalid("Target", "Format", f"{p.path('Target')}: a MassPush task targets only DEVICE, ACCOUNT or ALIAS.")
    values, expression = _check_target_value(p, target)
    _check_content(p, device_type, push_type)
    push_time = _check_times(p, target, now)
    if not p.values.keys().isdisjoint(FIELD_CHECKED):  # each of its rules passes when its names are absent
        _check_fields(p)
    return CheckedPush(p.values, device_type, push_type, target, values, expression, push_time)


def _check_target_value(p: Params, target: str) -> tuple[list[str], TagNode | None]:
    raw = p.required("TargetValue")
    if target in LIST_TARGETS:
        values = p.items("TargetValue")
        if not values:
            raise p_missing(p, "TargetValue")
        if len(values) > MAX_LIST_TARGETS:
            raise invalid(
                "TargetValue", "CountExceed",
                f"{p.path('TargetValue')} lists {len(values)} {target} values; the limit is {MAX_LIST_TARGETS}.",
            )  # fmt: skip
        byte_limit = {"ACCOUNT": MAX_ACCOUNT_BYTES, "ALIAS": MAX_ALIAS_BYTES}.get(target)
        if byte_limit and any(_bytes(v) > byte_limit for v in values):
            raise invalid("TargetValue", "BytesExceed", f"each {target} is limited to {byte_limit} bytes.")
        return values, None
    if target == "TAG":
        return [], parse_tag_target(raw, p.path("TargetValue"))
    if raw.upper() != target:  # ALL -> "ALL", TBD -> "TBD" (the docs show "all" in one place)
        raise invalid("TargetValue", "Format", f"{p.path('TargetValue')} must be {target} when Target={target}.")
    return [], None


def check_list_targets(p: Params, target: str) -> list[str]:
    """The values of ``TargetValue`` for a list ``target`` (DEVICE, ACCOUNT, ALIAS), checked as a Push's."""
    return _check_target_value(p, target)[0]


def p_missing(p: Params, name: str) -> ApiError:
    """``Missing<name>`` whose message gives the parameter's full path (``PushTask.3.TargetValue``)."""
    return ApiError(f"Missing{name}", f"{p.path(name)} is mandatory for this action.")


def _check_content(p: Params, device_type: str, push_type: str) -> None:
    # Title is required for Android and HarmonyOS, optional for iOS; ALL includes Android.
    if device_type != "iOS":
        p.required("Title")
    if not p.has("iOSLiveActivityEvent"):  # Live Activity pushes may omit the body
        p.required("Body")
    if _bytes(p.get("Title")) > MAX_TITLE_BYTES:
        raise invalid(
            "Title",
            "BytesExceed",
            f"{p.path('Title')} is {_bytes(p.get('Title'))} bytes; the limit is {MAX_TITLE_BYTES}.",
        )
    platforms = ("ANDROID", "iOS", "HARMONY") if device_type == "ALL" else (device_type,)
    for platform in platforms:
        fields = MESSAGE_CONTENT if push_type == "MESSAGE" else NOTICE_CONTENT[platform]
        size = _bytes("".join([p.values.get(f) or "" for f in fields]))  # one encode, not one per field
        if size > MAX_CONTENT_BYTES:
            raise invalid(
                "Body", "BytesExceed",
                f"{platform} {push_type.lower()} content ({' + '.join(fields)}) is {size} bytes;"
                f" the limit is {MAX_CONTENT_BYTES}.",
            )  # fmt: skip


def _check_times(p: Params, target: str, now: float) -> float | None:
    push_time = p.api_time("PushTime")
    if push_time is not None:
        if target == "TBD":
            raise invalid("PushTime", "Conflict", "PushTime is not allowed with Target=TBD.")
        if push_time - now > MAX_PUSH_AHEAD_SECONDS:
            raise invalid("PushTime", "ExceedDays", f"{p.path('PushTime')} is more than 7 days ahead.")
    expire_time = p.api_time("ExpireTime")
    if expire_time is not None:
        start = max(now, push_time or now)
        if expire_time <= start + MIN_EXPIRE_MARGIN_SECONDS:
            raise invalid(
                "ExpireTime", "Range", f"{p.path('ExpireTime')} must be more than 3 s after PushTime (or now)."
            )
        if expire_time - start > MAX_EXPIRE_AFTER_SECONDS:
            raise invalid("ExpireTime", "Range", f"{p.path('ExpireTime')} is more than 72 hours after the send time.")
    return push_time


#: Every name :func:`_check_fields` reads: a push naming none of them (most pushes) passes it untouched.
FIELD_CHECKED = frozenset(
    {
        *BOOLEANS, *INTEGER_RANGES, *ENUMS, "iOSRelevanceScore", *JSON_MAPS, "iOSBadge", "JobKey", "SendChannels",
        "AndroidMessageOppoNotifyLevel", "AndroidMessageOppoCategory", "AndroidPopupActivity", "AndroidPopupTitle",
        "AndroidPopupBody", "AndroidBigTitle", "AndroidBigBody", "AndroidInboxBody", "HarmonyRenderStyle",
        "HarmonyInboxContent",
    }
)  # fmt: skip


def _check_fields(p: Params) -> None:
    # Each check passes an absent name, and a push names few of these ~40 fields: testing presence
    # first keeps the order of the checks (the first rule broken wins) without a call per absent name.
    values = p.values
    for name in BOOLEANS:
        if name in values:
            p.boolean(name)
    for name, (low, high) in INTEGER_RANGES.items():
        if name in values:
            p.integer(name, low, high)
    for name, allowed in ENUMS.items():
        if name in values:
            p.enum(name, allowed)
    p.number("iOSRelevanceScore", 0.0, 1.0)
    for name in JSON_MAPS:
        if name in values and p.has(name) and not isinstance(_json(p.get(name)), dict):
            raise invalid(name, "Format", f"{p.path(name)} must be a JSON map string.")
    if p.boolean("iOSBadgeAutoIncrement") and p.has("iOSBadge"):
        raise invalid("iOSBadge", "Conflict", "iOSBadge must be empty when iOSBadgeAutoIncrement is true.")
    job_key = p.get("JobKey") or ""
    if job_key and (len(job_key) > MAX_JOB_KEY_CHARS or not job_key.replace("_", "").replace("-", "").isalnum()
                    or not job_key.isascii()):  # fmt: skip
        raise invalid("JobKey", "Format", f"{p.path('JobKey')}: letters, digits, _ and -, at most 32.")
    channels = p.items("SendChannels", required=False)
    if any(c not in SEND_CHANNELS for c in channels):
        raise invalid("SendChannels", "Format", f"{p.path('SendChannels')}: unknown channel.")
    if p.has("AndroidMessageOppoNotifyLevel") and not p.has("AndroidMessageOppoCategory"):
        raise p_missing(p, "AndroidMessageOppoCategory")
    _check_android_display(p)
    _check_harmony_display(p)


def _check_android_display(p: Params) -> None:
    if p.has("AndroidPopupActivity"):
        p.required("AndroidPopupTitle")
        p.required("AndroidPopupBody")
    for name, limit in (("AndroidPopupTitle", MAX_POPUP_TITLE_CHARS), ("AndroidPopupBody", MAX_POPUP_BODY_CHARS)):
        if len(p.get(name) or "") > limit:
            raise invalid(name, "LengthExceed", f"{p.path(name)} is limited to {limit} characters.")
    for name, limit in (("AndroidBigTitle", MAX_BIG_TITLE_BYTES), ("AndroidBigBody", MAX_BIG_BODY_BYTES)):
        if _bytes(p.get(name)) > limit:
            raise invalid(name, "BytesExceed", f"{p.path(name)} is limited to {limit} bytes.")
    if p.has("AndroidInboxBody"):
        inbox = _json(p.get("AndroidInboxBody"))
        if not isinstance(inbox, list) or len(inbox) > MAX_ANDROID_INBOX_ITEMS:
            raise invalid("AndroidInboxBody", "Format", f"{p.path('AndroidInboxBody')}: a JSON array of at most 5.")


def _check_harmony_display(p: Params) -> None:
    if p.get("HarmonyRenderStyle") == "MULTI_LINE":
        p.required("HarmonyInboxContent")
    if p.has("HarmonyInboxContent"):
        inbox = _json(p.get("HarmonyInboxContent"))
        if not isinstance(inbox, list) or len(inbox) > MAX_HARMONY_INBOX_ITEMS:
            raise invalid(
                "HarmonyInboxContent", "Format", f"{p.path('HarmonyInboxContent')}: a JSON array of at most 3."
            )


def _json(value: str | None) -> object:
    """A JSON parameter's value, ``None`` when it is not JSON this emulator reads (bounded, as
    :func:`pushfn.json_input.decode_json` reads it: json.loads raised RecursionError, a 500)."""
    try:
        return decode_json(value or "")
    except JsonInputError:
        return None


_TASK_INDEX = re.compile(r"[1-9][0-9]{0,8}")


def split_tasks(params: dict[str, str]) -> list[Params]:
    """``PushTask.N.Field`` → one :class:`Params` per task, in N order (N is 1-based)."""
    tasks: dict[int, dict[str, str]] = {}
    for name, value in params.items():
        if not name.startswith("PushTask."):
            continue
        _, index, field = [*name.split(".", 2), "", ""][:3]
        # ASCII digits, no leading zero: "１" and "01" were read as task 1 and merged into it, and an
        # index of 5,000 digits raised ValueError out of int() (a 500).
        if not _TASK_INDEX.fullmatch(index) or not field:
            raise invalid("PushTask", "Format", f"{name[:80]} is not PushTask.<N>.<Field> with N from 1.")
        tasks.setdefault(int(index), {})[field] = value
    if len(tasks) > MAX_MASS_PUSH_TASKS:
        raise invalid(
            "PushTask", "CountExceed", f"{len(tasks)} tasks; a MassPush carries at most {MAX_MASS_PUSH_TASKS}."
        )
    return [Params(tasks[n], prefix=f"PushTask.{n}.") for n in sorted(tasks)]


def check_task_fields(task: Params) -> None:
    """Refuse a Push-only field in a MassPush task (``AppKey``, ``IdempotentToken``, the SMS fields).

    Raises :class:`ApiError` ``InvalidPushTask.Format`` naming the field's path.
    """
    for name in NOT_IN_TASK:
        if name in task.values:
            raise invalid("PushTask", "Format", f"{task.path(name)} is not a MassPush task field.")
