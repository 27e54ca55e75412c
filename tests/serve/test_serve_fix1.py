"""``pushfn serve``: the kept API key it prints, the kept file's mode, the invocation line (fix1)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from pushfn.cli import main
from pushfn.http.settings import hash_api_key
from pushfn.serve.local_auth import FILE_NAME, LocalAuthError, load_or_create
from pushfn.settings import Settings


def test_print_api_key_prints_the_key_the_http_function_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUSHFN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PUSHFN_API_KEYS", raising=False)
    assert main(["serve", "--print-api-key"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == load_or_create(tmp_path / "data").api_key


@pytest.mark.parametrize("variable", ["PUSHFN_API_KEYS", "PUSHFN_API_KEYS_REF"])
def test_print_api_key_says_the_configured_keys_replace_the_stored_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    # It printed the stored key although PUSHFN_API_KEYS replaces it: the README tour's curl got a 401.
    monkeypatch.setenv("PUSHFN_DATA_DIR", str(tmp_path / "data"))
    stored = load_or_create(tmp_path / "data").api_key
    value = f"team:{hash_api_key('pfk_' + 'x' * 40)}" if variable == "PUSHFN_API_KEYS" else "ssm:/team/api-keys"
    monkeypatch.setenv(variable, value)
    assert main(["serve", "--print-api-key"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and stored not in err
    assert f"{variable} is set" in err and "not the locally stored one" in err


def test_print_api_key_with_auth_off_says_no_key_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUSHFN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PUSHFN_API_KEYS", raising=False)
    monkeypatch.setenv("PUSHFN_HTTP_AUTH", "none")
    assert main(["serve", "--print-api-key"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "PUSHFN_HTTP_AUTH=none" in err


def test_the_banner_names_the_configured_keys_not_the_stored_one(tmp_path: Path) -> None:
    from pushfn.jobs import fanout
    from pushfn.serve.cli import banner
    from pushfn.serve.server import Serve, ServeOptions

    keys = f"team:{hash_api_key('pfk_' + 'x' * 40)}"
    base = Settings(pushfn_data_dir=str(tmp_path / "data"), pushfn_api_keys=keys)
    options = ServeOptions(http_port=0, emulator_port=0, bucket_dir=tmp_path / "bucket")
    serve = Serve(options, base, io.StringIO()).start()
    try:
        text = banner(serve)
    finally:
        serve.stop()
        fanout.use_local_queue(None)
    assert serve.auth.api_key not in text
    assert "API key         yours (PUSHFN_API_KEYS; the stored one is not accepted)" in text
    assert "Bearer <one of your keys>" in text


def test_a_kept_file_others_can_read_is_warned_about_and_made_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_or_create(tmp_path)
    first.path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="pushfn.serve"):
        again = load_or_create(tmp_path)
    assert again.api_key == first.api_key
    assert first.path.stat().st_mode & 0o777 == 0o600
    [record] = [r for r in caplog.records if "readable by others" in r.getMessage()]
    assert "0644" in record.getMessage() and str(first.path) in record.getMessage()
    assert first.api_key not in caplog.text and first.webhook_secret not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pushfn.serve"):
        load_or_create(tmp_path)
    assert "readable by others" not in caplog.text  # once fixed, quiet


def test_a_kept_file_whose_mode_cannot_be_fixed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FAKE: chmod refused (a file owned by another user); no portable way to make a real one in a test.
    first = load_or_create(tmp_path)
    first.path.chmod(0o604)

    def refuse(self: Path, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    with pytest.raises(LocalAuthError) as caught:
        load_or_create(tmp_path)
    assert "readable by others (mode 0604)" in str(caught.value) and FILE_NAME in str(caught.value)
    assert first.api_key not in str(caught.value)


def test_a_signed_webhooks_invocation_line_keeps_the_columns_of_the_readme(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The line was padded, then masked (the webhook id's 32 hex digits as a device id's): the key column
    # shrank and the outcome and MessageId columns moved left.
    import json

    import requests

    from pushfn.jobs import fanout
    from pushfn.serve.server import DEMO_PUSH, Serve, ServeOptions, webhook_headers

    base = Settings(pushfn_data_dir=str(tmp_path / "data"))
    options = ServeOptions(http_port=0, emulator_port=0, bucket_dir=tmp_path / "bucket")
    serve = Serve(options, base, io.StringIO()).start()
    body = json.dumps(DEMO_PUSH).encode()
    ident = "msg_" + "0123456789abcdef" * 2
    try:
        with caplog.at_level(logging.INFO, logger="pushfn.serve"), requests.Session() as session:
            session.trust_env = False
            for headers in (
                {"Authorization": f"Bearer {serve.auth.api_key}"},
                webhook_headers(serve.auth.webhook_secret, body, webhook_id=ident),
            ):
                answer = session.post(
                    f"{serve.http.url}/push", data=body, headers={"Content-Type": "application/json", **headers}
                )
                assert answer.status_code == 202, answer.text
    finally:
        serve.stop()
        fanout.use_local_queue(None)
    lines = [r.getMessage() for r in caplog.records if getattr(r, "fields", {}).get("event") == "serve.invocation"]
    records = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "serve.invocation"]
    assert len(lines) == 2
    # The README's example: `http_push      http     POST /push                     202        MessageId …`
    assert lines[0].startswith("http_push      http     POST /push                     202        MessageId ")
    assert lines[1].startswith("http_push      http     POST /push msg_0123…(32)       202        MessageId ")
    assert lines[0].index("MessageId") == lines[1].index("MessageId") == 66
    assert records[1].fields["key"] == "POST /push msg_0123…(32)"  # the JSON form: the whole key, masked
    assert ident not in caplog.text


def test_the_key_column_is_one_line_and_fixed_width() -> None:
    from pushfn.serve.invocations import KEY_COLUMN, column_key

    assert column_key("morning#2026-11-30T10:01:16Z") == "morning#2026-11-30T10:01:16Z"
    assert column_key("a\nb\x1b[31m") == "a?b?[31m"
    long = "reports/2026/" + "x" * 80 + "#chunk-0007"
    shown = column_key(long)
    assert len(shown) == KEY_COLUMN and shown.endswith("#chunk-0007") and "…" in shown
