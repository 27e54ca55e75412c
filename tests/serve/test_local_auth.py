"""The local webhook secret and API key: made once, kept (0600) in the data folder, strong or refused."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest

from pushfn.http.settings import HttpSettings, hash_api_key
from pushfn.serve.local_auth import FILE_NAME, LocalAuthError, load_or_create
from pushfn.settings import Settings


def test_made_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path / "data")
    assert first.created and first.path == tmp_path / "data" / FILE_NAME
    assert first.path.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(first.webhook_secret[6:])) == 32 and first.webhook_secret.startswith("whsec_")
    second = load_or_create(tmp_path / "data")
    assert not second.created
    assert (second.webhook_secret, second.api_key, second.tenant) == (first.webhook_secret, first.api_key, "local")
    assert first.webhook_secret not in repr(first) and first.api_key not in repr(first)


def test_the_http_function_accepts_them(tmp_path: Path) -> None:
    auth = load_or_create(tmp_path)
    settings = Settings(
        pushfn_webhook_secrets=auth.webhook_secret, pushfn_api_keys=f"{auth.tenant}:{hash_api_key(auth.api_key)}"
    )
    http = HttpSettings.from_settings(settings)  # raises for a weak or malformed secret or key
    assert http.webhook_secrets and http.api_keys


def test_starts_at_once_share_one_pair(tmp_path: Path) -> None:
    results = []
    threads = [threading.Thread(target=lambda: results.append(load_or_create(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8  # none read the file half-written
    assert len({(r.webhook_secret, r.api_key) for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["serve-auth.json"]  # no draft left behind


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "must hold a JSON object"),
        (json.dumps({"webhook_secret": "whsec_c2hvcnQ=", "api_key": "k" * 30}).encode(), "webhook_secret must be"),
        (json.dumps({"webhook_secret": "whsec_!!!notbase64", "api_key": "k" * 30}).encode(), "webhook_secret"),
        (json.dumps({"webhook_secret": "s" * 30, "api_key": "short"}).encode(), "api_key must be"),
        (json.dumps({"webhook_secret": "s" * 30, "api_key": "k" * 30, "tenant": "a b"}).encode(), "tenant"),
    ],
)
def test_a_weak_or_broken_file_is_refused(tmp_path: Path, content: bytes, says: str) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    with pytest.raises(LocalAuthError) as caught:
        load_or_create(tmp_path)
    assert says in str(caught.value) and str(tmp_path) in str(caught.value)
    assert "c2hvcnQ" not in str(caught.value)  # never the value


def test_an_unreadable_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LocalAuthError, match="the data folder cannot be created"):
        load_or_create(blocker / "data")
