"""fit_key / fit_name: any identifier a platform hands us becomes a usable key, deterministically."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pushfn.idempotency.keys import (
    ITEM_SUFFIX_RESERVE,
    MAX_KEY_LENGTH,
    fit_key,
    fit_name,
    validate_key,
    validate_name,
)


def test_a_valid_key_is_kept_as_it_is():
    assert fit_key("0A8B7C6D-1234") == "0A8B7C6D-1234"
    assert fit_key("x" * (MAX_KEY_LENGTH - ITEM_SUFFIX_RESERVE)) == "x" * (MAX_KEY_LENGTH - ITEM_SUFFIX_RESERVE)
    assert fit_name("arn:aws:sqs:us-east-1:123:q") == "arn:aws:sqs:us-east-1:123:q"


def test_ids_that_are_no_valid_key_become_their_digest():
    for raw in ["m\n1", "m\x01", "\u2028", "m\u0085", "x" * 241, "\ud800"]:
        fitted = fit_key(raw)
        assert fitted.startswith("sha256:") and len(fitted) == 71
    assert fit_key("m\n1") != fit_key("m\n2")
    assert fit_name("a#b").startswith("sha256:")


@given(st.text())
def test_any_text_fits_with_room_for_an_item_suffix(raw):
    fitted = fit_key(raw)
    assert fitted == fit_key(raw)  # deterministic: a redelivery gets the same key
    validate_key(fitted + "#" + "9" * (ITEM_SUFFIX_RESERVE - 1))
    validate_name(fit_name(raw), "scope")
