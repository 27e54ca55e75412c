"""Every parameter of every model takes only its own kind of value (issue 13, items 8-10).

Integers within their documented range (or at least int32/int64), booleans only as booleans, strings
only from strings and only as text (no lone surrogate, no control character but tab/LF/CR), times
within 1970..2099, JSON inside fields bounded like any JSON input. Each problem names the field
itself (``Body``, ``AndroidExtParameters.k``, ``PushTask.2.Title``), never ``(request)``, and nothing
but :class:`InvalidRequestError` ever leaves the models.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import REQUEST_TYPES, PushTask, parse_request

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207


def android(**params: Any) -> dict[str, Any]:
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "d1",
        "Title": "T",
        "Body": "B",
        **params,
    }


def problems(action: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(action, data, app_key=APP_KEY, now=NOW)
    return [(p.field, p.rule) for p in caught.value.problems]


def fails(action: str, data: dict[str, Any], field: str, rule: str) -> None:
    found = problems(action, data)
    assert (field, rule) in found, found


def fails_under(action: str, data: dict[str, Any], field: str, rule: str) -> str:
    """The field itself or a path inside it (``AliasName.2``) has this rule broken; returns the field."""
    found = problems(action, data)
    matching = [name for name, broken in found if broken == rule and (name == field or name.startswith(field + "."))]
    assert matching, found
    assert all(name != "(request)" for name, _ in found), found
    return matching[0]


# --- which kind each parameter is, found from the models themselves ----------------------------


#: The table's kinds, as these tests group them.
_KIND_GROUP = {"token": "text", "json_map": "json", "str_map": "json", "json_array": "json", "json_text": "json"}
_KIND_GROUP["comma_list"] = "list"


def kind(model: type, snake: str) -> str:
    """The kind of one field, read from the field table the model was built from."""
    field = next(field for field in model.spec.fields if field.name == snake)
    return _KIND_GROUP.get(field.kind.name, field.kind.name)


MODELS: dict[str, type] = {**REQUEST_TYPES, "PushTask": PushTask}


def short_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"int_of_{value.bit_length()}_bits"
    return ascii(value)[:24]


def fields_of_kind(wanted: str) -> list[tuple[str, str]]:
    """(model name, API name) of every field of that kind, in every model."""
    return [
        (name, field.alias or snake)
        for name, model in sorted(MODELS.items())
        for snake, field in model.model_fields.items()
        if kind(model, snake) == wanted
    ]


def check(model_name: str, api: str, value: Any, rule: str) -> str:
    """``value`` given as ``api`` of ``model_name`` breaks ``rule`` on that field (tasks go through MassPush)."""
    if model_name == "PushTask":
        return fails_under("MassPush", {"PushTask": [android(), {api: value}]}, f"PushTask.2.{api}", rule)
    return fails_under(model_name, {api: value}, api, rule)


def test_every_field_of_every_model_has_a_checked_kind() -> None:
    unclassified = [
        (name, snake)
        for name, model in MODELS.items()
        for snake in model.model_fields
        if kind(model, snake) == "unclassified"
    ]
    assert unclassified == []
    # And the sets are not empty (the classification itself works).
    for wanted in ("text", "int", "bool", "float", "time", "json", "list", "target_value", "enum"):
        assert fields_of_kind(wanted), wanted


# --- item 9: strings only from strings ---------------------------------------------------------


@pytest.mark.parametrize("target", ["DEVICE", "ACCOUNT", "ALIAS", "ALL", "TBD"])
@pytest.mark.parametrize("value", [{}, {"tag": "a"}, [{}], [["d1"]], [None], [True], [1.5], 5, 1.5, True, None, b"d1"])
def test_target_value_that_is_not_a_string_is_refused_not_stringified(target: str, value: Any) -> None:
    fails("Push", android(Target=target, TargetValue=value), "TargetValue", "type")


def test_target_value_issue_input_in_every_model_that_has_one() -> None:
    fails("Push", android(TargetValue={}), "TargetValue", "type")
    fails("MassPush", {"PushTask": [android(), android(TargetValue={})]}, "PushTask.2.TargetValue", "type")
    fails("ContinuouslyPush", {"MessageId": "m1", "Target": "DEVICE", "TargetValue": {}}, "TargetValue", "type")


def test_target_value_strings_lists_and_tag_expressions_still_work() -> None:
    def target_value(**params: Any) -> str:
        return parse_request("Push", android(**params), app_key=APP_KEY, now=NOW).to_query()["TargetValue"]

    assert target_value(TargetValue=["a", 42, "b"], Target="ACCOUNT") == "a,42,b"
    assert target_value(Target="TAG", TargetValue={"or": [{"tag": "a"}, {"tag": "b"}]}) == (
        '{"or":[{"tag":"a"},{"tag":"b"}]}'
    )
    assert target_value(Target="TAG", TargetValue='{ "tag" : "a" }') == '{"tag":"a"}'


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("text"))
@pytest.mark.parametrize("value", [{}, ["a"], 5, 1.5, True, b"bytes"], ids=short_id)
def test_every_text_field_takes_only_strings(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "type")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("list"))
@pytest.mark.parametrize("value", [{}, 5, True, [{}], [["a"]], [None], [1.5]], ids=short_id)
def test_every_list_field_takes_strings_or_lists_of_strings(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "type")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("list"))
@pytest.mark.parametrize("value", [[], ()], ids=["list", "tuple"])
def test_every_list_field_refuses_an_empty_list(model_name: str, api: str, value: Any) -> None:
    # Sent, an empty list would be an empty parameter (SendChannels=), which no list parameter means.
    check(model_name, api, value, "min_items")


def _inbox_fields() -> list[tuple[str, str]]:
    """(model name, API name) of every JSON-array field: inbox lines (AndroidInboxBody, HarmonyInboxContent)."""
    return [
        (name, field.alias or snake)
        for name, model in sorted(MODELS.items())
        for snake, field in model.model_fields.items()
        if next(f for f in model.spec.fields if f.name == snake).kind.name == "json_array"
    ]


@pytest.mark.parametrize(("model_name", "api"), _inbox_fields())
@pytest.mark.parametrize("value", [[{}], ["a", 1], [["a"]], [None], [True], [1.5], '["a", {}]'], ids=short_id)
def test_every_inbox_line_is_a_string(model_name: str, api: str, value: Any) -> None:
    """An inbox line that is not a string is refused, named by its position, not sent as ``[{}]``."""
    field = check(model_name, api, value, "type")
    assert field.rsplit(".", 1)[-1].isdigit(), field  # AndroidInboxBody.2: the line itself
    # The fast checker (the HTTP and queue functions' path) refuses it alike, before pydantic explains.
    from pushfn.push.models.fast import check_request

    data = {"PushTask": [android(), {api: value}]} if model_name == "PushTask" else {**android(), api: value}
    with pytest.raises(InvalidRequestError) as caught:
        check_request("MassPush" if model_name == "PushTask" else model_name, data, app_key=APP_KEY, now=NOW)
    assert field in {p.field for p in caught.value.problems}


def test_inbox_lines_of_text_are_still_sent_as_a_json_array() -> None:
    request = parse_request(
        "Push", android(AndroidRenderStyle=3, AndroidInboxBody=["l1", "l2"]), app_key=APP_KEY, now=NOW
    )
    assert request.to_query()["AndroidInboxBody"] == '["l1","l2"]'
    assert {api for _, api in _inbox_fields()} == {"AndroidInboxBody", "HarmonyInboxContent"}


# --- item 9: C0 control characters ---------------------------------------------------------------

CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]


def test_issue_input_nul_in_title() -> None:
    fails("Push", android(Title="a\x00b"), "Title", "control_character")
    fails("MassPush", {"PushTask": [android(Title="a\x00b")]}, "PushTask.1.Title", "control_character")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("text") + fields_of_kind("list"))
@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_are_refused_in_every_text_field(model_name: str, api: str, char: str) -> None:
    check(model_name, api, f"a{char}b", "control_character")


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_are_refused_in_names_and_json(char: str) -> None:
    fails_under("Push", android(Target="TAG", TargetValue=f"tag{char}"), "TargetValue", "control_character")
    fails_under("Push", android(Target="ALIAS", TargetValue=["a", f"b{char}"]), "TargetValue", "control_character")
    fails("Push", android(Target="TAG", TargetValue={"tag": f"x{char}"}), "TargetValue.tag", "control_character")
    fails("Push", android(AndroidExtParameters={"k": f"v{char}"}), "AndroidExtParameters.k", "control_character")
    fails("Push", android(AndroidExtParameters={f"k{char}": "v"}), "AndroidExtParameters", "control_character")
    escaped = json.dumps({"k": f"v{char}"})  # the control character arrives as a JSON escape
    fails("Push", android(iOSExtParameters=escaped), "iOSExtParameters.k", "control_character")
    fails_under(
        "BindTag", {"ClientKey": "d1", "KeyType": "DEVICE", "TagName": f"a,b{char}"}, "TagName", "control_character"
    )
    fails_under("BindAlias", {"DeviceId": "d1", "AliasName": [f"al{char}"]}, "AliasName", "control_character")


def test_tab_line_feed_and_carriage_return_are_text() -> None:
    request = parse_request("Push", android(Title="a\tb", Body="line 1\r\nline 2\n"), app_key=APP_KEY, now=NOW)
    assert request.to_query()["Body"] == "line 1\r\nline 2\n"


# --- item 10: a lone surrogate is reported on its own field ------------------------------------


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("text") + fields_of_kind("list"))
@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "ok\udc80"], ids=short_id)
def test_lone_surrogate_is_reported_on_every_text_field(model_name: str, api: str, surrogate: str) -> None:
    check(model_name, api, surrogate, "text")


def test_issue_inputs_lone_surrogates() -> None:
    assert problems("Push", android(Body="\ud800")) == [("Body", "text")]
    open_url = android(AndroidOpenType="URL", AndroidOpenUrl="https://x/\udfff")
    assert problems("Push", open_url) == [("AndroidOpenUrl", "text")]
    assert problems("Push", android(AndroidExtParameters={"k": "\ud800"})) == [("AndroidExtParameters.k", "text")]
    assert problems("Push", android(AndroidExtParameters={"\ud800": "v"})) == [("AndroidExtParameters", "text")]
    tasks = {"PushTask": [android(), android(Body="\ud800")]}
    assert problems("MassPush", tasks) == [("PushTask.2.Body", "text")]


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("json"))
def test_lone_surrogate_inside_every_json_field_is_reported_on_it(model_name: str, api: str) -> None:
    array = api in ("AndroidInboxBody", "HarmonyInboxContent")
    for value in (["\ud800"], ["ok", {"k": "\udfff"}]) if array else ({"k": "\ud800"}, {"\udfff": "v"}):
        check(model_name, api, value, "text")
    # The same, arriving as JSON text with an escaped surrogate: decode_json names it.
    check(model_name, api, '["\\ud800"]' if array else '{"k": "\\ud800"}', "text")


def test_a_problem_never_carries_unencodable_or_control_text() -> None:
    bad_names = {"\ud800": 1, "a\x00b": 2, "x" * 70_000: 3}
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", android(**bad_names), app_key=APP_KEY, now=NOW)
    assert [p.rule for p in caught.value.problems] == ["unknown_field"] * 3
    for problem in caught.value.problems:
        for text in (problem.field, problem.message, str(caught.value)):
            text.encode("utf-8")
            assert not any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)
        assert len(problem.field) < 200 and len(problem.message) < 1200


# --- item 9: integers in their range, booleans as booleans ---------------------------------------


def test_issue_input_ios_badge_10_to_the_30() -> None:
    fails("Push", android(iOSBadge=10**30), "iOSBadge", "range")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("int"))
@pytest.mark.parametrize("value", [10**30, 2**63, -(2**63) - 1, "9" * 5000, 10**5000, 1e300, -1e300], ids=short_id)
def test_every_integer_field_refuses_huge_numbers_naming_its_range(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "range")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("int"))
@pytest.mark.parametrize("value", [1.2345678901234567e18, -(2.0**53) - 2], ids=short_id)
def test_every_integer_field_refuses_a_float_too_large_to_be_exact(model_name: str, api: str, value: Any) -> None:
    """Regression: a whole float above 2**53 (``MessageId: 1.2345678901234567e18``) was rounded silently to
    another integer; it is refused as a type error asking for digits. 2**53 itself is exact and accepted."""
    check(model_name, api, value, "type")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("int"))
@pytest.mark.parametrize("value", [True, False, 1.5, "1.5", "ten", "", "0x10", {}, [1]], ids=short_id)
def test_every_integer_field_refuses_non_integers(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "type")


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("iOSBadge", 0, 99_999),
        ("HarmonyBadgeAddNum", 1, 99),
        ("HarmonyBadgeSetNum", 0, 99),
        ("HarmonyNotifyId", 0, 2**31 - 1),
        ("AndroidNotificationNotifyId", -(2**31), 2**31 - 1),
        ("SendSpeed", 0, 2**31 - 1),
        ("iOSLiveActivityDismissalDate", 0, 4102444799),
        ("iOSLiveActivityStaleDate", 0, 4102444799),
    ],
)
def test_integer_ranges_at_their_bounds(field: str, low: int, high: int) -> None:
    for value in (low, high, str(high)):
        parse_request("Push", android(**{field: value}), app_key=APP_KEY, now=NOW)
    for value in (low - 1, high + 1, str(high + 1)):
        fails("Push", android(**{field: value}), field, "range")


def test_integers_from_decimal_text_and_whole_floats_are_still_accepted() -> None:
    query = parse_request(
        "Push", android(iOSBadge=" 7 ", AndroidNotificationBarPriority=-2.0), app_key=APP_KEY, now=NOW
    )
    assert query.to_query()["iOSBadge"] == "7"
    assert query.to_query()["AndroidNotificationBarPriority"] == "-2"
    fails("Push", android(AppKey=2**63), "AppKey", "range")
    fails("CancelPush", {"MessageId": 2**63}, "MessageId", "range")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("bool"))
@pytest.mark.parametrize("value", [1, 0, "yes", "no", "1", "0", "on", "t", "", [], {}, 1.0], ids=short_id)
def test_every_boolean_field_takes_only_booleans(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "type")


@pytest.mark.parametrize("value", [True, False, "true", "false", "True", "FALSE"], ids=short_id)
def test_booleans_and_their_wire_text_are_accepted(value: Any) -> None:
    expected = "true" if str(value).lower() == "true" else "false"
    query = parse_request("Push", android(StoreOffline=value), app_key=APP_KEY, now=NOW).to_query()
    assert query["StoreOffline"] == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "nan", "-inf", 10**400, 2.0, -0.5], ids=short_id)
def test_relevance_score_must_be_a_finite_number_in_range(value: Any) -> None:
    fails("Push", android(iOSRelevanceScore=value), "iOSRelevanceScore", "range")


@pytest.mark.parametrize("value", [True, "high", {}, [0.5], "1_0", "０.５", "0x1p-1", " . "], ids=short_id)
def test_relevance_score_must_be_a_number(value: Any) -> None:
    fails("Push", android(iOSRelevanceScore=value), "iOSRelevanceScore", "type")


# --- item 8 (models): dates out of range ---------------------------------------------------------

FAR_DATES = [
    "9999-12-31T23:59:58Z",
    "9999-12-31T23:59:59.999999-12:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    datetime.max.replace(tzinfo=timezone.utc),
    datetime.min.replace(tzinfo=timezone.utc),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-23))),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=23))),
]


def test_issue_input_push_time_in_year_9999() -> None:
    assert problems("Push", android(PushTime="9999-12-31T23:59:58Z")) == [("PushTime", "range")]
    found = problems("Push", android(PushTime="9999-12-31T23:59:58Z", ExpireTime="9999-12-31T23:59:59Z"))
    assert found == [("PushTime", "range"), ("ExpireTime", "range")]


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("time"))
@pytest.mark.parametrize("value", FAR_DATES, ids=short_id)
def test_every_time_field_refuses_far_dates(model_name: str, api: str, value: Any) -> None:
    check(model_name, api, value, "range")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("time"))
@pytest.mark.parametrize("value", [1_700_000_000, 1.7e9, True, {}, ["2024-01-15T08:30:00Z"]], ids=short_id)
def test_every_time_field_refuses_non_strings(model_name: str, api: str, value: Any) -> None:
    # A number is not read as Unix seconds (or milliseconds): which one was meant is a guess.
    check(model_name, api, value, "type")


@pytest.mark.parametrize(
    "action", ["QueryDeviceStat", "QueryPushRecords", "QueryPushStatByApp", "QueryUniqueDeviceStat"]
)
def test_query_periods_at_the_window_bounds(action: str) -> None:
    extra = {"QueryDeviceStat": {"QueryType": "NEW"}, "QueryPushStatByApp": {"Granularity": "DAY"}}.get(action, {})
    if action == "QueryUniqueDeviceStat":
        extra = {"Granularity": "MONTH"}
    first, last = "1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z"
    parse_request(action, {"StartTime": first, "EndTime": "1970-01-02T00:00:00Z", **extra}, app_key=APP_KEY)
    parse_request(action, {"StartTime": "2099-12-30T00:00:00Z", "EndTime": last, **extra}, app_key=APP_KEY)
    fails(action, {"StartTime": "1969-12-31T23:59:59Z", "EndTime": last, **extra}, "StartTime", "range")
    fails(action, {"StartTime": first, "EndTime": "2100-01-01T00:00:00Z", **extra}, "EndTime", "range")


def test_schedule_rules_near_the_end_of_the_window_do_not_overflow() -> None:
    late = datetime(2099, 12, 31, 23, 0, tzinfo=timezone.utc)
    data = android(PushTime="2099-12-31T23:59:59Z", ExpireTime="2099-12-31T23:59:59Z")
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", data, app_key=APP_KEY, now=late)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("ExpireTime", "range")]


# --- item 8 (models): deep JSON in a field -------------------------------------------------------


def nested_expression(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"tag": "leaf"}
    for level in range(depth):
        node = {("and", "or", "not")[level % 3]: node if level % 3 == 2 else [node]}
    return node


@pytest.mark.parametrize("depth", [40, 1_000, 5_000])
def test_deep_tag_expression_is_a_field_problem(depth: int) -> None:
    expression = nested_expression(depth)
    fails_under("Push", android(Target="TAG", TargetValue=expression), "TargetValue", "depth")
    text = '{"and":[' * depth + '{"tag":"x"}' + "]}" * depth
    fails_under("Push", android(Target="TAG", TargetValue=text), "TargetValue", "depth")
    fails_under(
        "Push",
        android(Target="TAG", TargetValue='{"not":' * depth + '{"tag":"x"}' + "}" * depth),
        "TargetValue",
        "depth",
    )
    task = android(Target="DEVICE", TargetValue=[expression])
    fails_under("MassPush", {"PushTask": [task]}, "PushTask.1.TargetValue", "type")


def test_tag_expression_numbers_and_duplicates_are_field_problems() -> None:
    fails("Push", android(Target="TAG", TargetValue='{"tag": ' + "9" * 5000 + "}"), "TargetValue", "number")
    fails("Push", android(Target="TAG", TargetValue='{"tag": "a", "tag": "b"}'), "TargetValue", "duplicate_key")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("json"))
@pytest.mark.parametrize("depth", [33, 1_000, 20_000])
def test_deep_json_in_every_json_field_is_a_field_problem(model_name: str, api: str, depth: int) -> None:
    array = api in ("AndroidInboxBody", "HarmonyInboxContent")
    value: Any = "x"
    for _ in range(depth):
        value = [value] if array else {"k": value}
    check(model_name, api, value, "depth")
    text = ("[" * depth + "1" + "]" * depth) if array else ('{"k":' * depth + "1" + "}" * depth)
    check(model_name, api, text, "depth")


@pytest.mark.parametrize(("model_name", "api"), fields_of_kind("json"))
def test_json_fields_refuse_huge_and_non_finite_numbers(model_name: str, api: str) -> None:
    array = api in ("AndroidInboxBody", "HarmonyInboxContent")
    for number in (10**30, float("nan"), float("inf")):
        check(model_name, api, [number] if array else {"k": number}, "number")
    check(model_name, api, ("[" if array else '{"k":') + "9" * 5000 + ("]" if array else "}"), "number")


@pytest.mark.parametrize("field", ["AndroidOppoPrivateContentParameters", "AndroidOppoPrivateTitleParameters"])
def test_string_maps_take_only_string_values(field: str) -> None:
    for value in (5, True, None, ["a"], {"a": "b"}):
        fails("Push", android(**{field: {"name": value}}), f"{field}.name", "type")
    fails("Push", android(**{field: '{"name": 5}'}), f"{field}.name", "type")


def test_leading_zeros_do_not_make_a_small_number_huge() -> None:
    """Regression: the digit count that spares int() a 5,000-digit string counted leading zeros, so
    ``"000…0007"`` (25 digits) was refused as "a number of more than 20 digits" though it is 7."""
    padded = "0" * 24 + "7"
    query = parse_request("Push", android(iOSBadge=padded, AndroidNotificationBarPriority="-" + padded[:-1] + "2"),
                          app_key=APP_KEY, now=NOW).to_query()  # fmt: skip
    assert (query["iOSBadge"], query["AndroidNotificationBarPriority"]) == ("7", "-2")
    fails("Push", android(iOSBadge="0" * 5000 + "1" * 25), "iOSBadge", "range")


def test_a_float_of_at_most_2_to_the_53_is_still_an_integer() -> None:
    from pushfn.push.models.rules import parse_int

    assert parse_int(2.0**53) == 2**53 and parse_int(-(2.0**53)) == -(2**53) and parse_int(7.0) == 7
