"""The emulator's per-request shortcuts give exactly what the plain helpers give (hypothesis)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushfn.emulator.auth import canonical_query_v2
from pushfn.emulator.errors import ApiError
from pushfn.emulator.rules import FIELD_CHECKED, PUSH_FIELDS, Params, _check_fields
from pushfn.emulator.wire import CACHED_DECODING_CHARS, parse_form
from pushfn.push import signing

# Any text the query can carry once decoded (no lone surrogates: parse_form refuses them), short and long.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.text(
    "a b:%", min_size=signing._ENCODED_MAX_LENGTH - 2, max_size=signing._ENCODED_MAX_LENGTH + 3
)  # around the longest text whose encoding is remembered


@given(st.dictionaries(TEXT, TEXT, max_size=8), st.booleans())
def test_v2_canonical_query_is_the_signing_one(params: dict[str, str], signed: bool) -> None:
    """The cached encoder builds the same canonical query as ``signing.canonical_query``, Signature left out."""
    if signed:
        params = {**params, "Signature": "abc+/="}
    expected = signing.canonical_query({k: v for k, v in params.items() if k != "Signature"})
    assert canonical_query_v2(params) == expected
    assert canonical_query_v2(params) == expected  # a second time, from the cache


def test_v2_canonical_query_refuses_a_lone_surrogate_every_time() -> None:
    """A value ``percent_encode`` cannot encode raises each time: the failure is not cached as an answer."""
    for _ in range(2):
        with pytest.raises(UnicodeEncodeError):
            canonical_query_v2({"Title": "\ud800"})


_PIECES = ["a", "b", "=", "&", "+", "%", "2", "0", "%20", "%C3%A9", "%FF", "%zz", "é", ";", " ", "%2"]


@given(st.lists(st.sampled_from([*_PIECES, "x" * CACHED_DECODING_CHARS]), max_size=20))
def test_form_decoding_twice_matches_the_standard_library(pieces: list[str]) -> None:
    """Decoding the same text twice (the second from the cache), short or past the cached length, is parse_qsl's."""
    text = "".join(pieces)
    try:
        expected: object = dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        expected = "refused"
    for _ in range(2):
        try:
            got: object = parse_form(text)
        except ApiError as error:
            assert error.code == "InvalidParameter.Encoding"
            got = "refused"
        assert got == expected


@given(
    st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: str(u).upper()),
        st.uuids().map(lambda u: "{" + str(u) + "}"),
        st.uuids().map(lambda u: u.hex),
        st.text(st.sampled_from("0123456789abcdefABCDEF-_{}٣K"), min_size=30, max_size=40),
    )
)
def test_idempotent_token_format_is_what_uuid_parsing_accepts(token: str) -> None:
    """The emulator's token check accepts exactly the canonical text ``uuid.UUID`` would give back (any case)."""
    import uuid

    from pushfn.emulator.actions import _idempotent_token

    try:
        expected = len(token) == 36 and str(uuid.UUID(token)) == token.lower()
    except ValueError:
        expected = False
    try:
        accepted = _idempotent_token(Params({"IdempotentToken": token})) == token
    except ApiError:
        accepted = False
    assert accepted is expected


def test_request_ids_are_upper_case_uuid4_texts() -> None:
    """``new_request_id`` gives what ``str(uuid.uuid4()).upper()`` gave: version 4, RFC 4122 variant, all different."""
    import uuid

    from pushfn.emulator.actions import new_request_id

    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for request_id in ids:
        parsed = uuid.UUID(request_id)
        assert str(parsed).upper() == request_id
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize(
    "answer", [{"MessageId": "500000000001"}, {"MessageIds": {"MessageId": ["500000000001", "500000000002"]}}]
)
def test_a_remembered_answer_is_a_copy(answer: dict[str, object]) -> None:
    """What ``remember`` keeps (copied shallowly for a Push, deeply for a MassPush) is untouched when the
    answer handed out, or a replay of it, is changed afterwards."""
    import copy

    from pushfn.emulator.auth import Credential
    from pushfn.emulator.state import EmulatorState

    state = EmulatorState({"id": Credential("secret")}, [1], clock=lambda: 1000.0)
    first = copy.deepcopy(answer)
    state.remember(1, "Push", "token", answer, 1000.0)
    for value in answer.values():
        if isinstance(value, dict):
            value["MessageId"].append("changed")
    answer.clear()
    replay = state.replay(1, "Push", "token", 1001.0)
    assert replay == first
    for value in replay.values():
        if isinstance(value, dict):
            value["MessageId"].append("changed")
    replay["MessageId"] = "changed"
    assert state.replay(1, "Push", "token", 1002.0) == first


_TIMES = ["2026-11-30T15:27:53Z", "2026-11-30T15:27:54Z", "2026-11-30T15:27:53", "2026-02-30T15:27:53Z", "", "x"]


@given(st.lists(st.sampled_from(_TIMES), max_size=10), st.sampled_from([1796052473.0, 1796052473.0 + 901]))
def test_a_time_text_read_again_is_judged_as_a_fresh_one(texts: list[str], now: float) -> None:
    """A repeated Timestamp is read once: each verdict (accepted, Format, Expired) is a fresh reader's."""
    from pushfn.emulator.auth import Authenticator

    def verdict(reader: Authenticator, text: str) -> str:
        try:
            reader._check_time(text, "Timestamp", now)
        except ApiError as error:
            return error.code
        return "ok"

    reader = Authenticator({})
    for text in texts:
        assert verdict(reader, text) == verdict(Authenticator({}), text)


_HEADER_VALUES = st.text(st.sampled_from(["a", " ", "é", "\udcff", "\u2028", "漢"]), max_size=6)


@given(st.dictionaries(st.sampled_from(["Host", "X-A", "x-b", "User-Agent", "X-C"]), _HEADER_VALUES, max_size=5))
def test_header_values_are_refused_exactly_when_one_is_not_utf8(headers: dict[str, str]) -> None:
    """The all-ASCII shortcut changes nothing: a request is refused iff a value cannot be UTF-8 (a lone
    surrogate, how aiohttp hands over bytes that are not UTF-8), and the refusal names those headers."""
    from pushfn.emulator.wire import WireRequest

    bad = sorted(name.lower() for name, value in headers.items() if "\udcff" in value)
    try:
        request = WireRequest.parse("post", "Action=Push", headers, b"")
    except ApiError as error:
        assert bad and error.code == "InvalidParameter.Encoding"
        assert error.message == f"Header values must be UTF-8: {', '.join(bad)}."
    else:
        assert not bad
        assert request.headers == {name.lower(): value for name, value in headers.items()}
        assert request.params == {"Action": "Push"} and request.method == "POST" and not request.is_v3


def test_every_name_the_field_rules_read_is_listed() -> None:
    """``FIELD_CHECKED`` names every parameter ``_check_fields`` and its helpers spell out: a rule added
    there for a new name without listing it would be skipped for pushes naming nothing else."""
    import ast
    import inspect

    from pushfn.emulator import rules

    spelled = set()
    for function in (rules._check_fields, rules._check_android_display, rules._check_harmony_display):
        for node in ast.walk(ast.parse(inspect.getsource(function))):
            if isinstance(node, ast.Constant) and node.value in rules.PUSH_FIELDS | {"ExtParameters"}:
                spelled.add(node.value)
    assert spelled and spelled <= rules.FIELD_CHECKED


@given(st.dictionaries(st.sampled_from(sorted(PUSH_FIELDS - FIELD_CHECKED)), st.text(max_size=8), max_size=6))
def test_the_field_rules_pass_a_push_naming_none_of_their_fields(values: dict[str, str]) -> None:
    """Whatever the values of names outside ``FIELD_CHECKED``, ``_check_fields`` passes: skipping it changes nothing."""
    _check_fields(Params(values))


@given(
    st.dictionaries(
        st.sampled_from(["Title", "Body", "AndroidMusic", "AndroidOpenUrl", "iOSMusic", "HarmonyUri", "Other"]),
        st.sampled_from(["", "x" * 600, "é" * 300, "中" * 200, "😀" * 150]),
    ),
    st.sampled_from(["ANDROID", "iOS", "HARMONY", "ALL"]),
    st.sampled_from(["NOTICE", "MESSAGE"]),
)
def test_content_budget_counts_utf8_bytes_of_the_named_fields(values: dict, device_type: str, push_type: str) -> None:
    """The 1,800-byte content rule counts the UTF-8 bytes of its platform's fields, as ``_bytes`` does each."""
    from pushfn.emulator.rules import MAX_CONTENT_BYTES, MESSAGE_CONTENT, NOTICE_CONTENT, _bytes, _check_content

    values = {"Title": "t", "Body": "b", **values}
    platforms = ("ANDROID", "iOS", "HARMONY") if device_type == "ALL" else (device_type,)
    sizes = [
        sum(_bytes(values.get(f)) for f in (MESSAGE_CONTENT if push_type == "MESSAGE" else NOTICE_CONTENT[platform]))
        for platform in platforms
    ]
    over = next((size for size in sizes if size > MAX_CONTENT_BYTES), None)
    try:
        _check_content(Params(values), device_type, push_type)
    except ApiError as error:
        assert error.code in ("InvalidBody.BytesExceed", "InvalidTitle.BytesExceed", "MissingTitle", "MissingBody")
        if error.code == "InvalidBody.BytesExceed":
            assert f" is {over} bytes;" in error.message
    else:
        assert over is None
