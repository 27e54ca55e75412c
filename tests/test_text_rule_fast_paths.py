"""The shortcuts the text rules take for ASCII give what the full rules give.

``text_problem`` (every string parameter of a push) and ``is_blank`` (every target name) decide ASCII
text at once; these properties hold them to the rules' definitions on generated text, ASCII and not.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pushfn.identifiers import is_blank
from pushfn.json_input import MAX_STRING_CHARS
from pushfn.push.models.rules import text_problem

_ASCII = st.characters(max_codepoint=0x7F)
_ANY = st.characters(blacklist_categories=())  # surrogates included


@given(st.text(_ASCII, max_size=40) | st.text(_ANY, max_size=40))
def test_text_problem_names_the_first_rule_broken(value: str) -> None:
    problem = text_problem(value)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        assert problem is not None and problem[0] == "text"
    elif any((ord(ch) < 0x20 and ch not in "\t\n\r") or ch == "\x7f" for ch in value):  # tab, LF, CR allowed
        assert problem is not None and problem[0] == "control_character"
    else:
        assert problem is None


@given(st.sampled_from(["a", "é", "\x01"]), st.integers(0, 3))
def test_text_problem_refuses_text_over_the_length_limit_first(char: str, extra: int) -> None:
    assert text_problem(char * (MAX_STRING_CHARS + 1 + extra))[0] == "max_length"
    at_limit = text_problem(char * MAX_STRING_CHARS)
    assert at_limit is None if char != "\x01" else at_limit[0] == "control_character"


@given(
    st.text(st.sampled_from(" \t\n\r\x0b\x0c\u00a0\u200b\ufeff\u2060\u200ex."), max_size=8) | st.text(_ANY, max_size=8)
)
def test_is_blank_is_only_whitespace_and_format_characters(text: str) -> None:
    assert is_blank(text) is all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)
