"""The field table: every parameter of every supported request, defined once, in plain Python.

One line per parameter: snake_case name (its API name is :func:`~pushfn.push.models.wire.api_name` of
it), its :class:`Kind` (what values it takes and how it travels), the value rules of
:mod:`~pushfn.push.models.rules` that apply after parsing, in order, and whether it is required. A
:class:`RequestSpec` adds the request rules spanning several parameters.

Built from this table, and from nothing else: the pydantic models
(:mod:`~pushfn.push.models.pydantic_models`: OpenAPI schemas, every error message) and the fast checker
(:mod:`~pushfn.push.models.fast`). Parameters: ``PushRequest``, ``MassPushRequestPushTask`` and the other
request models of ``alibabacloud-push20160801`` 2.1.8; limits: https://help.aliyun.com/document_detail/92832.html.
"""

from __future__ import annotations

from pushfn.api_time import format_api_time
from pushfn.push.models import rules
from pushfn.push.models.rules import (
    EARLIEST_UNIX,
    LATEST_UNIX,
    MAX_SMS_DELAY_SECS,
    between,
    each_in,
    each_max_bytes,
    each_max_chars,
    matches,
    max_bytes,
    max_chars,
    max_items,
    min_items,
    not_empty,
    one_of,
)
from pushfn.push.models.wire import api_name, compact_json, join_commas

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from pushfn.push.models.rules import RequestRule


class Kind:
    """What one kind of parameter accepts and how it travels.

    ``name``: ``text``, ``token``, ``int``, ``float``, ``bool``, ``time``, ``json_map``, ``str_map``,
    ``json_array``, ``json_text``, ``comma_list``, ``target_value``, ``enum`` or ``tasks``. ``parse``
    turns a caller's value into the Python value or raises :class:`~pushfn.push.models.rules.RuleError`
    (``target_value`` also takes the parsed Target; ``enum`` and ``tasks`` have none: their consumers
    check ``choices`` / validate ``tasks`` themselves). ``checks`` run after ``parse`` for every field
    of the kind, before the field's own. ``wire`` turns the Python value into its wire string.
    """

    __slots__ = ("checks", "choices", "name", "parse", "tasks", "wire")

    def __init__(
        self,
        name: str,
        parse: Callable[..., Any] | None,
        wire: Callable[[Any], str] | None,
        *,
        checks: tuple[Callable[[Any], None], ...] = (),
        choices: tuple[str, ...] = (),
        tasks: RequestSpec | None = None,
    ) -> None:
        self.name = name
        self.parse = parse
        self.wire = wire
        self.checks = checks
        self.choices = choices
        self.tasks = tasks

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


def _as_is(value: str) -> str:
    return value


def _wire_bool(value: bool) -> str:
    return "true" if value else "false"


TEXT = Kind("text", rules.parse_text, _as_is)
#: An IdempotentToken: text, or a ``uuid.UUID``.
TOKEN = Kind("token", rules.parse_token, _as_is)
#: An integer: int, whole float or decimal digits; every field narrows it with a range check.
INT = Kind("int", rules.parse_int, str)
FLOAT = Kind("float", rules.parse_float, str)
BOOL = Kind("bool", rules.parse_bool, _wire_bool)
#: An aware time from 1970 to 2099; sent as ``YYYY-MM-DDThh:mm:ssZ`` (UTC).
TIME = Kind("time", rules.parse_utc, format_api_time)
JSON_MAP = Kind("json_map", rules.parse_json_object, compact_json)
STR_MAP = Kind("str_map", rules.parse_string_map, compact_json)
JSON_ARRAY = Kind("json_array", rules.parse_json_array, compact_json)
JSON_TEXT = Kind("json_text", rules.parse_json_text, compact_json)
#: Comma-separated values: a list (each item text) or the comma-joined string; no empty item.
COMMA_LIST = Kind("comma_list", rules.split_commas, join_commas, checks=(rules.no_empty_item,))
#: DEVICE/ACCOUNT/ALIAS values (list or comma string), a tag name or expression (dict or JSON), ALL, TBD.
TARGET_VALUE = Kind("target_value", rules.parse_target_value, _as_is)


def enum(*choices: str) -> Kind:
    """A closed set of strings, case-sensitive (rule ``enum``)."""
    return Kind("enum", None, _as_is, choices=choices)


def tasks(spec: RequestSpec) -> Kind:
    """A list of requests of ``spec`` (MassPush's ``PushTask``), sent in the form body."""
    return Kind("tasks", None, None, tasks=spec)


class FieldSpec:
    """One parameter: ``name`` (snake_case), ``api`` (its API name), ``kind``, ``checks`` (value rules,
    in order), ``required``."""

    __slots__ = ("api", "checks", "kind", "name", "required")

    def __init__(self, name: str, kind: Kind, checks: tuple[Callable[[Any], None], ...], required: bool) -> None:
        self.name = name
        self.api = api_name(name)
        self.kind = kind
        self.checks = checks
        self.required = required

    def __repr__(self) -> str:
        return f"FieldSpec({self.api!r}, {self.kind.name})"


def F(name: str, kind: Kind, *checks: Callable[[Any], None], required: bool = False) -> FieldSpec:
    """One line of the table: ``F("ios_badge", INT, between(0, 99_999))``."""
    return FieldSpec(name, kind, checks, required)


class RequestSpec:
    """One request (or MassPush task): ``name`` (the model's name), ``action`` (None for a task),
    ``doc``, ``fields`` in wire order, ``rules`` (request rules, run when every field is valid),
    ``synonyms`` (extra input spellings -> API name) and ``input_names`` (every accepted spelling ->
    API name: snake_case, API name, synonyms); ``by_api``, ``order`` and ``required`` index ``fields``
    by API name."""

    __slots__ = ("action", "by_api", "doc", "fields", "input_names", "name", "order", "required", "rules", "synonyms")

    def __init__(
        self,
        name: str,
        doc: str,
        fields: tuple[FieldSpec, ...],
        *,
        action: str | None = None,
        rules: tuple[RequestRule, ...] = (),
        synonyms: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.action = action
        self.doc = doc
        self.fields = fields
        self.rules = rules
        self.synonyms = dict(synonyms or {})
        self.by_api = {field.api: field for field in fields}
        #: API name -> position in ``fields`` (the wire order).
        self.order = {field.api: position for position, field in enumerate(fields)}
        self.required = frozenset(field.api for field in fields if field.required)
        names: dict[str, str] = {}
        for field in fields:
            names[field.name] = names[field.api] = field.api
        names.update(self.synonyms)
        self.input_names = names

    def __repr__(self) -> str:
        return f"RequestSpec({self.name!r})"


# --- shared value rules and enums ------------------------------------------------------------------

#: The int32 range the official SDKs declare for parameters whose range is not documented.
INT32 = between(-(2**31), 2**31 - 1)
#: A non-negative int32 (the SDK's type; the service documents no narrower range).
NON_NEGATIVE_INT32 = between(0, 2**31 - 1)
#: Documented as 0 (official / production, the default) or 1 (test).
ZERO_OR_ONE = one_of(0, 1)
#: A time in Unix seconds, in the window of :data:`TIME`.
UNIX_SECONDS = between(EARLIEST_UNIX, LATEST_UNIX)
POSITIVE_INT64 = between(1, 2**63 - 1)
JOB_KEY = matches(r"[A-Za-z0-9_-]{1,32}", "letters, digits, '_' or '-', at most 32 characters")
UUID = matches(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "a 36-character UUID (8-4-4-4-12 hex digits)",
)

DEVICE_TYPE = enum("iOS", "ANDROID", "HARMONY", "ALL")
PUSH_TYPE = enum("NOTICE", "MESSAGE")
TARGET = enum("DEVICE", "ACCOUNT", "ALIAS", "TAG", "ALL", "TBD")
LIST_TARGET = enum("DEVICE", "ACCOUNT", "ALIAS")
#: BindTag/UnbindTag tag devices only today (limits page; BindTag docs in alibabacloud-push20160801
#: 2.1.8); accounts and aliases tagged in the past can still be queried.
BIND_KEY_TYPE = enum("DEVICE")
KEY_TYPE = enum("DEVICE", "ACCOUNT", "ALIAS")
SEND_CHANNELS = ("accs", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "gcm", "fcm", "apns", "harmony")

#: Filled from the client's app key when absent (required then: parse_request says so).
APP_KEY = F("app_key", INT, POSITIVE_INT64)
IDEMPOTENT_TOKEN = F("idempotent_token", TOKEN, UUID)


# --- Push and MassPush ----------------------------------------------------------------------------

#: The 114 parameters a ``Push`` shares with each ``MassPush`` task (``PushRequest`` and
#: ``MassPushRequestPushTask``): target, content, schedule, per-platform and per-vendor options.
PUSH_FIELDS: tuple[FieldSpec, ...] = (
    # --- common (13 here; AppKey and IdempotentToken belong to the request) -------------------
    F("device_type", DEVICE_TYPE, required=True),
    F("push_type", PUSH_TYPE, required=True),
    F("target", TARGET, required=True),
    F("target_value", TARGET_VALUE, required=True),
    F("title", TEXT, not_empty, max_bytes(200)),
    F("body", TEXT, not_empty),
    F("job_key", TEXT, JOB_KEY),
    F("push_time", TIME),
    F("expire_time", TIME),
    F("store_offline", BOOL),
    F("send_channels", COMMA_LIST, each_in(SEND_CHANNELS)),
    F("send_speed", INT, NON_NEGATIVE_INT32),  # deprecated by the service, still accepted
    F("trim", BOOL),
    # --- iOS (22) ----------------------------------------------------------------------------
    F("ios_apns_env", enum("DEV", "PRODUCT")),
    # [0, 99999]: the range of the badge number CloudPush keeps per device (iOS SDK syncBadgeNum).
    F("ios_badge", INT, between(0, 99_999)),
    F("ios_badge_auto_increment", BOOL),
    F("ios_ext_parameters", JSON_MAP),
    F("ios_interruption_level", enum("passive", "active", "time-sensitive", "critical")),
    F("ios_live_activity_attributes", JSON_TEXT),
    F("ios_live_activity_attributes_type", TEXT),
    F("ios_live_activity_content_state", JSON_TEXT),
    F("ios_live_activity_dismissal_date", INT, UNIX_SECONDS),
    F("ios_live_activity_event", enum("start", "update", "end")),
    F("ios_live_activity_id", TEXT),
    F("ios_live_activity_stale_date", INT, UNIX_SECONDS),
    F("ios_music", TEXT),  # "" means silent, so empty is allowed
    F("ios_mutable_content", BOOL),
    F("ios_notification_category", TEXT),
    F("ios_notification_collapse_id", TEXT),
    F("ios_notification_thread_id", TEXT),
    F("ios_relevance_score", FLOAT, between(0, 1)),
    F("ios_remind", BOOL),
    F("ios_remind_body", TEXT),
    F("ios_silent_notification", BOOL),
    F("ios_subtitle", TEXT),
    # --- HarmonyOS (20) ----------------------------------------------------------------------
    F("harmony_action", TEXT),
    F("harmony_action_type", enum("APP_HOME_PAGE", "APP_CUSTOM_PAGE")),
    # HarmonyOS Push Kit's badge ranges (the same as Android's AndroidBadgeAddNum/SetNum below).
    F("harmony_badge_add_num", INT, between(1, 99)),
    F("harmony_badge_set_num", INT, between(0, 99)),
    F("harmony_category", TEXT),
    F("harmony_ext_parameters", JSON_MAP),
    F("harmony_extension_extra_data", TEXT),
    F("harmony_extension_push", BOOL),
    F("harmony_image_url", TEXT),
    F("harmony_inbox_content", JSON_ARRAY, max_items(3, "lines")),
    F("harmony_live_view_payload", JSON_TEXT),
    F("harmony_notification_slot_type", TEXT),
    F("harmony_notify_id", INT, NON_NEGATIVE_INT32),  # a HarmonyOS notification id
    F("harmony_receipt_id", TEXT),
    F("harmony_remind", BOOL),
    F("harmony_remind_body", TEXT),
    F("harmony_remind_title", TEXT),
    F("harmony_render_style", enum("NORMAL", "MULTI_LINE")),
    F("harmony_test_message", BOOL),
    F("harmony_uri", TEXT),
    # --- Android (59) ------------------------------------------------------------------------
    F("android_activity", TEXT),
    F("android_badge_add_num", INT, between(1, 99)),
    F("android_badge_class", TEXT),
    F("android_badge_set_num", INT, between(0, 99)),
    F("android_big_body", TEXT, max_bytes(1000)),
    F("android_big_picture_url", TEXT),
    F("android_big_title", TEXT, max_bytes(200)),
    F("android_ext_parameters", JSON_MAP),
    F("android_honor_target_user_type", INT, ZERO_OR_ONE),
    F("android_huawei_business_type", INT, ZERO_OR_ONE),
    F("android_huawei_live_notification_payload", JSON_TEXT),
    F("android_huawei_receipt_id", TEXT),
    F("android_huawei_target_user_type", INT, ZERO_OR_ONE),
    F("android_image_url", TEXT),
    F("android_inbox_body", JSON_ARRAY, max_items(5, "lines")),
    F("android_meizu_notice_msg_type", INT, ZERO_OR_ONE),
    F("android_message_huawei_category", TEXT),
    F("android_message_huawei_urgency", enum("HIGH", "NORMAL")),
    F("android_message_oppo_category", TEXT),
    F("android_message_oppo_notify_level", INT, one_of(1, 2, 16)),
    F("android_message_vivo_category", TEXT),
    F("android_music", TEXT),
    F("android_notification_bar_priority", INT, between(-2, 2)),
    F("android_notification_bar_type", INT, between(1, 100)),
    F("android_notification_channel", TEXT),
    F("android_notification_group", TEXT),
    F("android_notification_honor_channel", TEXT),
    F("android_notification_huawei_channel", TEXT),
    F("android_notification_notify_id", INT, INT32),  # an Android notification id
    F("android_notification_thread_id", TEXT),
    F("android_notification_vivo_channel", TEXT),
    F("android_notification_xiaomi_channel", TEXT),
    F("android_notify_type", enum("VIBRATE", "SOUND", "BOTH", "NONE")),
    F("android_open_type", enum("APPLICATION", "ACTIVITY", "URL", "NONE")),
    F("android_open_url", TEXT),
    F("android_oppo_delete_intent_data", JSON_TEXT),
    F("android_oppo_intelligent_intent", JSON_TEXT),
    F("android_oppo_intent_env", INT, ZERO_OR_ONE),
    F("android_oppo_private_content_parameters", STR_MAP),
    F("android_oppo_private_msg_template_id", TEXT),
    F("android_oppo_private_title_parameters", STR_MAP),
    F("android_popup_activity", TEXT),
    F("android_popup_body", TEXT, max_chars(200)),
    F("android_popup_title", TEXT, max_chars(50)),
    F("android_remind", BOOL),
    F("android_render_style", INT, between(0, 3)),
    F("android_target_user_type", INT, ZERO_OR_ONE),
    F("android_vivo_live_message", JSON_TEXT),
    F("android_vivo_push_mode", INT, ZERO_OR_ONE),
    F("android_vivo_receipt_id", TEXT),
    F("android_xiao_mi_activity", TEXT),  # deprecated -> AndroidPopupActivity
    F("android_xiao_mi_notify_body", TEXT),  # deprecated -> AndroidPopupBody
    F("android_xiao_mi_notify_title", TEXT),  # deprecated -> AndroidPopupTitle
    F("android_xiaomi_big_picture_url", TEXT),  # deprecated
    F("android_xiaomi_focus_param", JSON_TEXT),
    F("android_xiaomi_focus_pics", JSON_TEXT),
    F("android_xiaomi_image_url", TEXT),  # deprecated
    F("android_xiaomi_template_id", TEXT),
    F("android_xiaomi_template_params", JSON_TEXT),
)

PUSH = RequestSpec(
    "Push",
    "Advanced push: one content to many targets (the 121 parameters of the SDK's ``PushRequest``).",
    (
        APP_KEY,
        *PUSH_FIELDS,
        IDEMPOTENT_TOKEN,
        # --- SMS fallback (Push only) ------------------------------------------------------------
        F("sms_delay_secs", INT, between(0, MAX_SMS_DELAY_SECS)),
        F("sms_params", TEXT),  # "key1=value1&key2=value2"
        F("sms_send_policy", INT, one_of(0, 1)),  # 0 not received, 1 not opened
        F("sms_sign_name", TEXT),
        F("sms_template_name", TEXT),
    ),
    action="Push",
    rules=(*rules.PUSH_RULES, rules.sms_fallback),
)

PUSH_TASK = RequestSpec(
    "PushTask",
    "One task of a ``MassPush``: Push's parameters minus AppKey, IdempotentToken and Sms*.",
    tuple(F("target", LIST_TARGET, required=True) if field.name == "target" else field for field in PUSH_FIELDS),
    rules=rules.PUSH_RULES,
)

MASS_PUSH = RequestSpec(
    "MassPush",
    "Up to 100 independent pushes in one call; tasks travel in the form body.",
    (
        APP_KEY,
        IDEMPOTENT_TOKEN,
        F("push_task", tasks(PUSH_TASK), min_items(1, "tasks"), max_items(100, "tasks"), required=True),
    ),
    action="MassPush",
    synonyms={"tasks": "PushTask"},
)


# --- devices, aliases, tags, continuous pushes and statistics ---------------------------------------

NON_EMPTY = (TEXT, not_empty)
ACCOUNT = (TEXT, not_empty, max_bytes(64))
ALIAS = (TEXT, not_empty, max_bytes(128))
ALIAS_NAMES = (COMMA_LIST, max_items(10, "aliases"), each_max_bytes(128))
TAG_NAMES = (COMMA_LIST, max_items(10, "tags"), each_max_chars(128))
CLIENT_KEYS = (COMMA_LIST, max_items(1000, "client keys"))
MESSAGE_ID = (INT, POSITIVE_INT64)
PERIOD = (F("start_time", TIME, required=True), F("end_time", TIME, required=True))


def _request(action: str, doc: str, *fields: FieldSpec, rules: tuple[RequestRule, ...] = ()) -> RequestSpec:
    return RequestSpec(action, doc, (APP_KEY, *fields), action=action, rules=rules)


DEVICE_REQUESTS: tuple[RequestSpec, ...] = (
    _request(
        "CancelPush",
        "Cancel a scheduled push that has not been sent yet (``MessageId``: the positive int64 ``Push`` returned).",
        F("message_id", *MESSAGE_ID, required=True),
    ),
    _request(
        "QueryPushStatByMsg",
        "Delivery statistics of one push (``MessageId``: the positive int64 ``Push`` returned).",
        F("message_id", *MESSAGE_ID, required=True),
    ),
    _request(
        "CheckDevice",
        "Whether one device id is known to the app (``DeviceId``).",
        F("device_id", *NON_EMPTY, required=True),
    ),
    _request(
        "CheckDevices",
        "Whether each of up to 100 device ids is known to the app (``DeviceIds``: a list or comma string).",
        F("device_ids", COMMA_LIST, max_items(100, "device ids"), required=True),
    ),
    _request(
        "QueryDeviceInfo",
        "One device's details: platform, account, aliases, tags, online state (``DeviceId``).",
        F("device_id", *NON_EMPTY, required=True),
    ),
    _request(
        "QueryDevicesByAccount",
        "The devices bound to one account (``Account``: at most 64 UTF-8 bytes).",
        F("account", *ACCOUNT, required=True),
    ),
    _request(
        "BindAlias",
        "Bind up to 10 aliases (``AliasName``, each at most 128 UTF-8 bytes) to one device.",
        F("device_id", *NON_EMPTY, required=True),
        F("alias_name", *ALIAS_NAMES, required=True),
    ),
    _request(
        "UnbindAlias",
        "Unbind aliases from one device: the ``AliasName`` given (up to 10), or all with ``UnbindAll=true``.",
        F("device_id", *NON_EMPTY, required=True),
        F("alias_name", *ALIAS_NAMES),
        F("unbind_all", BOOL),
        rules=(rules.alias_or_all,),
    ),
    _request(
        "QueryAliases", "The aliases bound to one device (``DeviceId``).", F("device_id", *NON_EMPTY, required=True)
    ),
    _request(
        "QueryDevicesByAlias",
        "The devices bound to one alias (``Alias``: at most 128 UTF-8 bytes).",
        F("alias", *ALIAS, required=True),
    ),
    _request(
        "BindTag",
        "Add up to 10 tags (``TagName``, each at most 128 characters) to up to 1000 devices (``ClientKey``;\n"
        "    ``KeyType`` must be ``DEVICE``).",
        F("client_key", *CLIENT_KEYS, required=True),
        F("key_type", BIND_KEY_TYPE, required=True),
        F("tag_name", *TAG_NAMES, required=True),
    ),
    _request(
        "UnbindTag",
        "Remove up to 10 tags (``TagName``) from up to 1000 devices (``ClientKey``; ``KeyType`` ``DEVICE``).",
        F("client_key", *CLIENT_KEYS, required=True),
        F("key_type", BIND_KEY_TYPE, required=True),
        F("tag_name", *TAG_NAMES, required=True),
    ),
    _request(
        "QueryTags",
        "The tags of one ``ClientKey`` (a device, account or alias, as ``KeyType`` says).",
        F("client_key", *NON_EMPTY, required=True),  # one device, account or alias
        F("key_type", KEY_TYPE, required=True),
    ),
    _request("ListTags", "Every tag of the app (no parameter but ``AppKey``)."),
    _request(
        "RemoveTag",
        "Delete one tag from the app altogether (``TagName``: exactly one name).",
        F("tag_name", *TAG_NAMES, max_items(1, "tag (remove one tag per call)"), required=True),
    ),
    _request(
        "BindPhone",
        "Bind a phone number to one device, for the SMS fallback of ``Push`` (``Sms*`` parameters).",
        F("device_id", *NON_EMPTY, required=True),
        F("phone_number", *NON_EMPTY, required=True),
    ),
    _request(
        "UnbindPhone",
        "Unbind the phone number from one device (``DeviceId``).",
        F("device_id", *NON_EMPTY, required=True),
    ),
    _request(
        "CheckCertificate",
        "The app's certificate status: ``Android``/``IOS`` flags, iOS development and production cert info.",
    ),
    _request(
        "ContinuouslyPush",
        "Send a ``Target=TBD`` message to a batch of targets (MessageId is a string here).",
        F("message_id", *NON_EMPTY, required=True),
        F("target", LIST_TARGET, required=True),
        F("target_value", TARGET_VALUE, required=True),
        rules=(rules.continuous_targets,),
    ),
    _request(
        "CompleteContinuouslyPush",
        "End a continuous push (``Target=TBD``); ``MessageId`` is a string here, as in ``ContinuouslyPush``.",
        F("message_id", *NON_EMPTY, required=True),
    ),
    _request(
        "QueryDeviceStat",
        "Device counts between ``StartTime`` and ``EndTime`` (``QueryType`` ``NEW`` or ``TOTAL``).",
        *PERIOD,
        F("query_type", enum("NEW", "TOTAL"), required=True),
        F("device_type", enum("iOS", "ANDROID", "ALL")),
        rules=(rules.period(),),
    ),
    _request(
        "QueryPushRecords",
        "The app's push records from ``StartTime`` to ``EndTime``, paged (``Page`` 1-10,000, ``PageSize`` 1-100).",
        *PERIOD,
        F("keyword", TEXT),
        F("next_token", TEXT),  # deprecated by the service; use Page
        F("page", INT, between(1, 10_000)),
        F("page_size", INT, between(1, 100)),
        F("push_type", enum("MESSAGE", "NOTICE", "LIVE_ACTIVITY")),
        F("source", enum("API", "CONSOLE", "OpenAPIExplorer")),
        F("target", TARGET),
        rules=(rules.period(),),
    ),
    _request(
        "QueryPushStatByApp",
        "Daily push statistics of the app over at most 31 days (``Granularity=DAY``).",
        *PERIOD,
        F("granularity", enum("DAY"), required=True),
        rules=(rules.period(max_days=31),),
    ),
    _request(
        "QueryUniqueDeviceStat",
        "Unique-device counts between ``StartTime`` and ``EndTime`` per ``DAY`` or ``MONTH``.",
        *PERIOD,
        F("granularity", enum("DAY", "MONTH"), required=True),
        rules=(rules.period(),),
    ),
)

#: Every supported action's request, by action name (Push and MassPush first).
REQUESTS: dict[str, RequestSpec] = {spec.action: spec for spec in (PUSH, MASS_PUSH, *DEVICE_REQUESTS) if spec.action}
