"""Property: arbitrary JSON-like input to the Push and MassPush builders validates or raises
InvalidRequestError — never another exception — and whatever validates is sendable text.

The HTTP, queue and timer layers rely on this: a bad value is the caller's mistake (a 400, a
dead letter), never a crash or a retry. Inputs start from a valid request and are then bent: real
parameter names (both spellings) and random ones, given random JSON values — huge integers, deep
nesting, control characters, lone surrogates, non-finite floats.
"""

from __future__ import annotations

import typing
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.push.test_models_input_kinds import kind

from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import REQUEST_TYPES, MassPush, Push, PushTask, parse_request
from pushfn.push.models.wire import snake_name

NOW = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
APP_KEY = 23267207
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY_TEXT = ["\x00", "\x01", "\x1b", "\x7f", "\ud800", "\udfff", "\t", "\n", "\r", ",", "{", "中", "é", ""]
NASTY_INTS = [10**30, 2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 2**31, -(2**31) - 1, 99_999, 100_000, 10**400]
NASTY_FLOATS = [float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 0.5, 1.5]
TIMES = ["9999-12-31T23:59:58Z", "0001-01-01T00:00:00+14:00", "2024-01-15T09:00:00Z", "2024-01-15T17:00:00+08:00"]


def _text() -> st.SearchStrategy[str]:
    # Every code point, surrogates and controls included, mixed with the known troublemakers.
    pieces = st.one_of(st.text(st.characters(exclude_categories=()), max_size=8), st.sampled_from(NASTY_TEXT))
    return st.lists(pieces, max_size=4).map("".join)


def _deep(depth: int, leaf: Any, as_list: bool) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if as_list else {("and", "or", "tag", "k")[level % 4]: value}
    return value


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(NASTY_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_FLOATS),
    _text(),
    st.sampled_from(TIMES),
)
JSON_VALUES = st.one_of(
    st.recursive(
        SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(_text(), st.sampled_from(["tag", "and"])), children, max_size=4),
        ),
        max_leaves=12,
    ),
    st.builds(_deep, st.integers(30, 3_000), SCALARS, st.booleans()),
)

_API_NAMES = sorted(set(Push.api_names()) | set(PushTask.api_names()))
NAMES = st.one_of(st.sampled_from(_API_NAMES), st.sampled_from(_API_NAMES).map(snake_name), _text())


def _base(platform: str) -> dict[str, Any]:
    base = {"DeviceType": platform, "PushType": "NOTICE", "Target": "DEVICE", "TargetValue": "d1", "Body": "B"}
    return base if platform == "iOS" else {**base, "Title": "T"}


def _bent(base: dict[str, Any], changes: dict[str, Any], removed: list[str]) -> dict[str, Any]:
    data = {key: value for key, value in base.items() if key not in removed}
    data.update(changes)
    return data


PUSH_INPUT = st.builds(
    _bent,
    st.sampled_from(["ANDROID", "iOS", "HARMONY", "ALL"]).map(_base),
    st.dictionaries(NAMES, JSON_VALUES, max_size=4),
    st.lists(st.sampled_from(["Title", "Body", "TargetValue", "Target"]), max_size=2),
)
# Values of the right shape for most parameters, so that many inputs validate and their wire form
# is checked too: small numbers, wire booleans, short text (tab/LF/CR and CJK included), tiny maps.
_PLAIN_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from("\t\n\r"), max_size=6
)


def _values_for(api: str) -> st.SearchStrategy[Any]:
    """Values of the right kind for one Push parameter (by the kind its model gives it)."""
    snake = next(name for name, field in Push.model_fields.items() if field.alias == api)
    field_kind = kind(Push, snake)
    if field_kind == "enum":
        literals = [
            arg for item in typing.get_args(Push.model_fields[snake].annotation) for arg in typing.get_args(item)
        ]
        return st.sampled_from([value for value in literals if isinstance(value, str)] or ["x"])
    return {
        "text": _PLAIN_TEXT.filter(bool),
        "int": st.integers(-2, 120),
        "bool": st.booleans() | st.sampled_from(["true", "False"]),
        "float": st.floats(0, 1),
        "time": st.sampled_from(["2024-01-15T09:00:00Z", "2024-01-15T17:00:00+08:00"]),
        "json": st.dictionaries(_PLAIN_TEXT, _PLAIN_TEXT, max_size=2) | st.lists(_PLAIN_TEXT, max_size=2),
        "list": st.lists(_PLAIN_TEXT.filter(bool), min_size=1, max_size=3),
        "target_value": st.just("d1"),
    }.get(field_kind, _PLAIN_TEXT)


_PUSH_ONLY = {
    "SmsDelaySecs",
    "SmsParams",
    "SmsSendPolicy",
    "SmsSignName",
    "SmsTemplateName",
    "IdempotentToken",
    "AppKey",
}


@st.composite
def _well_typed_changes(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(
        st.lists(st.sampled_from([n for n in Push.api_names() if n not in _PUSH_ONLY]), max_size=4, unique=True)
    )
    return {
        name: draw(_values_for(name) | JSON_VALUES) if draw(st.integers(0, 9)) == 0 else draw(_values_for(name))
        for name in names
    }


PLAUSIBLE_PUSH_INPUT = st.builds(
    _bent, st.sampled_from(["ANDROID", "iOS", "HARMONY", "ALL"]).map(_base), _well_typed_changes(), st.just([])
)
TASKS = st.lists(st.one_of(PUSH_INPUT, PLAUSIBLE_PUSH_INPUT, JSON_VALUES), min_size=0, max_size=3)
MASS_PUSH_INPUT = st.builds(
    lambda tasks, spelling, extra: {spelling: tasks, **extra},
    TASKS,
    st.sampled_from(["PushTask", "push_task", "tasks"]),
    st.dictionaries(st.one_of(st.sampled_from(["IdempotentToken", "AppKey"]), _text()), JSON_VALUES, max_size=2),
)


def _assert_sendable(params: dict[str, str]) -> None:
    for name, value in params.items():
        assert isinstance(name, str) and isinstance(value, str), (name, type(value))
        value.encode("utf-8")  # no lone surrogate
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in value), name


def _assert_clean_problems(error: InvalidRequestError) -> None:
    assert error.problems
    for problem in error.problems:
        for text in (problem.field, problem.rule, problem.message):
            assert isinstance(text, str)
            text.encode("utf-8")
            assert text.isprintable(), text


def _build(action: str, data: dict[str, Any]) -> None:
    try:
        request = parse_request(action, data, app_key=APP_KEY, now=NOW)
    except InvalidRequestError as error:  # the only exception allowed
        _assert_clean_problems(error)
        return
    _assert_sendable(request.to_query())
    _assert_sendable(request.to_form())
    # What validated re-validates from its own wire form (the client re-checks against `now`).
    parse_request(action, request, app_key=APP_KEY, now=NOW)


@SETTINGS
@given(PUSH_INPUT | PLAUSIBLE_PUSH_INPUT)
def test_push_input_validates_or_raises_invalid_request_error(data: dict[str, Any]) -> None:
    _build("Push", data)


@SETTINGS
@given(MASS_PUSH_INPUT)
def test_mass_push_input_validates_or_raises_invalid_request_error(data: dict[str, Any]) -> None:
    _build("MassPush", data)


@SETTINGS
@given(st.dictionaries(NAMES, JSON_VALUES, max_size=6))
def test_any_mapping_at_all(data: dict[str, Any]) -> None:
    _build("Push", data)
    _build("MassPush", data)


@SETTINGS
@given(PUSH_INPUT)
def test_direct_construction_raises_only_invalid_request_error(data: dict[str, Any]) -> None:
    clean = {key: value for key, value in data.items() if isinstance(key, str)}
    for model in (Push, MassPush):
        try:
            model(**clean)
        except InvalidRequestError as error:
            _assert_clean_problems(error)


_OTHER_ACTIONS = sorted(set(REQUEST_TYPES) - {"Push", "MassPush"})


@st.composite
def _other_action_input(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    action = draw(st.sampled_from(_OTHER_ACTIONS))
    names = list(REQUEST_TYPES[action].api_names())
    keys = st.sampled_from(names) | st.sampled_from(names).map(snake_name) | _text()
    return action, draw(st.dictionaries(keys, JSON_VALUES | st.sampled_from(["d1", "a,b", "1", "DEVICE", "DAY"])))


@SETTINGS
@given(_other_action_input())
def test_every_other_action_validates_or_raises_invalid_request_error(case: tuple[str, dict[str, Any]]) -> None:
    _build(*case)
