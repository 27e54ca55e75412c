"""Differential: the fast checker and the pydantic models agree on every request.

Both are driven by the same field table and the same rule functions; these tests prove they also
agree in effect. Thousands of generated Push and MassPush requests — values at, just inside and just
outside every limit the table declares (byte and character sizes, number ranges, list lengths, the
1,000 targets, the 1,800-byte content, the 7-day / 72-hour / 3-second / 60-second time windows,
required and mutually required parameters, enums in the wrong case) — are given to both:

- the fast checker accepts exactly the requests pydantic accepts, with the same wire parameters
  (query and form, same order);
- ``check_request`` raises exactly the InvalidRequestError ``parse_request`` raises.

The limits are read from the table itself (each value rule's closure), so a new field or limit is
covered without editing this file.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import fresh_python

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import ValidRequest, check_request, parse_request
from pushfn.push.models.fast import _accept_request
from pushfn.push.models.fields import DEVICE_REQUESTS, MASS_PUSH, PUSH, PUSH_TASK, REQUESTS, FieldSpec, RequestSpec
from pushfn.push.models.wire import snake_name

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207
ROOT = Path(__file__).resolve().parents[2]
MANY = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
SOME = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))


# --- values around the table's limits ----------------------------------------------------------------


def _limits(field: FieldSpec) -> dict[str, Any]:
    """``{"max_bytes": 200, "between": (0, 99999), ...}`` read from the field's value rules."""
    found: dict[str, Any] = {}
    for check in field.checks:
        rule = check.__qualname__.split(".")[0]
        cells = dict(zip(check.__code__.co_freevars, (c.cell_contents for c in check.__closure__ or ()), strict=True))
        found[rule] = cells
    return found


def _sized_text(size: int, unit: str) -> st.SearchStrategy[str]:
    """Text of ``size`` bytes (``unit="bytes"``, some CJK) or characters, give or take nothing."""
    if size <= 0:
        return st.just("")
    if unit == "chars":
        return st.sampled_from(["a" * size, "中" * size, "é" * size])
    cjk = size // 3
    return st.sampled_from(["a" * size, "中" * cjk + "a" * (size - 3 * cjk)])


def _around(n: int) -> list[int]:
    return [value for value in (n - 1, n, n + 1) if value >= 0]


TEXT_VALUES = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    st.sampled_from(["", " ", "\t\n\r", "\x00", "\x7f", "\ud800", "中文", "a,b", "{", "x" * 70]),
    # Non-BMP, combining marks, NFC against NFD, separators and BOM, lone surrogates of both halves.
    st.sampled_from(["😀", "e\u0301", "\u00e9", "\u2028", "\ufeff", "a\x00", "\udfff", "a\ud83d", "\U0010ffff"]),
    st.integers(-3, 3),
    st.none(),
    st.lists(st.just("a"), max_size=2),
)


def _text_values(field: FieldSpec) -> st.SearchStrategy[Any]:
    limits = _limits(field)
    options = [TEXT_VALUES]
    for rule, unit in (("max_bytes", "bytes"), ("max_chars", "chars")):
        if rule in limits:
            sizes = _around(limits[rule]["limit"])
            options.append(st.sampled_from(sizes).flatmap(lambda n, u=unit: _sized_text(n, u)))
    if "matches" in limits:  # JobKey: 1-32 of [A-Za-z0-9_-]
        options.append(st.text("aZ09_-", min_size=0, max_size=33))
        options.append(st.sampled_from(["a" * 32, "a" * 33, "a b", "ä"]))
    return st.one_of(options)


def _int_values(field: FieldSpec) -> st.SearchStrategy[Any]:
    limits = _limits(field)
    edges: list[Any] = [0, 1, -1, 2**63, -(2**63) - 1, 10**30, True, "7", " 8 ", "x", 1.0, 1.5, float("nan")]
    edges += [False, "01", "+1", "-0", "1e3", "1.0", "1_0", "１", "", 1e3, 2**63 - 1, -(2**63), "0" * 25 + "1"]
    if "between" in limits:
        low, high = limits["between"]["low"], limits["between"]["high"]
        edges += [low - 1, low, low + 1, high - 1, high, high + 1, str(high), float(low)]
    if "one_of" in limits:
        allowed = limits["one_of"]["allowed"]
        edges += [*allowed, max(allowed) + 1, min(allowed) - 1]
    return st.sampled_from(edges)


FLOAT_VALUES = st.sampled_from(
    [
        0,
        1,
        0.0,
        1.0,
        0.5,
        -0.01,
        1.01,
        "0.3",
        "1e-3",
        float("inf"),
        float("nan"),
        True,
        10**30,
        -0.0,
        "-0",
        " .5 ",
        "1_0",
        "1e-400",
        "0x1",
        "nan",
        "",
        None,
        "０.５",
    ]
)
BOOL_VALUES = st.sampled_from(
    [True, False, "true", "FALSE", " True ", 1, 0, "yes", None, "1", "0", "", 1.0, "\ttrue\n"]
)


def _time_values() -> st.SearchStrategy[Any]:
    offsets = [
        timedelta(0),
        timedelta(seconds=-59),
        timedelta(seconds=-61),
        timedelta(seconds=3),
        timedelta(seconds=4),
        timedelta(hours=72),
        timedelta(hours=72, seconds=1),
        timedelta(days=7),
        timedelta(days=7, seconds=1),
        timedelta(hours=1),
    ]
    moments = st.sampled_from(offsets).map(lambda d: NOW + d)
    return st.one_of(
        moments,
        moments.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
        moments.map(lambda t: t.astimezone(timezone(timedelta(hours=8))).isoformat()),
        st.sampled_from(["2024-01-15T08:30:00", "not a time", "2100-01-01T00:00:00Z", 1705307400]),
        st.sampled_from(
            [
                "2024-01-15T09:30:00.5Z",
                "2024-01-15t09:30:00z",
                "20240115T093000Z",
                "2024-01-15 09:30:00Z",
                "2024-01-15T09:30:60Z",  # a leap second: not a time Python (or CloudPush) takes
                "2024-01-15T15:15:00+05:45",
                "2024-01-15T09:30:00-00:00",
                "2024-01-15",
                " 2024-01-15T09:30:00Z ",
                "+1h",
            ]
        ),
        moments.map(lambda t: t + timedelta(microseconds=500_000)),
        moments.map(lambda t: t.replace(tzinfo=None)),
    )


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4), st.sampled_from([2**64, "\x01"])
)
JSON_DOCS = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6,
)


def _json_values(field: FieldSpec) -> st.SearchStrategy[Any]:
    limits = _limits(field)
    options = [JSON_DOCS, st.sampled_from(['{"a":"b"}', "[1,2]", "{bad", '"text"', "", b'{"k":"v"}', 3])]
    # JSON text the wire rewrites: spaces, key order, escapes, non-ASCII, floats, duplicate keys, a BOM.
    options.append(
        st.sampled_from(
            [
                '{ "b" : 1 , "a" : [ 1.0, 1e2 ] }',
                '{"a":"\\u00e9\\/"}',
                '{"中":"文"}',
                '{"a":1,"a":2}',
                '\ufeff{"a":1}',
                '{"a":1e309}',
                "{}",
                "[]",
                {"b": 1, "a": "中", "c": (1, 2)},
            ]
        )
    )
    options.append(st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3))
    if "max_items" in limits:
        sizes = _around(limits["max_items"]["limit"])
        options.append(st.sampled_from(sizes).map(lambda n: ["line"] * n))
    return st.one_of(options)


def _comma_values(field: FieldSpec) -> st.SearchStrategy[Any]:
    words = st.sampled_from(["huawei", "apns", "fcm", "HUAWEI", "", "x", "a b"])
    return st.one_of(
        st.lists(words, max_size=4),
        st.lists(words, max_size=4).map(",".join),
        st.sampled_from([",", "apns,", [1, 2], [True], 5, "apns, fcm", " apns", "apns,,fcm", ("apns",), [], ""]),
    )


def _enum_values(field: FieldSpec) -> st.SearchStrategy[Any]:
    choices = list(field.kind.choices)
    return st.one_of(
        st.sampled_from(choices),
        st.sampled_from(choices).map(str.lower),
        st.sampled_from(["", None, 1, "OTHER"]),
    )


def _value_for(field: FieldSpec) -> st.SearchStrategy[Any]:
    kind = field.kind.name
    if kind in ("text", "token"):
        if field.name == "idempotent_token":
            return st.sampled_from(
                ["0b8f8d04-8f3e-4d1d-9d5e-3c2f1a0b9c8d", "0B8F8D04-8F3E-4D1D-9D5E-3C2F1A0B9C8D", "x", ""]
            )
        return _text_values(field)
    if kind == "int":
        return _int_values(field)
    if kind == "float":
        return FLOAT_VALUES
    if kind == "bool":
        return BOOL_VALUES
    if kind == "time":
        return _time_values()
    if kind in ("json_map", "str_map", "json_array", "json_text"):
        return _json_values(field)
    if kind == "comma_list":
        return _comma_values(field)
    if kind == "enum":
        return _enum_values(field)
    raise AssertionError(f"no strategy for {field}")


# --- whole requests ------------------------------------------------------------------------------------


def _target_pairs() -> st.SearchStrategy[dict[str, Any]]:
    """Target and TargetValue, at and around the list limits (1,000 values, 64/128-byte items) and tags."""
    count = st.sampled_from([1, 2, 999, 1000, 1001])
    lists = st.tuples(st.sampled_from(["DEVICE", "ACCOUNT", "ALIAS"]), count, st.sampled_from([8, 64, 65, 128, 129]))
    as_list = lists.map(lambda t: {"Target": t[0], "TargetValue": ["a" * t[2]] * t[1]})
    as_text = lists.map(lambda t: {"Target": t[0], "TargetValue": ",".join(["a" * t[2]] * t[1])})
    tags = st.sampled_from(
        [
            "news",
            "a,b",
            "t" * 128,
            "t" * 129,
            {"and": [{"tag": "a"}, {"not": {"tag": "b"}}]},
            '{"or":[{"tag":"a"},{"tag":"b"}]}',
            {"not": {"tag": "a"}},
            "{bad json",
            {"and": [{"and": [{"and": [{"tag": "a"}]}]}]},
        ]
    ).map(lambda v: {"Target": "TAG", "TargetValue": v})
    fixed = st.sampled_from(
        [
            {"Target": "ALL", "TargetValue": "ALL"},
            {"Target": "ALL", "TargetValue": "all"},
            {"Target": "TBD", "TargetValue": "TBD"},
            {"Target": "DEVICE", "TargetValue": "a,,b"},
            {"Target": "DEVICE", "TargetValue": {"tag": "a"}},
            {"Target": "DEVICE", "TargetValue": [1, 2]},
            {"Target": "DEVICE", "TargetValue": ["d1", "d1"]},  # duplicates are sent as given
            {"Target": "DEVICE", "TargetValue": "d1, d2"},
            {"Target": "DEVICE", "TargetValue": ("d1", 2)},
            {"Target": "DEVICE", "TargetValue": []},
            {"Target": "DEVICE", "TargetValue": [True]},
            {"Target": "ACCOUNT", "TargetValue": "中" * 21 + "a"},
            {"Target": "TAG", "TargetValue": ' {"tag": "中"} '},
            {"Target": "TAG", "TargetValue": '{"tag":"a","tag":"b"}'},
        ]
    )
    return st.one_of(as_list, as_text, tags, fixed)


def _base(device_type: str) -> dict[str, Any]:
    base = {"DeviceType": device_type, "PushType": "NOTICE", "Target": "DEVICE", "TargetValue": "d1", "Body": "b"}
    return base if device_type == "iOS" else {**base, "Title": "t"}


CONTENT = st.sampled_from([1799, 1800, 1801]).map(lambda n: {"Body": "b" * (n - 1), "Title": "t"})


@st.composite
def push_params(draw: st.DrawFn, spec: RequestSpec = PUSH) -> dict[str, Any]:
    """A Push (or PushTask) near a valid one: a few fields set to values around their limits."""
    params = _base(draw(st.sampled_from(["ANDROID", "iOS", "HARMONY", "ALL"])))
    params["PushType"] = draw(st.sampled_from(["NOTICE", "MESSAGE"]))
    if draw(st.booleans()):
        params.update(draw(_target_pairs()))
    if spec is PUSH_TASK and params["Target"] not in ("DEVICE", "ACCOUNT", "ALIAS") and draw(st.booleans()):
        params.update({"Target": "DEVICE", "TargetValue": "d1"})
    if draw(st.integers(0, 4)) == 0:
        params.update(draw(CONTENT))
    fields = [field for field in spec.fields if field.kind.name not in ("target_value", "tasks")]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=5, unique_by=lambda f: f.name))
    for field in chosen:
        params[field.api] = draw(_value_for(field))
    for name in draw(st.lists(st.sampled_from(["Title", "Body", "Target", "DeviceType"]), max_size=1)):
        params.pop(name, None)
    if draw(st.integers(0, 9)) == 0:
        params[draw(st.sampled_from(["Titel", "iosBadge", "extra"]))] = "x"
    if draw(st.booleans()):  # snake_case spellings for some
        params = {(snake_name(k) if draw(st.booleans()) else k): v for k, v in params.items()}
    return params


@st.composite
def mass_push_params(draw: st.DrawFn) -> dict[str, Any]:
    """A MassPush: 0, 1-3 or 99-101 tasks, each near a valid one."""
    count = draw(st.sampled_from([0, 1, 2, 3, 99, 100, 101]))
    if count > 3:
        tasks = [_base("ANDROID")] * (count - 1) + [draw(push_params(PUSH_TASK))]
    else:
        tasks = [draw(push_params(PUSH_TASK)) for _ in range(count)]
    if draw(st.integers(0, 4)) == 0:  # a tuple is a list of tasks to pydantic, and so to the fast checker
        tasks = tuple(tasks)
    params: dict[str, Any] = {"PushTask" if draw(st.booleans()) else "tasks": tasks}
    if draw(st.booleans()):
        params["IdempotentToken"] = draw(_value_for(MASS_PUSH.fields[1]))
    return params


# --- the comparison -----------------------------------------------------------------------------------


def _agree(action: str, params: dict[str, Any]) -> bool:
    """Assert both paths agree on ``params``; True when they accepted it."""
    spec = REQUESTS[action]
    fast = _accept_request(spec, params, APP_KEY, NOW)
    try:
        model = parse_request(action, params, app_key=APP_KEY, now=NOW)
    except InvalidRequestError as exc:
        assert fast is None, f"fast accepted what pydantic refuses: {exc}"
        with pytest.raises(InvalidRequestError) as raised:
            check_request(action, params, app_key=APP_KEY, now=NOW)
        assert raised.value.problems == exc.problems and raised.value.action == exc.action
        return False
    assert fast is not None, f"pydantic accepted what the fast checker refused: {ascii(params)[:3000]}"
    assert list(fast.query.items()) == list(model.to_query().items())
    assert list(fast.form.items()) == list(model.to_form().items())
    assert fast.time_problems(NOW) == []
    return True


@MANY
@given(push_params())
def test_fast_checker_and_pydantic_agree_on_push(params: dict[str, Any]) -> None:
    _agree("Push", params)


@SOME
@given(mass_push_params())
def test_fast_checker_and_pydantic_agree_on_mass_push(params: dict[str, Any]) -> None:
    _agree("MassPush", params)


#: A plainly valid value per field of the other actions, that the generated ones then replace.
_PLAIN_VALUES = {
    "text": "a",
    "int": 5,
    "time": NOW,
    "comma_list": ["a", "b"],
    "target_value": "d1,d2",
    "bool": True,
}


@st.composite
def device_params(draw: st.DrawFn, spec: RequestSpec) -> dict[str, Any]:
    """The required fields of ``spec`` with plain values, some fields around their limits, some left out."""
    params: dict[str, Any] = {}
    for field in spec.fields:
        if field.required and field.name != "app_key":
            kind = field.kind.name
            params[field.api] = field.kind.choices[0] if kind == "enum" else _PLAIN_VALUES[kind]
    if spec.action == "QueryDeviceStat" or "end_time" in {f.name for f in spec.fields}:
        params["EndTime"] = draw(st.sampled_from([NOW, NOW + timedelta(days=31), NOW + timedelta(days=32)]))
    fields = [field for field in spec.fields if field.name != "app_key"]
    if fields:
        for field in draw(st.lists(st.sampled_from(fields), max_size=3, unique_by=lambda f: f.name)):
            params[field.api] = (
                draw(_value_for(field))
                if field.kind.name != "target_value"
                else draw(st.sampled_from(["a", "a,,b", ["x"] * 1001, {"tag": "a"}, ""]))
            )
    for name in draw(st.lists(st.sampled_from(sorted(params) or ["x"]), max_size=1)):
        params.pop(name, None)
    if draw(st.booleans()):
        params = {snake_name(k): v for k, v in params.items()}
    return params


@pytest.mark.parametrize("spec", DEVICE_REQUESTS, ids=lambda spec: spec.name)
def test_fast_checker_and_pydantic_agree_on_every_other_action(spec: RequestSpec) -> None:
    outcomes = {True: 0, False: 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(device_params(spec))
    def check(params: dict[str, Any]) -> None:
        outcomes[_agree(spec.action or "", params)] += 1

    check()
    assert outcomes[True] > 0, spec.name


def test_the_generators_reach_both_outcomes_at_every_kind_of_limit() -> None:
    """The properties above would pass vacuously if everything were refused: count both outcomes."""
    outcomes = {True: 0, False: 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(push_params())
    def count(params: dict[str, Any]) -> None:
        outcomes[_agree("Push", params)] += 1

    count()
    assert outcomes[True] >= 40 and outcomes[False] >= 40, outcomes


@pytest.mark.parametrize(
    ("params", "accepted"),
    [
        ({**_base("ANDROID"), "Body": "b" * 1799}, True),  # with Title "t": 1,800 bytes
        ({**_base("ANDROID"), "Body": "b" * 1800}, False),
        ({**_base("iOS"), "Body": "b" * 1800}, True),
        ({**_base("iOS"), "Body": "b" * 1801}, False),
        ({**_base("ANDROID"), "TargetValue": ["d"] * 1000}, True),
        ({**_base("ANDROID"), "TargetValue": ["d"] * 1001}, False),
        ({**_base("ANDROID"), "PushTime": NOW + timedelta(days=7)}, True),
        ({**_base("ANDROID"), "PushTime": NOW + timedelta(days=7, seconds=1)}, False),
        ({**_base("ANDROID"), "ExpireTime": NOW + timedelta(seconds=3)}, False),
        ({**_base("ANDROID"), "ExpireTime": NOW + timedelta(seconds=4)}, True),
        ({**_base("iOS"), "iOSBadge": 99_999}, True),
        ({**_base("iOS"), "iOSBadge": 100_000}, False),
        ({**_base("iOS"), "ios_badge": "7", "iOSBadgeAutoIncrement": "false"}, True),
        ({**_base("ANDROID"), "AndroidOpenType": "URL"}, False),
        ({**_base("ANDROID"), "SmsParams": "a=b"}, False),
    ],
)
def test_limits_by_hand(params: dict[str, Any], accepted: bool) -> None:
    assert _agree("Push", params) is accepted


# --- validate once --------------------------------------------------------------------------------------


def test_a_valid_request_is_checked_again_only_for_its_time_rules() -> None:
    params = {**_base("ANDROID"), "PushTime": NOW + timedelta(minutes=10), "ExpireTime": NOW + timedelta(hours=1)}
    valid = check_request("Push", params, app_key=APP_KEY, now=NOW)
    assert isinstance(valid, ValidRequest) and check_request("Push", valid, now=NOW) is valid
    later = NOW + timedelta(minutes=12)  # the PushTime is now 2 minutes in the past
    with pytest.raises(InvalidRequestError) as raised:
        check_request("Push", valid, now=later)
    with pytest.raises(InvalidRequestError) as expected:
        parse_request("Push", params, app_key=APP_KEY, now=later)
    assert raised.value.problems == expected.value.problems
    assert [p.field for p in raised.value.problems] == ["PushTime"]
    # Sent now instead: the ExpireTime is then measured from the send time.
    assert check_request("Push", valid.without_push_time(), now=later).push_time is None


def test_mass_push_tasks_time_rules_are_named_like_validation_names_them() -> None:
    tasks = [_base("ANDROID"), {**_base("ANDROID"), "PushTime": NOW + timedelta(minutes=5)}]
    valid = check_request("MassPush", {"PushTask": tasks}, app_key=APP_KEY, now=NOW)
    later = NOW + timedelta(minutes=7)
    with pytest.raises(InvalidRequestError) as fast:
        check_request("MassPush", valid, now=later)
    with pytest.raises(InvalidRequestError) as slow:
        parse_request("MassPush", {"PushTask": tasks}, app_key=APP_KEY, now=later)
    assert fast.value.problems == slow.value.problems
    assert [p.field for p in fast.value.problems] == ["PushTask.2.PushTime"]


def test_a_valid_request_is_not_sent_as_another_action() -> None:
    valid = check_request("Push", _base("ANDROID"), app_key=APP_KEY, now=NOW)
    with pytest.raises(InvalidRequestError) as raised:
        check_request("MassPush", valid, now=NOW)
    assert raised.value.problems[0].rule == "mismatch"


def test_unusual_input_types_go_to_pydantic_and_come_back_the_same() -> None:
    import uuid

    from pushfn.push.models import Push

    token = uuid.UUID("0b8f8d04-8f3e-4d1d-9d5e-3c2f1a0b9c8d")
    params = {**_base("ANDROID"), "IdempotentToken": token}
    valid = check_request("Push", params, app_key=APP_KEY, now=NOW)
    assert valid.query["IdempotentToken"] == str(token)
    model = Push(**{**_base("ANDROID"), "AppKey": APP_KEY})
    assert check_request("Push", model, now=NOW).query == model.to_query()


# --- no pydantic on the accepting path ----------------------------------------------------------------


def test_accepting_a_request_never_loads_pydantic_but_refusing_one_does() -> None:
    code = (
        "import sys\n"
        "from pushfn.push.models import check_request\n"
        "from pushfn.push.errors import InvalidRequestError\n"
        "ok = {'DeviceType': 'ANDROID', 'PushType': 'NOTICE', 'Target': 'DEVICE', 'TargetValue': 'd', "
        "'Title': 't', 'Body': 'b'}\n"
        "check_request('Push', ok, app_key=1)\n"
        "check_request('MassPush', {'PushTask': [ok, ok]}, app_key=1)\n"
        "print('pydantic' in sys.modules)\n"
        "try:\n"
        "    check_request('Push', {**ok, 'Title': ''}, app_key=1)\n"
        "except InvalidRequestError as exc:\n"
        "    print(exc.problems[0].field, exc.problems[0].rule, 'pydantic' in sys.modules)\n"
    )
    assert fresh_python(code).split("\n")[:2] == ["False", "Title not_empty True"]


# --- regressions: what the rules judge is what is sent ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "offset"),
    [
        ("ExpireTime", timedelta(seconds=3, microseconds=500_000)),  # sent as now+3 s: not more than 3 s
        ("PushTime", timedelta(days=7, microseconds=500_000)),  # sent as now+7 days exactly: allowed
        ("PushTime", timedelta(seconds=-60, microseconds=-500_000)),  # sent as 61 s ago: in the past
    ],
)
def test_time_rules_judge_the_time_as_sent_whole_seconds(field: str, offset: timedelta) -> None:
    """Regression: times travel in whole seconds (``2024-01-15T08:30:03Z``), but the rules judged the
    fraction the caller gave: an ExpireTime 3.5 s ahead passed the "more than 3 s" rule and went out as
    3 s ahead; a PushTime 7 days and half a second ahead was refused though it goes out as 7 days."""
    moment = NOW + offset
    sent = moment.replace(microsecond=0)
    for value in (moment, moment.isoformat()):
        accepted = _agree("Push", {**_base("ANDROID"), field: value})
        assert accepted is _agree("Push", {**_base("ANDROID"), field: sent}), value
    if field == "PushTime" and accepted:  # the send-time check reads the time that is sent, too
        valid = check_request("Push", {**_base("ANDROID"), field: moment}, app_key=APP_KEY, now=NOW)
        assert valid.push_time == sent


def test_mass_push_tasks_may_be_a_tuple_for_both() -> None:
    """Regression: pydantic took a tuple of tasks (as it takes a tuple for every list parameter) while the
    fast checker required a list and left the request to pydantic, on the slow path."""
    tasks = (_base("ANDROID"), {**_base("iOS"), "iOSBadge": 3})
    assert _agree("MassPush", {"PushTask": tasks})
    assert _accept_request(MASS_PUSH, {"PushTask": tasks}, APP_KEY, NOW) is not None
