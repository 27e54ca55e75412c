"""The file function end to end: local folder objects, the real guard on SQLite, the emulator for every push."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from functions.file_push.index import handler
from tests.conftest import make_client
from tests.support import Clock, ClockedRuntime

from pushfn.idempotency.stores.sqlite import SqliteStore
from pushfn.runtime import reset_runtime, set_runtime
from pushfn.settings import Settings
from pushfn.triggers import RetryLaterError
from pushfn.triggers.events.objects import StoredObject, oss_event, s3_event

CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Sale", "Body": "Today only"}
WELCOME = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Hi {name}", "Body": "Welcome to {city}"}


class Files:
    """A folder of objects, a runtime pointed at it and at the emulator, and the emulator's record."""

    def __init__(self, root: Path, emulator: Any, store: Path, **settings: Any) -> None:
        self.root, self.emulator, self.store_path = root, emulator, store
        self.client = make_client(emulator)
        self.configure(**settings)

    def configure(self, **settings: Any) -> ClockedRuntime:
        """New settings (e.g. ``pushfn_file_concurrency=1``), installed in a new runtime."""
        self.settings = Settings(
            push_app_key="23267207",
            pushfn_file_root=str(self.root),
            pushfn_templates=json.dumps({"welcome": WELCOME}),
            **settings,
        )
        return self.install()

    def install(self, client: Any = None) -> ClockedRuntime:
        runtime = ClockedRuntime(
            clock=Clock(), settings=self.settings, client=client or self.client, store=SqliteStore(self.store_path)
        )
        set_runtime(runtime)
        return runtime

    def put(self, key: str, data: bytes | str, spec: Any = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        if spec is not None:
            (self.root / f"{key}.push.json").write_text(json.dumps(spec))

    def report(self, key: str) -> dict[str, Any]:
        return json.loads((self.root / f"{key}.report.json").read_text("utf-8"))

    def pushes(self, action: str | None = None) -> list[str]:
        """The RequestIds of accepted calls (the emulator lists one push per MassPush task)."""
        ids = [p["request_id"] for p in self.emulator.pushes() if action is None or p["action"] == action]
        return list(dict.fromkeys(ids))


def device_ids(count: int, start: int = 0) -> str:
    return "".join(f"{n:032x}\n" for n in range(start, start + count))


def personalised(count: int) -> str:
    return "device_id,name,city\n" + "".join(f"{n:032x},User {n},City {n % 7}\n" for n in range(count))


def test_250_personalised_rows_make_3_mass_push_calls(files: Files) -> None:
    files.put("in/welcome.csv", personalised(250), {"template": "welcome"})
    answer = handler(oss_event(["in/welcome.csv"]), None)
    assert answer["files"][0]["status"] == "complete"
    calls = files.pushes("MassPush")
    assert len(calls) == 3
    report = files.report("in/welcome.csv")
    assert [c["count"] for c in report["chunks"]["sent"]] == [100, 100, 50]
    assert report["targets"] == {"valid": 250, "invalid": 0, "duplicate": 0}


def test_template_named_by_the_default_spec_setting(tmp_path: Path, emulator: Any) -> None:
    made = Files(tmp_path / "b", emulator, tmp_path / "s.db", pushfn_file_push_spec=json.dumps({"template": "welcome"}))
    try:
        made.put("x.csv", personalised(3))
        assert handler(oss_event(["x.csv"]), None)["files"][0]["status"] == "complete"
        assert made.report("x.csv")["totals"]["targets_sent"] == 3
    finally:
        reset_runtime()
        made.client.close()


def test_redelivered_event_resends_nothing(files: Files) -> None:
    files.put("in/w.csv", personalised(150), {"template": "welcome"})
    event = oss_event(["in/w.csv"])
    handler(event, None)
    first = files.report("in/w.csv")
    handler(event, None)
    assert len(files.pushes()) == 2
    again = files.report("in/w.csv")
    assert again["status"] == "complete" and again["chunks"]["sent"] == first["chunks"]["sent"]


def test_a_new_version_of_the_object_is_sent_again(files: Files) -> None:
    files.put("in/w.csv", personalised(5), {"template": "welcome"})
    handler(oss_event([StoredObject("in/w.csv", etag="A")]), None)
    handler(oss_event([StoredObject("in/w.csv", etag="B")]), None)
    assert len(files.pushes()) == 2


def test_throttling_backs_off_and_everything_is_sent(files: Files) -> None:
    files.put("t.csv", personalised(300), {"template": "welcome"})
    files.emulator.add_fault("throttle", count=2)
    assert handler(oss_event(["t.csv"]), None)["files"][0]["status"] == "complete"
    report = files.report("t.csv")
    assert report["totals"]["sent"] == 3 and report["chunks"]["failed"] == []
    assert len(files.pushes("MassPush")) == 3
    # The two throttled calls reached the emulator and were tried again (after the shared pause the
    # limiter sets, asserted in test_file_concurrency), not given up on.
    statuses = [c["status"] for c in files.emulator.calls() if c["action"] == "MassPush"]
    assert statuses.count("throttled") == 2 and statuses.count("sent") == 3


class RefuseChunk:
    """The real client, except that the MassPush of the chunks whose first target is one of ``firsts``
    (chunk ``i`` of ``personalised`` rows starts at device ``100 * i``) is sent with an AppKey the
    emulator does not know, so the service refuses it (a permanent 4xx). Chosen by content, not by the
    order of calls, which concurrency does not keep."""

    def __init__(self, client: Any, *chunks: int) -> None:
        self._client = client
        self._firsts = {f"{100 * i:032x}" for i in chunks}

    def mass_push(self, request: Any, **kwargs: Any) -> Any:
        if request["PushTask"][0]["TargetValue"] in self._firsts:
            request = {**request, "AppKey": 11111111}
        return self._client.mass_push(request, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_permanently_failing_chunk_is_reported_and_the_others_sent(files: Files) -> None:
    files.install(RefuseChunk(files.client, 1))
    files.put("p.csv", personalised(300), {"template": "welcome"})
    answer = handler(oss_event(["p.csv"]), None)
    assert answer["files"][0]["status"] == "complete"
    report = files.report("p.csv")
    assert [c["index"] for c in report["chunks"]["sent"]] == [0, 2]
    (failed,) = report["chunks"]["failed"]
    assert failed["index"] == 1 and failed["retryable"] is False and failed["count"] == 100
    assert len(files.pushes("MassPush")) == 2


def test_transient_failure_stops_and_the_retry_resumes(files: Files) -> None:
    files.configure(pushfn_file_concurrency=1)  # sequential: the failure is chunk 0's, nothing after it went
    files.put("r.csv", personalised(300), {"template": "welcome"})
    files.emulator.add_fault("internal_error", count=10)
    with pytest.raises(RetryLaterError):
        handler(oss_event(["r.csv"]), None)
    stopped = files.report("r.csv")
    assert stopped["status"] == "planned" and stopped["totals"]["pending"] == 3 and "chunk 0" in stopped["stopped"]
    files.emulator.clear_faults()
    # Chunk 0 may have gone out (a 5xx): its record stays in progress until the window passes, then
    # the retry takes it over with the same IdempotentToken.
    files.install().clock.advance(3600)
    handler(oss_event(["r.csv"]), None)
    report = files.report("r.csv")
    assert report["status"] == "complete" and report["totals"]["sent"] == 3
    assert len(files.pushes("MassPush")) == 3


def test_empty_file_reports_zero_targets(files: Files) -> None:
    files.put("empty.txt", "", CONTENT)
    answer = handler(s3_event(["empty.txt"]), None)
    report = files.report("empty.txt")
    assert answer["files"][0]["status"] == "complete"
    assert report["targets"] == {"valid": 0, "invalid": 0, "duplicate": 0} and report["totals"]["chunks"] == 0
    assert files.pushes() == []


def test_only_invalid_lines_report_and_no_push(files: Files) -> None:
    files.put("bad.txt", "nope\n# comment\nshort\n" + "x" * 40 + "\n", CONTENT)
    handler(oss_event(["bad.txt"]), None)
    report = files.report("bad.txt")
    assert report["targets"]["valid"] == 0 and report["targets"]["invalid"] == 3
    assert [line["line"] for line in report["invalid"]] == [1, 3, 4]
    assert files.pushes() == []


def test_no_push_content_rejects_the_file_with_a_report(files: Files) -> None:
    files.put("plain.txt", device_ids(3))
    answer = handler(oss_event(["plain.txt"]), None)
    report = files.report("plain.txt")
    assert answer["files"][0]["status"] == report["status"] == "rejected"
    assert report["rejected"]["rule"] == "content" and "PUSHFN_FILE_PUSH_SPEC" in report["rejected"]["message"]
    assert files.pushes() == []


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"template": "nope"}, "not configured"),
        ({**CONTENT, "Target": "ALL"}, "the file gives the targets"),
        ({**CONTENT, "mode": "sometimes"}, "is not one of 'per_chunk', 'continuous'"),
        ({"template": "welcome", "mode": "continuous"}, "can have no placeholders (city, name)"),
        ({**CONTENT, "target_type": "TAG"}, "target_type"),
        ([1], "JSON object"),
    ],
)
def test_unusable_content_rejects_the_file(files: Files, spec: Any, words: str) -> None:
    files.put("c.txt", device_ids(2), spec)
    handler(oss_event(["c.txt"]), None)
    assert words in files.report("c.txt")["rejected"]["message"]
    assert files.pushes() == []


def test_unsupported_format_rejected(files: Files) -> None:
    files.put("list.xlsx", "x", CONTENT)
    handler(oss_event(["list.xlsx"]), None)
    assert files.report("list.xlsx")["rejected"]["rule"] == "format"


def test_sidecars_reports_and_other_events_start_nothing(files: Files) -> None:
    files.put("a.txt", device_ids(2), CONTENT)
    answer = handler(
        oss_event(
            ["a.txt.push.json", "a.txt.report.json", StoredObject("a.txt", event_name="ObjectRemoved:DeleteObject")]
        ),
        None,
    )
    assert answer["files"] == [] and len(answer["skipped"]) == 3 and files.pushes() == []


def test_malformed_event_is_logged_not_retried(files: Files) -> None:
    assert handler(b"{not json", None)["status"] == "invalid"
    assert handler({"Records": "x"}, None)["status"] == "invalid"


def test_missing_object_is_not_retried(files: Files) -> None:
    answer = handler(oss_event(["gone.txt"]), None)
    assert answer["files"][0]["status"] == "rejected" and "no object" in answer["files"][0]["problem"]


def test_unsafe_object_name_is_refused(files: Files) -> None:
    answer = handler(oss_event(["../outside.txt"]), None)
    assert answer["files"][0]["status"] == "rejected" and files.pushes() == []


class Context:
    """A Lambda-like context whose remaining time drops by ``step`` ms per question."""

    def __init__(self, remaining_ms: int, step: int) -> None:
        self.remaining_ms, self.step = remaining_ms, step

    def get_remaining_time_in_millis(self) -> int:
        value = self.remaining_ms
        self.remaining_ms -= self.step
        return value


def test_near_the_timeout_the_run_stops_between_chunks_and_reports_partial(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pushfn.jobs import files as job

    monkeypatch.setattr(job, "_clock", lambda: _now[0])
    _now[0] = 0.0
    files.put("slow.csv", personalised(300), {"template": "welcome"})

    real = files.client

    class Slow:
        def mass_push(self, request: Any, **kwargs: Any) -> Any:
            _now[0] += 5.0  # each chunk "takes" five seconds
            return real.mass_push(request, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    files.configure(pushfn_file_concurrency=1)  # the arithmetic below is one chunk after the other
    files.install(Slow())
    # 20 s left: chunk 0 goes (20 >= 10 + 0), chunk 1 goes (15 >= 10 + 5), chunk 2 stops (10 < 10 + 5).
    with pytest.raises(RetryLaterError, match="timeout"):
        handler(oss_event(["slow.csv"]), Context(20_000, 0))
    report = files.report("slow.csv")
    assert report["status"] == "partial" and report["totals"]["sent"] == 2 and report["totals"]["pending"] == 1
    files.install()
    handler(oss_event(["slow.csv"]), None)
    assert files.report("slow.csv")["status"] == "complete"
    assert len(files.pushes("MassPush")) == 3


_now = [0.0]


def test_2500_device_ids_make_3_push_calls(files: Files) -> None:
    files.put("in/all.txt", device_ids(2500), CONTENT)
    answer = handler(oss_event(["in/all.txt"]), None)
    assert answer["files"][0]["status"] == "complete"
    assert len(files.pushes("Push")) == 3


def test_s3_event_of_several_records_with_spaces_plus_and_non_ascii_keys_end_to_end(
    s3: Any, emulator: Any, tmp_path: Path
) -> None:
    """S3 on moto, through the real handler: two records in one notification, keys form-encoded by S3
    (a space, a real ``+``, non-ASCII), each object read, sent, and reported beside itself with its
    invalid and duplicate lines by line number."""
    s3.create_bucket(Bucket="uploads")
    ids = device_ids(3).split()
    first = "in/my list+1 ü.txt"
    lines = [ids[0], "short", ids[1], ids[0], "", ids[2], f"{ids[1]},{ids[2]}"]
    s3.put_object(Bucket="uploads", Key=first, Body=("\r\n".join(lines) + "\r\n").encode())
    s3.put_object(Bucket="uploads", Key=first + ".push.json", Body=json.dumps(CONTENT).encode())
    second = "in/東京 rows+.csv"
    s3.put_object(Bucket="uploads", Key=second, Body=personalised(3).encode())
    s3.put_object(Bucket="uploads", Key=second + ".push.json", Body=b'{"template": "welcome"}')
    client = make_client(emulator)
    set_runtime(
        ClockedRuntime(
            clock=Clock(),
            settings=Settings(push_app_key="23267207", pushfn_templates=json.dumps({"welcome": WELCOME})),
            client=client,
            store=SqliteStore(tmp_path / "idem.db"),
        )
    )
    try:
        event = s3_event([first, second], bucket="uploads")
        assert [r["s3"]["object"]["key"] for r in event["Records"]] == [
            "in/my+list%2B1+%C3%BC.txt",
            "in/%E6%9D%B1%E4%BA%AC+rows%2B.csv",
        ]
        answer = handler(event, None)
        assert [(f["key"], f["status"]) for f in answer["files"]] == [(first, "complete"), (second, "complete")]
        assert [f["report"] for f in answer["files"]] == [
            f"s3://uploads/{first}.report.json",
            f"s3://uploads/{second}.report.json",
        ]
        report = json.loads(s3.get_object(Bucket="uploads", Key=first + ".report.json")["Body"].read())
        assert [(p["line"], p["rule"]) for p in report["invalid"]] == [(2, "device_id"), (7, "single_value")]
        assert report["duplicate_lines"] == [4]
        assert report["targets"] == {"valid": 3, "invalid": 2, "duplicate": 1} and report["lines_read"] == 7
        rows = json.loads(s3.get_object(Bucket="uploads", Key=second + ".report.json")["Body"].read())
        assert rows["totals"]["targets_sent"] == 3
        pushed = [p for p in emulator.pushes() if p["action"] == "Push"]
        assert [p["target_value"] for p in pushed] == [",".join(ids)]
        assert len({p["request_id"] for p in emulator.pushes() if p["action"] == "MassPush"}) == 1
    finally:
        reset_runtime()
        client.close()


def test_the_default_push_content_is_configuration_loaded_once_by_the_runtime(
    files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 items 3 and 6: ``PUSHFN_FILE_PUSH_SPEC`` is read where the other tables are (the
    runtime, once), not by the job on every object; a broken one still rejects each file with its reason."""
    import pushfn.specs.tables as tables

    spec_file = tmp_path / "default-spec.json"
    spec_file.write_text(json.dumps(CONTENT), encoding="utf-8")
    files.configure(pushfn_file_push_spec=str(spec_file))
    reads: list[str] = []
    real = tables.load_table
    monkeypatch.setattr(tables, "load_table", lambda source, **kw: reads.append(kw["variable"]) or real(source, **kw))
    for n in range(3):
        files.put(f"batch-{n}.txt", device_ids(2, start=10 * n))
        assert handler(oss_event([f"batch-{n}.txt"]), None)["files"][0]["status"] == "complete"
    assert reads == ["PUSHFN_FILE_PUSH_SPEC"] and len(files.pushes()) == 3

    files.configure(pushfn_file_push_spec=str(tmp_path / "missing.json"))
    for n in range(2):
        files.put(f"later-{n}.txt", device_ids(2))
        handler(oss_event([f"later-{n}.txt"]), None)
        rejected = files.report(f"later-{n}.txt")["rejected"]
        assert rejected["rule"] == "content" and "PUSHFN_FILE_PUSH_SPEC: cannot read file" in rejected["message"]


def test_a_row_whose_values_break_a_field_rule_is_an_invalid_line_and_its_chunk_still_goes_out(files: Files) -> None:
    """Regression: a personalised row was only rendered, not checked, so one row putting a control character
    in Title, or an iOSBadge past 99,999, made the client refuse the whole MassPush call: the other 99 rows
    of its chunk were never sent. The row is now an invalid line naming its field and rule, like a row that
    does not render, and the rest of the chunk goes out."""
    content = {**CONTENT, "Title": "Hi {name}", "iOSBadge": "{badge}"}
    good = [f"{n:032x},User {n},{n}\n" for n in range(5)]
    bad = [f"{'a' * 32},\x01,1\n", f"{'b' * 32},Bea,100000\n", f"{'c' * 32},Cy,-1\n"]
    files.put("rows.csv", "device_id,name,badge\n" + "".join(good[:1] + bad + good[1:]), content)

    handler(oss_event(["rows.csv"]), None)

    report = files.report("rows.csv")
    assert report["targets"] == {"valid": 5, "invalid": 3, "duplicate": 0}
    assert [(i["line"], i["rule"], i["message"].split(":")[0]) for i in report["invalid"]] == [
        (3, "template.control_character", "Title"),
        (4, "template.range", "iOSBadge"),
        (5, "template.range", "iOSBadge"),
    ]
    assert report["totals"]["sent"] == 1 and report["totals"]["targets_sent"] == 5
    assert sorted(p["params"]["Title"] for p in files.emulator.pushes()) == [f"Hi User {n}" for n in range(5)]


@pytest.mark.parametrize(
    ("override", "field", "rule"),
    [
        ({"Title": "a\x00b"}, "Title", "control_character"),
        ({"iOSBadge": True}, "iOSBadge", "type"),
        ({"iOSBadge": 100_000}, "iOSBadge", "range"),
        ({"PushTime": "9999-12-31T23:59:59Z"}, "PushTime", "range"),
        ({"push_time": "+999999999w"}, "PushTime", "format"),
    ],
)
def test_content_that_breaks_a_field_rule_rejects_the_file_unread(
    files: Files, override: dict[str, Any], field: str, rule: str
) -> None:
    """Regression (issue 13 items 6/9 by file): content without placeholders is the same for every chunk,
    yet it was only compiled, not checked: each chunk was refused by the client for it, and the report
    said 'complete' with every chunk failed, after reading the whole file. It is checked once now, before
    any line is read: the file is rejected naming the field and rule, nothing is sent."""
    files.put("in/bad.txt", device_ids(1500), {**CONTENT, **override})
    answer = handler(oss_event(["in/bad.txt"]), None)
    report = files.report("in/bad.txt")
    assert answer["files"][0]["status"] == "rejected"
    assert report["rejected"]["rule"] == "content" and report["lines_read"] == 0
    assert f"{field}: {rule}: " in report["rejected"]["message"]
    assert report["chunks"]["failed"] == [] and files.emulator.calls() == []


@pytest.mark.parametrize("mode", [{}, "", 0, False, [], "CONTINUOUS", "per_chunk "])
def test_a_mode_of_another_value_rejects_the_file(files: Files, mode: Any) -> None:
    """Regression (issue 13 item 9, wrong types accepted): the mode was read as ``value or 'per_chunk'``,
    so {}, "", 0, false and [] were taken for the default and the file was sent."""
    files.put("in/m.txt", device_ids(3), {**CONTENT, "mode": mode})
    answer = handler(oss_event(["in/m.txt"]), None)
    report = files.report("in/m.txt")
    assert answer["files"][0]["status"] == "rejected" and "mode" in report["rejected"]["message"]
    assert files.emulator.calls() == []


def test_a_null_mode_is_the_default(files: Files) -> None:
    files.put("in/m.txt", device_ids(3), {**CONTENT, "mode": None})
    assert handler(oss_event(["in/m.txt"]), None)["files"][0]["status"] == "complete"
    assert len(files.pushes("Push")) == 1
