"""Every vector in the team's reference (copied to tests/fixtures) must reproduce exactly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushfn.push import signing

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "signature_vectors.json").read_text())
V2 = [v for v in VECTORS if v["algorithm"].startswith("HMAC-SHA1")]
V3 = [v for v in VECTORS if v["algorithm"].startswith("ACS3")]


def test_fixture_holds_all_ten_vectors() -> None:
    assert len(V2) == 6 and len(V3) == 4


@pytest.mark.parametrize("vector", V2, ids=[v["id"] for v in V2])
def test_v2_vectors(vector: dict) -> None:
    assert signing.rpc_string_to_sign(vector["method"], vector["params"]) == vector["string_to_sign"]
    assert signing.sign_rpc_v2(vector["method"], vector["params"], vector["secret"]) == vector["expected_signature"]


@pytest.mark.parametrize("vector", V3, ids=[v["id"] for v in V3])
def test_v3_vectors(vector: dict) -> None:
    body = vector["body"].encode()
    assert signing.sha256_hex(body) == vector["headers"]["x-acs-content-sha256"]
    canonical, signed = signing.canonical_request_v3(
        vector["method"],
        vector["query"],
        vector["headers"],
        signing.sha256_hex(body),
        signed_header_names=list(vector["headers"]),
    )
    assert canonical == vector["canonical_request"]
    assert signing.v3_string_to_sign(canonical) == vector["string_to_sign"]
    signature = signing.sign_v3(vector["secret"], canonical)
    assert signature == vector["expected_signature"]
    assert signing.v3_authorization(vector["access_key_id"], signed, signature) == vector["authorization"]
    parsed = signing.parse_v3_authorization(vector["authorization"])
    assert parsed is not None and parsed.signature == signature and ";".join(parsed.signed_headers) == signed


def test_v3_default_signed_headers_are_the_documented_minimum() -> None:
    headers = {"Host": "h", "Accept": "x", "x-acs-date": "d", "Content-Type": "c", "User-Agent": "u"}
    assert signing.default_signed_header_names(headers) == ["content-type", "host", "x-acs-date"]


def test_method_is_signed() -> None:
    params = {"A": "1"}
    assert signing.sign_rpc_v2("GET", params, "s") != signing.sign_rpc_v2("POST", params, "s")


def test_percent_encoding_rules() -> None:
    assert signing.percent_encode("a b*c~d/e+f") == "a%20b%2Ac~d%2Fe%2Bf"


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec="utf-8")))
def test_percent_encoding_is_quote_with_tilde_safe(value: str) -> None:
    from urllib.parse import quote

    assert signing.percent_encode(value) == quote(value, safe="~")


def test_percent_encoding_refuses_a_lone_surrogate_as_quote_does() -> None:
    with pytest.raises(UnicodeEncodeError):
        signing.percent_encode("a\ud800")


@pytest.mark.parametrize("bad", ["", "HMAC foo", "ACS3-HMAC-SHA256 Credential=a", "ACS3-HMAC-SHA256 junk"])
def test_parse_rejects_malformed_authorization(bad: str) -> None:
    assert signing.parse_v3_authorization(bad) is None


# --- the table of remembered encodings -----------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_TEXT, _TEXT, max_size=8), st.integers(min_value=1, max_value=3))
def test_encode_pairs_is_percent_encode_however_often_a_text_was_seen(params, repeats):
    # The second and later sightings come from the table: they must be what encoding gives.
    expected = [(signing.percent_encode(k), signing.percent_encode(v)) for k, v in params.items()]
    for _ in range(repeats):
        assert signing.encode_pairs(params) == expected


def test_remembered_encodings_stay_bounded_and_one_off_texts_are_not_kept():
    before = dict(signing._ENCODED)
    try:
        for n in range(10_000):  # like nonces: every text new
            signing.encode_pairs({"SignatureNonce": f"{n:032x}"})
        assert not any(key.startswith("0000") for key in signing._ENCODED)
        assert len(signing._SEEN_ONCE) <= signing._SEEN_ONCE_MAX_ENTRIES
        for n in range(2_000):  # every text twice: kept, the table emptied whenever it is full
            for _ in range(2):
                signing.encode_pairs({"Title": f"title {n}"})
            assert f"title {n}" in signing._ENCODED  # seen twice: remembered, however full the table was
            assert len(signing._ENCODED) <= signing._ENCODED_MAX_ENTRIES
        # The newest repeated texts are remembered, not only the first 512 ever seen (a long-running
        # process sees a new Timestamp every second: a table that kept its first entries went stale).
        assert "title 1999" in signing._ENCODED and "title 0" not in signing._ENCODED
        assert signing.encode_pairs({"Title": "title 1999 é"}) == [("Title", "title%201999%20%C3%A9")]
    finally:
        signing._ENCODED.clear()
        signing._ENCODED.update(before)
        signing._SEEN_ONCE.clear()


def test_a_lone_surrogate_still_raises_when_its_text_was_seen_before():
    for _ in range(3):
        with pytest.raises(UnicodeEncodeError):
            signing.encode_pairs({"Title": "a\ud800"})


@given(st.binary(max_size=64))
def test_base64_text_is_encoded_as_percent_encode_encodes_it(raw: bytes) -> None:
    text = base64.b64encode(raw).decode("ascii")
    assert signing.encode_base64(text) == signing.percent_encode(text)
