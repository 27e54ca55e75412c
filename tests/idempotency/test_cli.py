"""``pushfn store init`` / ``pushfn store show`` on a real SQLite file and on DynamoDB over moto."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pushfn.idempotency import IdempotencyGuard, store_from_url
from pushfn.idempotency.cli import main, register


def test_register_adds_store_commands_to_a_parent_parser() -> None:
    parser = argparse.ArgumentParser(prog="pushfn")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["store", "show", "k", "--function", "http_push", "--scope", "t"])
    assert (args.key, args.function_name, args.scope) == ("k", "http_push", "t")
    assert callable(args.run)


def test_init_twice_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/sub/dir/idempotency.db"
    assert main(["store", "--url", url, "init"]) == 0
    assert main(["store", "--url", url, "init"]) == 0
    assert (tmp_path / "sub/dir/idempotency.db").exists()

    guard = IdempotencyGuard(store_from_url(url), function_name="http_push")
    guard.run(
        "order-42",
        scope="tenant-a",
        operation=lambda token: {"MessageId": "m-1", "RequestId": "r-1", "DeviceId": "e2ba19de97604f55b1655767"},
    )
    capsys.readouterr()
    assert main(["store", "--url", url, "show", "order-42", "--function", "http_push", "--scope", "tenant-a"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["key"] == "http_push#tenant-a#order-42"
    assert shown["status"] == "COMPLETED"
    assert shown["idempotent_token"] == guard.idempotent_token("order-42", "tenant-a")
    assert shown["result"]["MessageId"] == "m-1"
    assert shown["result"]["DeviceId"] == "e2ba…(24)"  # masked
    assert shown["expiry"].endswith("+00:00") and shown["in_progress_expiry"] is None

    # The stored composite key, as an operator copies it from a log line, works too.
    assert main(["store", "--url", url, "show", "http_push#tenant-a#order-42"]) == 0


def test_show_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", f"sqlite:///{tmp_path}/idempotency.db")
    assert main(["store", "show", "missing", "--function", "http_push"]) == 1
    assert "no record" in capsys.readouterr().err
    assert main(["store", "show", "bad\nkey", "--function", "http_push"]) == 2
    assert main(["store", "show", "no-function-given"]) == 2
    assert main(["store", "show", "k", "--function", "a#b"]) == 2


def test_store_errors_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["store", "--url", f"sqlite:///{blocker}/x.db", "init"]) == 3
    assert "failed to init" in capsys.readouterr().err


def test_init_and_show_on_dynamodb(moto_server, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from idempotency_support import use_moto

    use_moto(monkeypatch, moto_server)
    url = "dynamodb://cli-table"
    assert main(["store", "--url", url, "init"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["store", "--url", url, "init"]) == 0
    assert "already existed" in capsys.readouterr().out
    store = store_from_url(url)
    ttl = store.client.describe_time_to_live(TableName="cli-table")["TimeToLiveDescription"]  # type: ignore[attr-defined]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    IdempotencyGuard(store, function_name="queue_push").run("m-1", operation=lambda t: {"MessageId": "x"})
    assert main(["store", "--url", url, "show", "m-1", "--function", "queue_push"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "COMPLETED"


def test_the_pushfn_command_has_the_store_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pushfn.cli import main as pushfn_main

    url = f"sqlite:///{tmp_path}/idempotency.db"
    assert pushfn_main(["store", "--url", url, "init"]) == 0
    assert pushfn_main(["store", "--url", url, "show", "nothing", "--function", "http_push"]) == 1
