"""fit_key / fit_name: any identifier a platform hands us becomes a usable key, deterministically;
scoped_key: what a store is given fits the tightest store's key limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pushfn.idempotency.keys import (
    ITEM_SUFFIX_RESERVE,
    MAX_KEY_LENGTH,
    MAX_STORED_KEY_BYTES,
    fit_key,
    fit_name,
    scoped_key,
    split_scoped_key,
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


# --- the stored key fits every store ------------------------------------------------------------

_NAME = st.text(
    st.characters(blacklist_characters="#", blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=128
).filter(lambda s: s.strip() and s.isprintable())
_KEY = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=255).filter(
    lambda s: s.strip() and s.isprintable()
)


@given(_NAME, _NAME, _KEY)
def test_a_scoped_key_never_exceeds_the_tightest_store_limit(function_name, scope, key):
    stored = scoped_key(function_name, scope, key)
    assert len(stored.encode("utf-8")) <= MAX_STORED_KEY_BYTES
    assert stored == scoped_key(function_name, scope, key)  # the same key finds the same record
    assert split_scoped_key(stored)  # and reads back as a scoped key (pushfn store show)
    readable = f"{function_name}#{scope}#{key}"
    if len(readable.encode("utf-8")) <= MAX_STORED_KEY_BYTES:
        assert stored == readable  # an ordinary key is stored as it reads


def stored_digest(stored: str) -> str:
    return stored.split("#", 1)[1]


def test_the_longest_keys_are_stored_under_their_digest_and_stay_distinct():
    emoji_key = "\U0001f600" * MAX_KEY_LENGTH  # 1,020 UTF-8 bytes on its own
    stored = scoped_key("http_push", "tenant-a", emoji_key)
    assert stored.startswith("http_push#tenant-a#sha256:") and len(stored.encode()) < MAX_STORED_KEY_BYTES
    assert scoped_key("http_push", "tenant-a", emoji_key[:-1] + "x") != stored
    wide_scope = "\u00e9" * 128  # 256 bytes: with the emoji key, the scope stays, the key is hashed
    assert scoped_key("http_push", wide_scope, emoji_key).startswith(f"http_push#{wide_scope}#sha256:")
    widest = scoped_key("\U0001f600" * 128, "\U0001f600" * 128, emoji_key)  # key and scope are hashed
    assert widest == "\U0001f600" * 128 + "#" + stored_digest(widest)
    assert widest.count("sha256:") == 2 and len(widest.encode()) == 512 + 2 * 71 + 2
    assert scoped_key("http_push", "tenant-a", "order-42") == "http_push#tenant-a#order-42"
