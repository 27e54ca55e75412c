"""Issue 13 item 19: a record another program (or a hand edit) left unusable is a store problem.

Real SQLite files, rows written with plain ``sqlite3``: a COMPLETED record whose result is missing,
not JSON, or JSON that is not an object makes the guard raise :class:`IdempotencyCorruptRecordError`
(an :class:`IdempotencyStoreError`, HTTP 503) — never a ``KeyError``/``TypeError`` (HTTP 500), and never
a second push.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pushfn.idempotency import IdempotencyGuard, IdempotencyStoreError, store_from_url
from pushfn.idempotency.exceptions import IdempotencyCorruptRecordError

NOW = 1_800_000_000.0


def _guard(tmp_path: Path) -> tuple[IdempotencyGuard, Path]:
    db = tmp_path / "idempotency.db"
    store = store_from_url(f"sqlite:///{db}")
    store.init()
    return IdempotencyGuard(store, function_name="http_push", clock=lambda: NOW), db


def _write(db: Path, *, status: str = "COMPLETED", result: object = None, token: str | None = None) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO idempotency (id, status, expiry, in_progress_expiry, payload_hash, token, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                "http_push#tenant-a#order-42",
                status,
                int(NOW) + 3600,
                None if status == "COMPLETED" else int(NOW * 1000) - 1,
                _hash(),
                "5b7c1f2e-0000-4000-8000-000000000001" if token is None else token,
                result,
            ),
        )


def _hash() -> str:
    from pushfn.idempotency import payload_hash

    return payload_hash({"title": "hi"})


@pytest.mark.parametrize(
    "stored",
    [
        None,  # COMPLETED without a result
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "true",
        "not json at all",
        '{"unterminated": ',
        '{"a": 1, "a": 2}',  # duplicate keys: refused like every JSON input
        "[" * 5000 + "]" * 5000,  # deeper than any JSON input may be
        b"\xff\xfe binary",  # a BLOB, not text
        7,  # an INTEGER in the TEXT column (SQLite is dynamically typed)
    ],
)
def test_completed_record_with_an_unusable_result_is_a_store_error(tmp_path: Path, stored: object) -> None:
    guard, db = _guard(tmp_path)
    _write(db, result=stored)
    calls: list[str] = []
    with pytest.raises(IdempotencyCorruptRecordError) as info:
        guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=lambda t: calls.append(t))
    assert isinstance(info.value, IdempotencyStoreError)
    assert calls == []


def test_a_result_object_is_replayed(tmp_path: Path) -> None:
    guard, db = _guard(tmp_path)
    _write(db, result='{"status": 202, "body": {"messageId": "m-1"}}')
    outcome = guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=lambda t: {})
    assert outcome.replayed and outcome.result == {"status": 202, "body": {"messageId": "m-1"}}


@pytest.mark.parametrize("status", ["DONE", "", "completed"])
def test_an_unknown_status_is_a_store_error(tmp_path: Path, status: str) -> None:
    guard, db = _guard(tmp_path)
    _write(db, status=status, result="{}")
    with pytest.raises(IdempotencyStoreError):
        guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=lambda t: {"x": 1})


@pytest.mark.parametrize("token", ["", "not-a-uuid", "868f2620-c9b1-56f2-9c13-d3a725efd3d3-extra"])
def test_a_stale_record_without_a_usable_token_is_a_store_error(tmp_path: Path, token: str) -> None:
    guard, db = _guard(tmp_path)
    _write(db, status="IN_PROGRESS", token=token)
    calls: list[str] = []
    with pytest.raises(IdempotencyCorruptRecordError):
        guard.run("order-42", scope="tenant-a", payload={"title": "hi"}, operation=lambda t: calls.append(t))
    assert calls == []
