"""Masking regressions found by review 2: secrets and device ids that reached log lines unmasked."""

from __future__ import annotations

import pytest

from pushfn.logs import scrub, scrub_text

DEVICE = "e2ba19de97604f55b165576736477b74"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # A device id after a percent-encoded separator (a logged URL or query string).
        (f"TargetValue=abc%2C{DEVICE}", DEVICE),
        (f"TargetValue={DEVICE}%2C{DEVICE.upper()}", DEVICE.upper()),
        # A device id after an escape sequence: a JSON key or name with a control character or a lone
        # surrogate before it, as a field problem shows it (the escape's letters and digits joined the run).
        (f"unknown parameter '\\t{DEVICE}'", DEVICE),
        (f"body.\\x00{DEVICE}: duplicate_key", DEVICE),
        (f"\\u2028{DEVICE}: unknown_field", DEVICE),
        (f"payload.\\ud800{DEVICE}: text", DEVICE),
        (f"\\U0001f600{DEVICE}", DEVICE),
        # pushfn serve's local API key in free text.
        ("api key pfk_6m9W1HEZHHZst8zURa3JFd3qKzbGm8LhiOzXD6cE3Ws rejected", "HEZHHZst8zURa3JFd3qKzbGm8"),
        # A webhook secret in URL-safe base64: the part after the first '-' or '_' stayed visible.
        ("whsec_geBd-Y71Wk2_CevffrYIXF3x9GF4CtxlVp5hWa7ohBb4A", "CevffrYIXF3x9GF4CtxlVp5hWa7ohBb4A"),
        # Other Authorization schemes than Bearer: the scheme was masked, the credentials left.
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("authorization=ACS3-HMAC-SHA256 Credential=LTAI5t,Signature=0a1b2c3d4e5f", "0a1b2c3d4e5f"),
        # A password in a URL (an idempotency store or endpoint URL in an error message).
        ("cannot reach redis://pushfn:p4ssw0rd-Very-Long@cache:6379/0", "p4ssw0rd-Very-Long"),
        ("https://user:hunter2hunter2@example.com/x", "hunter2hunter2"),
        # A bare token= pair.
        ("token=abc.def.ghi.jkl", "abc.def.ghi.jkl"),
        ("Cookie: session=abcdef1234567890", "abcdef1234567890"),
    ],
)
def test_text_is_scrubbed(text: str, secret: str) -> None:
    assert secret not in scrub_text(text)


def test_structured_cookies_are_masked() -> None:
    entry = scrub({"headers": {"Cookie": "session=abcdef1234567890", "Set-Cookie": "id=zzzzzzzzzzzz"}})
    assert "abcdef1234567890" not in str(entry) and "zzzzzzzzzzzz" not in str(entry)


@pytest.mark.parametrize(
    "text",
    [
        "IdempotentToken=6a5e21ac-503c-40b7-8b66-3389ae84b090",  # not a secret: a retry's correlation
        "POST /push 202 in 12 ms",
        "https://example.com/path?x=1",
        "object name 'a:b@c' is fine",
    ],
)
def test_what_is_not_secret_stays_readable(text: str) -> None:
    assert scrub_text(text) == text


@pytest.mark.parametrize("cut", [40, 50, 64, 70])
def test_shorten_masks_a_device_id_before_cutting_it(cut: int) -> None:
    from pushfn.masking import shorten

    for prefix in range(0, cut):
        shown = shorten("x" * prefix + "-" + DEVICE + "-tail" * 20, cut, "...")
        assert len(shown) <= cut and DEVICE[:5] not in shown
    assert shorten("short", 40) == "short" and shorten(DEVICE, 40) == DEVICE  # nothing cut: left to the log


@pytest.mark.parametrize("cut", [40, 64, 200])
def test_an_id_cut_at_the_masked_prefix_does_not_slide_inside_the_limit(cut: int) -> None:
    # Only limit + 64 characters are masked; masking the ids before that point shortens them, so a
    # fragment of the id the prefix cut through could move inside the limit, unmasked.
    from pushfn.masking import scrub_cut, shorten

    last = "f" * 8 + DEVICE[8:]
    for ids in range(0, cut // 32 + 4):
        for gap in range(0, 33):
            text = " ".join([DEVICE] * ids) + " " + "-" * gap + last + " tail" * 60  # always cut
            for shown in (shorten(text, cut, "..."), scrub_cut(text, cut)):
                assert len(shown) <= cut and last[8:16] not in shown
