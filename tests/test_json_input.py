"""The one JSON entry point: every rule at its limit and just past it, and arbitrary input never escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushfn.json_input import (
    MAX_DEPTH,
    MAX_INT,
    MAX_STRING_CHARS,
    MIN_INT,
    JsonInputError,
    check_json_value,
    decode_json,
)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_plain_documents_decode_from_bytes_and_text():
    assert decode_json(b'{"a": [1, 2.5, "x", true, null]}') == {"a": [1, 2.5, "x", True, None]}
    assert decode_json('"text"') == "text"


@pytest.mark.parametrize("data", [b'\xef\xbb\xbf{"a": 1}', '\ufeff{"a": 1}'])
def test_a_leading_bom_is_dropped(data):
    assert decode_json(data) == {"a": 1}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"\xff{}", "encoding"),
        (b'{"a": "\xc3"}', "encoding"),
        (b"{", "json"),
        (b"", "json"),
        (b"NaN", "json"),
        (b'{"a": -Infinity}', "json"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'"\\ud800"', "text"),
        (b'{"\\udfff": 1}', "text"),
        (b"1e999", "number"),
        (b"-1e400", "number"),
        (b"9" * 5000, "number"),
        (str(MAX_INT + 1).encode(), "number"),
        (str(MIN_INT - 1).encode(), "number"),
    ],
)
def test_each_rule_is_named(data, rule):
    with pytest.raises(JsonInputError) as caught:
        decode_json(data)
    assert caught.value.rule == rule
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("data", "path", "rule"),
    [
        (b'{"iOSBadge": ' + b"9" * 5000 + b"}", "iOSBadge", "number"),
        (b'{"a": {"b": [1, 1e999]}}', "a.b.2", "number"),
        (b'{"PushTask": [{}, {"iOSBadge": -' + b"9" * 20 + b"}]}", "PushTask.2.iOSBadge", "number"),
        (b"[true, NaN]", "2", "json"),
        (b'{"Title": Infinity}', "Title", "json"),
        (b'{"a": {"k": 1, "k": 2}}', "a.k", "duplicate_key"),
        (rb'{"k\u0000": 1, "k\u0000": 2}', "k\\x00", "duplicate_key"),  # keys in paths are made printable
        (b"1e999", "", "number"),
        (b'{"a": 1, "a": 2}', "a", "duplicate_key"),
    ],
)
def test_a_refused_number_constant_or_key_is_named_by_its_path(data, path, rule):
    """The parser's own refusals (issue 13 items 9-10: the error names the field) carry the path of the
    value, as every other rule does, not just the document's."""
    with pytest.raises(JsonInputError) as caught:
        decode_json(data)
    assert (caught.value.path, caught.value.rule) == (path, rule)


def test_integer_bounds_are_inclusive():
    assert decode_json(str(MAX_INT)) == MAX_INT
    assert decode_json(str(MIN_INT)) == MIN_INT


def test_depth_limit_is_exact():
    assert decode_json(_nested(MAX_DEPTH)) is not None
    with pytest.raises(JsonInputError) as caught:
        decode_json(_nested(MAX_DEPTH + 1))
    assert caught.value.rule == "depth"


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_very_deep_documents_are_refused_without_recursion_error(depth):
    with pytest.raises(JsonInputError) as caught:
        decode_json('{"a":' * depth + "1" + "}" * depth)
    assert caught.value.rule == "depth"


def test_string_length_limit_is_exact():
    assert decode_json(json.dumps("x" * MAX_STRING_CHARS))
    with pytest.raises(JsonInputError) as caught:
        decode_json(json.dumps({"Body": "x" * (MAX_STRING_CHARS + 1)}))
    assert (caught.value.rule, caught.value.path) == ("max_length", "Body")


def test_the_path_names_the_offending_value():
    with pytest.raises(JsonInputError) as caught:
        decode_json('{"PushTask": [{"Title": "ok"}, {"Title": "\\ud83d"}]}')
    assert caught.value.path == "PushTask.2.Title"  # the second task: positions count from 1, as the API's
    assert "PushTask.2.Title" in str(caught.value)


def test_decoded_values_follow_the_same_rules():
    deep: list = []
    node = deep
    for _ in range(10_000):
        node.append([])
        node = node[0]
    for bad, rule in [(deep, "depth"), ({"a": 10**30}, "number"), ({"a": float("nan")}, "number"), ({1: 2}, "json")]:
        with pytest.raises(JsonInputError) as caught:
            check_json_value(bad)
        assert caught.value.rule == rule
    with pytest.raises(JsonInputError, match="not a JSON type"):
        check_json_value({"a": object()})
    value = {"a": [1, "b", None, {"c": 2.5}]}
    assert check_json_value(value) is value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_input_decodes_or_raises_json_input_error(data):
    try:
        value = decode_json(data)
    except JsonInputError as exc:
        assert exc.rule in {"encoding", "json", "duplicate_key", "depth", "max_length", "number", "text"}
    else:
        # Whatever decodes can be encoded again, as UTF-8, for signing.
        json.dumps(value, ensure_ascii=False).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(MIN_INT, MAX_INT)
        | st.floats(allow_nan=False, allow_infinity=False)
        # Surrogates are not Unicode text: the strategy's text is always encodable.
        | st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=20,
    )
)
def test_valid_json_round_trips(value):
    assert decode_json(json.dumps(value)) == value


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ('{"a": {"\\ud800": 1}}', "a.\\ud800"),
        ('{"a": {"b\\u0000c": "\\udc00"}}', "a.b\\x00c"),
        ('{"\\u00e9": {"x": "\\udc00"}}', "\u00e9.x"),
        ('{"' + "k" * 100 + '": "\\ud800"}', "k" * 61 + "..."),
    ],
)
def test_paths_are_safe_text_whatever_the_keys(document, path):
    with pytest.raises(JsonInputError) as caught:
        decode_json(document)
    assert caught.value.path == path
    str(caught.value).encode("utf-8")
