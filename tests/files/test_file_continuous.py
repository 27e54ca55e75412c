"""The file function's continuous mode: one ``Push`` with ``Target=TBD``, then ``ContinuouslyPush`` per
chunk, so the whole file is one MessageId. The emulator (real, over loopback) answers both actions."""

from __future__ import annotations

from typing import Any

import pytest
from functions.file_push.index import handler
from test_file_push import CONTENT, Files, device_ids

from pushfn.triggers import RetryLaterError
from pushfn.triggers.events.objects import StoredObject, oss_event

CONTINUOUS = {**CONTENT, "mode": "continuous"}


def records(files: Files, action: str) -> list[dict[str, Any]]:
    return [p for p in files.emulator.pushes() if p["action"] == action]


def test_a_continuous_file_ends_with_one_message_id_for_all_chunks(files: Files) -> None:
    files.put("c.txt", device_ids(2500), CONTINUOUS)
    answer = handler(oss_event(["c.txt"]), None)
    assert answer["files"][0]["status"] == "complete"
    (campaign,) = records(files, "Push")
    assert campaign["target"] == "TBD" and campaign["idempotent_token"]
    batches = records(files, "ContinuouslyPush")
    assert [b["device_count"] for b in batches] == [1000, 1000, 500]
    assert {b["message_id"] for b in batches} == {campaign["message_id"]}
    assert {b["title"] for b in batches} == {"Sale"}
    report = files.report("c.txt")
    assert report["campaign"] == {"mode": "continuous", "message_id": campaign["message_id"]}
    assert {c["message_id"] for c in report["chunks"]["sent"]} == {campaign["message_id"]}
    assert report["totals"]["targets_sent"] == 2500


def test_a_rerun_reuses_the_campaign_and_resends_nothing(files: Files) -> None:
    files.put("c.txt", device_ids(1500), CONTINUOUS)
    event = oss_event(["c.txt"])
    handler(event, None)
    handler(event, None)
    assert len(records(files, "Push")) == 1 and len(records(files, "ContinuouslyPush")) == 2
    assert files.report("c.txt")["campaign"]["message_id"] == records(files, "Push")[0]["message_id"]


def test_a_stopped_run_resumes_under_the_same_message_id(files: Files) -> None:
    files.put("c.txt", device_ids(3000), CONTINUOUS)
    # The second ContinuouslyPush is throttled past the client's retries (refused: nothing sent), so
    # the run stops there and asks for a retry.
    files.install(ThrottleFrom(files.client, files.emulator, nth=2))
    with pytest.raises(RetryLaterError):
        handler(oss_event(["c.txt"]), None)
    stopped = files.report("c.txt")
    assert stopped["status"] == "partial" and [c["index"] for c in stopped["chunks"]["sent"]] == [0]
    files.emulator.clear_faults()
    files.install()
    handler(oss_event(["c.txt"]), None)
    (campaign,) = records(files, "Push")
    batches = records(files, "ContinuouslyPush")
    assert [b["device_count"] for b in batches] == [1000, 1000, 1000]  # chunk 0 not resent
    assert {b["message_id"] for b in batches} == {campaign["message_id"]}
    assert files.report("c.txt")["status"] == "complete"


class ThrottleFrom:
    """The real client, except that the emulator's throttle fault is armed just before the ``nth``
    ContinuouslyPush call, so that call and every later one are throttled."""

    def __init__(self, client: Any, emulator: Any, nth: int) -> None:
        self._client, self._emulator, self._nth, self._seen = client, emulator, nth, 0

    def call(self, action: str, request: Any, **kwargs: Any) -> Any:
        self._seen += 1
        if self._seen == self._nth:
            self._emulator.add_fault("throttle", count=100, actions=["ContinuouslyPush"])
        return self._client.call(action, request, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_an_ambiguous_chunk_is_maybe_sent_and_never_retried(files: Files) -> None:
    files.put("c.txt", device_ids(3000), CONTINUOUS)
    # A 500 on the first ContinuouslyPush: it may have gone out, and it takes no IdempotentToken.
    files.emulator.add_fault("internal_error", count=1, actions=["ContinuouslyPush"])
    answer = handler(oss_event(["c.txt"]), None)
    assert answer["files"][0]["status"] == "complete"
    report = files.report("c.txt")
    (maybe,) = report["chunks"]["maybe_sent"]
    assert maybe["index"] == 0 and maybe["count"] == 1000 and maybe["reason"].startswith("ServerError: InternalError")
    assert maybe["request_id"]
    assert len(report["chunks"]["sent"]) == 2
    handler(oss_event(["c.txt"]), None)  # the event again: the ambiguous chunk is not resent
    again = files.report("c.txt")
    assert again["chunks"]["maybe_sent"] == report["chunks"]["maybe_sent"]
    assert len(records(files, "ContinuouslyPush")) == 2


def test_a_refused_campaign_fails_every_chunk_with_one_push_call(files: Files, monkeypatch: pytest.MonkeyPatch) -> None:
    # The content is checked before the file is read (the next test); a refusal only the send meets (a rule
    # that depends on the time, a service's) is stood in for by skipping that check.
    monkeypatch.setattr("pushfn.jobs.files.content_problems", lambda *args: [])
    files.put("c.txt", device_ids(2500), {**CONTINUOUS, "PushTime": "2030-01-01T00:00:00Z"})
    answer = handler(oss_event([StoredObject("c.txt", etag="v1")]), None)
    report = files.report("c.txt")
    assert answer["files"][0]["status"] == "complete" and len(report["chunks"]["failed"]) == 3
    assert files.emulator.pushes() == []
    assert {c["code"] for c in report["chunks"]["failed"]} == {"invalid_spec"}
    assert "Target=TBD" in report["chunks"]["failed"][0]["message"]
    assert files.emulator.calls() == []  # refused before sending, once, not once per chunk


def test_continuous_content_the_campaign_cannot_take_rejects_the_file_unread(files: Files) -> None:
    """The campaign's Push (Target=TBD) takes no PushTime: the content is refused naming it, before a line
    is read or a call made, instead of a campaign refused once and replayed to every chunk."""
    files.put("c.txt", device_ids(2500), {**CONTINUOUS, "PushTime": "2030-01-01T00:00:00Z"})
    answer = handler(oss_event([StoredObject("c.txt", etag="v1")]), None)
    report = files.report("c.txt")
    assert answer["files"][0]["status"] == "rejected" and report["lines_read"] == 0
    assert report["rejected"]["rule"] == "content" and "PushTime: " in report["rejected"]["message"]
    assert "Target=TBD" in report["rejected"]["message"]
    assert files.emulator.calls() == []


def test_empty_continuous_file_opens_no_campaign(files: Files) -> None:
    files.put("e.txt", "# nothing\n", CONTINUOUS)
    handler(oss_event(["e.txt"]), None)
    assert files.emulator.pushes() == [] and files.report("e.txt")["campaign"]["message_id"] is None
