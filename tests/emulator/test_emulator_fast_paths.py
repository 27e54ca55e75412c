"""The emulator's per-request shortcuts give exactly what the plain helpers give (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushfn.emulator.auth import CACHED_ENCODING_CHARS, canonical_query_v2
from pushfn.push import signing

# Any text the query can carry once decoded (no lone surrogates: parse_form refuses them), short and long.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.text(
    "a b:%", min_size=CACHED_ENCODING_CHARS - 2, max_size=CACHED_ENCODING_CHARS + 3
)


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
