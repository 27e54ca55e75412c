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
    # Before init there is no store file: that is said, not searched as an empty store.
    assert main(["store", "show", "missing", "--function", "http_push"]) == 3
    assert "no such store file" in capsys.readouterr().err
    assert main(["store", "init"]) == 0
    assert main(["store", "show", "missing", "--function", "http_push"]) == 1
    assert "no record" in capsys.readouterr().err
    assert main(["store", "show", "bad\nkey", "--function", "http_push"]) == 2
    # Issue 13 item 22: a plain key without --function is searched for (it used to be refused).
    assert main(["store", "show", "no-function-given"]) == 1
    assert main(["store", "show", "k", "--function", "a#b"]) == 2
    assert main(["store", "show", "k", "--scope", "a#b"]) == 2
    err = capsys.readouterr().err
    assert all(line.startswith("pushfn: ") for line in err.splitlines()) and "error:" not in err


def test_store_errors_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_sqlite = tmp_path / "x.db"
    not_sqlite.write_bytes(b"not a database, " * 512)
    assert main(["store", "--url", f"sqlite:///{not_sqlite}", "init"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("pushfn: ") and "failed to init" in err and err.count("\n") == 1


def test_a_url_below_a_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder that is a file is the URL's fault (exit 2, naming it), not a store failure (3)."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["store", "--url", f"sqlite:///{blocker}/x.db", "init"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pushfn: --url: ") and "is not a directory" in err and err.count("\n") == 1


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


# --- issue 13 item 22 --------------------------------------------------------------------------


def _lines(err: str) -> list[str]:
    lines = err.splitlines()
    assert lines and all(line.startswith("pushfn: ") for line in lines), err
    assert "error:" not in err and "Traceback" not in err
    return lines


@pytest.mark.parametrize(
    "url",
    [
        "bogus://x",
        "no-scheme",
        "dynamodb://",
        "dynamodb://a/b",
        "tablestore://only-instance",
        "sqlite://host/x.db",
        "sqlite:///x.db?mode=rw&cache=shared",
    ],
)
@pytest.mark.parametrize("command", [["init"], ["list"], ["show", "k", "--function", "http_push", "--scope", "s"]])
def test_bad_url_exits_2(url: str, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "--url", url, *command]) == 2
    assert len(_lines(capsys.readouterr().err)) == 1


def test_bad_url_from_the_environment_exits_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", "postgres://db/x")
    assert main(["store", "list"]) == 2
    line = _lines(capsys.readouterr().err)[0]
    assert "PUSHFN_IDEMPOTENCY_URL" in line and "postgres" in line
    assert main(["store", "--url", "postgres://db/x", "init"]) == 2
    assert "--url" in _lines(capsys.readouterr().err)[0]


@pytest.mark.parametrize("url", ["nope", "bogus://x", "sqlite:///:memory:", "sqlite:////dev/null"])
def test_a_bad_url_is_named_once_by_where_it_came_from(monkeypatch: pytest.MonkeyPatch, capsys, url: str) -> None:  # type: ignore[no-untyped-def]
    """The URL rules name PUSHFN_IDEMPOTENCY_URL themselves; the command said it again
    ("PUSHFN_IDEMPOTENCY_URL: PUSHFN_IDEMPOTENCY_URL: must look like…"), and named it for a --url too."""
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", url)
    assert main(["store", "list"]) == 2
    line = _lines(capsys.readouterr().err)[0]
    assert line.startswith("pushfn: PUSHFN_IDEMPOTENCY_URL: ") and line.count("PUSHFN_IDEMPOTENCY_URL") == 1
    monkeypatch.delenv("PUSHFN_IDEMPOTENCY_URL")
    assert main(["store", "--url", url, "show", "k1"]) == 2
    line = _lines(capsys.readouterr().err)[0]
    assert line.startswith("pushfn: --url: ") and "PUSHFN_IDEMPOTENCY_URL" not in line


def _fill(url: str) -> None:
    store = store_from_url(url)
    http = IdempotencyGuard(store, function_name="http_push")
    http.run("order-42", scope="tenant-a", operation=lambda t: {"MessageId": "a"})
    http.run("order-42", scope="tenant-b", operation=lambda t: {"MessageId": "b"})
    http.run("e2ba19de97604f55b165576736477b74", scope="tenant-a", operation=lambda t: {"MessageId": "c"})
    IdempotencyGuard(store, function_name="queue_push").run("m-1", scope="key", operation=lambda t: {"MessageId": "d"})


def test_show_plain_key_with_function_and_scope_defaults(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/s.db"
    _fill(url)
    capsys.readouterr()
    # No options: every function and scope is searched.
    assert main(["store", "--url", url, "show", "m-1"]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == "queue_push#key#m-1"
    # --function alone narrows to that function, any scope.
    assert main(["store", "--url", url, "show", "m-1", "--function", "queue_push"]) == 0
    assert main(["store", "--url", url, "show", "m-1", "--function", "http_push"]) == 1
    capsys.readouterr()
    # A key used by two scopes: refused, naming both, until --scope picks one.
    assert main(["store", "--url", url, "show", "order-42"]) == 2
    line = _lines(capsys.readouterr().err)[0]
    assert "http_push#tenant-a" in line and "http_push#tenant-b" in line and "--scope" in line
    assert main(["store", "--url", url, "show", "order-42", "--function", "http_push", "--scope", "tenant-b"]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["MessageId"] == "b"
    # --scope alone (no --function): every function, that scope.
    assert main(["store", "--url", url, "show", "order-42", "--scope", "tenant-a"]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == "http_push#tenant-a#order-42"
    # The stored composite key, pasted from a log line.
    assert main(["store", "--url", url, "show", "http_push#tenant-b#order-42"]) == 0
    # Not there: exit 1, one line, the key masked.
    capsys.readouterr()
    assert main(["store", "--url", url, "show", "order-4242424242"]) == 1
    line = _lines(capsys.readouterr().err)[0]
    assert "no record" in line and "order-4242424242" not in line


def test_show_help_says_which_keys_it_takes(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["store", "show", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "FUNCTION#SCOPE#KEY" in out and "--function" in out and "--scope" in out and "default: any" in out


def test_list_masks_keys_and_shows_status_and_expiry(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/l.db"
    assert main(["store", "--url", url, "init"]) == 0
    capsys.readouterr()
    assert main(["store", "--url", url, "list"]) == 0
    assert capsys.readouterr().out.split() == ["KEY", "STATUS", "EXPIRES", "(UTC)"]  # empty store: a header only
    _fill(url)
    assert main(["store", "--url", url, "list"]) == 0
    out = capsys.readouterr().out
    assert "e2ba19de97604f55b165576736477b74" not in out and "http_push#tenant-a#e2ba…(32)" in out
    assert out.count("COMPLETED") == 4 and "+00:00" in out
    assert main(["store", "--url", url, "list", "--json", "--function", "http_push", "--scope", "tenant-a"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["key"] for r in rows] == ["http_push#tenant-a#e2ba…(32)", "http_push#tenant-a#…(8)"]
    assert all(r["status"] == "COMPLETED" and r["expired"] is False for r in rows)
    assert main(["store", "--url", url, "list", "--json", "--limit", "1", "--full-keys"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["key"] for r in rows] == ["http_push#tenant-a#e2ba19de97604f55b165576736477b74"]
    # --scope alone, as show takes it: that scope in every function (it was refused: "needs --function").
    assert main(["store", "--url", url, "list", "--json", "--scope", "tenant-a", "--full-keys"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["key"] for r in rows] == [
        "http_push#tenant-a#e2ba19de97604f55b165576736477b74",
        "http_push#tenant-a#order-42",
    ]
    assert main(["store", "--url", url, "list", "--json", "--scope", "key"]) == 0
    assert [json.loads(line)["key"] for line in capsys.readouterr().out.splitlines()] == ["queue_push#key#…(3)"]
    assert main(["store", "--url", url, "list", "--json", "--scope", "tenant-a", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["store", "--url", url, "list", "--scope", "a#b"]) == 2  # a scope still follows the key rules
    assert "scope" in _lines(capsys.readouterr().err)[0]


def test_list_records_prefix_is_literal(tmp_path: Path) -> None:
    """``%`` and ``_`` in a prefix are characters, not SQL wildcards; memory and sqlite agree."""
    from pushfn.idempotency.record import IdempotencyRecord, RecordStatus

    for url in (f"sqlite:///{tmp_path}/p.db", "memory://"):
        store = store_from_url(url)
        for key in ("f#a_b#1", "f#axb#2", "f#a%#3", "g#a_b#4"):
            store.save(IdempotencyRecord(key, RecordStatus.COMPLETED, 2**31, "h", "t", None, {"x": 1}))
        assert [r.key for r in store.list_records("f#a_")] == ["f#a_b#1"]
        assert [r.key for r in store.list_records("f#a%")] == ["f#a%#3"]
        assert [r.key for r in store.list_records("")][:2] == ["f#a%#3", "f#a_b#1"]
        assert len(store.list_records("", 2)) == 2


def test_list_on_tablestore_says_not_supported(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PUSHFN_TABLESTORE_ENDPOINT", "https://inst.cn-hangzhou.ots.aliyuncs.com")
    assert main(["store", "--url", "tablestore://inst/table", "list"]) == 2
    assert "cannot list" in _lines(capsys.readouterr().err)[0]
    assert main(["store", "--url", "tablestore://inst/table", "show", "plain-key"]) == 2
    line = _lines(capsys.readouterr().err)[0]
    assert "--function" in line and "FUNCTION#SCOPE#KEY" in line


def test_list_and_search_on_dynamodb(moto_server, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from idempotency_support import use_moto

    use_moto(monkeypatch, moto_server)
    url = "dynamodb://cli-list-table"
    assert main(["store", "--url", url, "init"]) == 0
    _fill(url)
    capsys.readouterr()
    assert main(["store", "--url", url, "list", "--json", "--function", "http_push"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and all(r["key"].startswith("http_push#") for r in rows)
    assert main(["store", "--url", url, "list", "--json", "--limit", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["store", "--url", url, "show", "m-1"]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == "queue_push#key#m-1"


def test_unreachable_store_exits_4(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert main(["store", "--url", "dynamodb://nowhere", "show", "k", "--function", "f", "--scope", "s"]) == 4
    assert len(_lines(capsys.readouterr().err)) == 1


def test_store_commands_help_describe_every_option(capsys) -> None:  # type: ignore[no-untyped-def]
    for command in (["store"], ["store", "init"], ["store", "list"], ["store", "show"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = capsys.readouterr().out
        assert "exit codes" in " ".join(out.split())


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["store", "--url", "bogus://x", "show", "k1"], 2, ["pushfn: --url: ", "unknown store"]),
        (["store", "--url", "sqlite:///{db}", "show", "k1"], 1, ["pushfn: no record"]),
        (["store", "show", "k1", "--url", "sqlite:///{tmp}/missing.db"], 3, ["pushfn: ", "no such store file"]),
        (["store", "--url", "sqlite:///{db}", "list"], 0, []),
        (["--version"], 0, []),
    ],
)
def test_the_store_commands_as_a_real_process(tmp_path: Path, argv: list[str], code: int, words: list[str]) -> None:
    """Issue 13 item 22's inputs through ``pushfn`` run as a process: exit codes as documented, one
    ``pushfn:`` line (never ``error:``), ``show`` taking the plain key, ``--version``."""
    import os
    import subprocess
    import sys

    import pushfn

    db = tmp_path / "s.db"
    store_from_url(f"sqlite:///{db}").init()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "PYTHONPATH": str(Path(pushfn.__file__).resolve().parents[1])}  # fmt: skip
    argv = [a.format(db=db, tmp=tmp_path) for a in argv]
    result = subprocess.run(
        [sys.executable, "-m", "pushfn.cli", *argv], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == code, result.stderr
    if words:
        [line] = result.stderr.splitlines()
        assert all(word in line for word in words) and "error:" not in line, line
    elif argv == ["--version"]:
        assert result.stdout == f"pushfn {pushfn.__version__}\n"
    else:
        assert result.stdout.startswith("KEY") and result.stderr == ""


#: Rows no pushfn writes (a hand edit, another program): each column a value of the wrong kind.
UNREADABLE_ROWS = [
    ("http_push#tenant-a#bad-expiry", "COMPLETED", "abc", None, "h", "t", '{"a": 1}'),
    ("http_push#tenant-a#inf-expiry", "COMPLETED", float("inf"), None, "h", "t", '{"a": 1}'),
    ("http_push#tenant-a#bad-in-progress", "IN_PROGRESS", 2**31, "x", "h", "t", None),
    ("http_push#tenant-a#bad-status", "DONE", 2**31, None, "h", "t", '{"a": 1}'),
    ("http_push#tenant-a#id-expiry", "COMPLETED", "e2ba19de97604f55b165576736477b74", None, "h", "t", None),
    ("http_push#tenant-a#deep-result", "COMPLETED", 2**31, None, "h", "t", '{"a":' * 40 + "1" + "}" * 40),
]


def test_an_unreadable_row_never_hides_the_others(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Regression (issue 13 items 19/22, one bad row never sinks the rest): a row whose expiry was 'abc' (or
    infinite, or a status no pushfn writes) failed every ``store list`` and every ``store show`` by plain
    key with exit 3, so an operator could read no record at all. The row is listed as UNREADABLE with
    its reason; show names it (exit 3, a store problem) and reads every other record as before."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/u.db"
    _fill(url)
    with sqlite3.connect(tmp_path / "u.db") as conn:
        conn.executemany("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)", UNREADABLE_ROWS)
    capsys.readouterr()

    assert main(["store", "--url", url, "list", "--json", "--full-keys"]) == 0
    rows = {r["key"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert [rows[k]["status"] for k in sorted(rows)].count("COMPLETED") == 4
    bad = {key: rows[key] for key, *_ in UNREADABLE_ROWS}
    assert all(r["status"] == "UNREADABLE" and r["reason"] for r in bad.values())
    assert "ValueError" in bad["http_push#tenant-a#bad-expiry"]["reason"]
    assert "unknown idempotency record status" in bad["http_push#tenant-a#bad-status"]["reason"]
    assert "e2ba19de97604f55b165576736477b74" not in bad["http_push#tenant-a#id-expiry"]["reason"]  # masked
    assert main(["store", "--url", url, "list"]) == 0
    assert capsys.readouterr().out.count("UNREADABLE") == 6

    assert main(["store", "--url", url, "show", "m-1"]) == 0  # searched past the bad rows
    assert json.loads(capsys.readouterr().out)["key"] == "queue_push#key#m-1"
    assert main(["store", "--url", url, "show", "bad-expiry"]) == 3
    [line] = _lines(capsys.readouterr().err)
    assert line.startswith("pushfn: idempotency record http_push#tenant-a#") and "cannot be read: ValueError" in line


def test_an_unreadable_item_is_listed_on_dynamodb(moto_server, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import boto3
    from idempotency_support import use_moto

    use_moto(monkeypatch, moto_server)
    url = "dynamodb://cli-unreadable-table"
    assert main(["store", "--url", url, "init"]) == 0
    _fill(url)
    client = boto3.client("dynamodb")
    client.put_item(
        TableName="cli-unreadable-table",
        Item={"id": {"S": "http_push#tenant-a#no-status"}, "expiration": {"N": str(2**31)}},
    )
    client.put_item(
        TableName="cli-unreadable-table",
        Item={"id": {"S": "http_push#tenant-a#text-expiry"}, "status": {"S": "COMPLETED"}, "expiration": {"S": "x"}},
    )
    capsys.readouterr()
    assert main(["store", "--url", url, "list", "--json", "--full-keys", "--function", "http_push"]) == 0
    rows = {r["key"]: r["status"] for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["http_push#tenant-a#no-status"] == rows["http_push#tenant-a#text-expiry"] == "UNREADABLE"
    assert list(rows.values()).count("COMPLETED") == 3
    assert main(["store", "--url", url, "show", "m-1"]) == 0
