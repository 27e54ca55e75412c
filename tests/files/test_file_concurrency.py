"""The file function sending chunks concurrently (``PUSHFN_FILE_CONCURRENCY``) under the rate limiter,
against the emulator: the same calls as one after the other, each chunk once, failures as before."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions.file_push.index import handler
from test_file_push import CONTENT, Context, Files, RefuseChunk, device_ids, personalised

from pushfn.jobs import throttle
from pushfn.runtime import reset_runtime
from pushfn.triggers import RetryLaterError
from pushfn.triggers.events.objects import oss_event


@pytest.fixture
def files(tmp_path: Path, emulator: Any) -> Iterator[Files]:
    made = Files(tmp_path / "bucket", emulator, tmp_path / "idempotency.db", pushfn_file_concurrency=8)
    try:
        yield made
    finally:
        reset_runtime()
        made.client.close()


@pytest.fixture
def limiter(monkeypatch: pytest.MonkeyPatch) -> throttle.RateLimiter:
    """A fresh process limiter for this test (the real quotas), so its pauses are this test's own."""
    made = throttle.RateLimiter()
    monkeypatch.setattr(throttle, "_shared", made)
    return made


def accepted_targets(files: Files, action: str) -> Counter[str]:
    """How often the emulator accepted each target (a MassPush lists one record per task)."""
    seen: Counter[str] = Counter()
    for push in files.emulator.pushes():
        if push["action"] == action:
            seen.update(push["target_value"].split(","))
    return seen


def assert_each_once(report: dict[str, Any]) -> None:
    chunks = report["chunks"]
    indices = [c["index"] for kind in ("sent", "failed", "maybe_sent") for c in chunks[kind]]
    assert len(indices) == len(set(indices))


def test_2500_ids_and_250_rows_still_make_3_calls_each(files: Files, limiter: Any) -> None:
    files.put("ids.txt", device_ids(2500), CONTENT)
    files.put("rows.csv", personalised(250), {"template": "welcome"})
    answer = handler(oss_event(["ids.txt", "rows.csv"]), None)
    assert [f["status"] for f in answer["files"]] == ["complete", "complete"]
    assert len(files.pushes("Push")) == 3 and len(files.pushes("MassPush")) == 3
    ids, rows = files.report("ids.txt"), files.report("rows.csv")
    assert sorted(c["count"] for c in ids["chunks"]["sent"]) == [500, 1000, 1000]
    assert sorted(c["count"] for c in rows["chunks"]["sent"]) == [50, 100, 100]
    assert_each_once(ids)
    assert_each_once(rows)
    assert set(accepted_targets(files, "Push").values()) == {1} and len(accepted_targets(files, "Push")) == 2500


def test_throttling_on_several_chunks_all_sent_none_twice(files: Files, limiter: Any) -> None:
    files.put("t.csv", personalised(1000), {"template": "welcome"})
    # Three throttles (fewer than the client's 4 attempts, so no chunk can run out of them).
    files.emulator.add_fault("throttle", count=3, actions=["MassPush"])
    answer = handler(oss_event(["t.csv"]), None)
    assert answer["files"][0]["status"] == "complete"
    report = files.report("t.csv")
    assert report["totals"]["sent"] == 10 and report["chunks"]["failed"] == []
    assert_each_once(report)
    calls = [c for c in files.emulator.calls() if c["action"] == "MassPush"]
    assert sum(c["status"] == "throttled" for c in calls) == 3
    accepted = accepted_targets(files, "MassPush")
    assert len(accepted) == 1000 and set(accepted.values()) == {1}
    assert len(files.pushes("MassPush")) == 10
    assert limiter.paused_until > float("-inf")  # the throttles paused the shared limiter


def test_a_permanently_failing_chunk_is_reported_and_the_others_sent(files: Files, limiter: Any) -> None:
    files.install(RefuseChunk(files.client, 2, 5))
    files.put("p.csv", personalised(1000), {"template": "welcome"})
    answer = handler(oss_event(["p.csv"]), None)
    assert answer["files"][0]["status"] == "complete"
    report = files.report("p.csv")
    assert sorted(c["index"] for c in report["chunks"]["sent"]) == [0, 1, 3, 4, 6, 7, 8, 9]
    failed = sorted(report["chunks"]["failed"], key=lambda c: c["index"])
    assert [(c["index"], c["retryable"], c["count"]) for c in failed] == [(2, False, 100), (5, False, 100)]
    assert_each_once(report)
    assert len(files.pushes("MassPush")) == 8


def test_a_transient_failure_stops_new_chunks_and_the_retry_sends_each_once(files: Files, limiter: Any) -> None:
    files.put("r.csv", personalised(1000), {"template": "welcome"})
    files.emulator.add_fault("internal_error", count=1000)
    with pytest.raises(RetryLaterError):
        handler(oss_event(["r.csv"]), None)
    stopped = files.report("r.csv")
    assert stopped["status"] in ("planned", "partial") and stopped["stopped"]
    # At most the 8 chunks in flight were tried (each refused); the other 2 were never handed out.
    assert stopped["totals"]["pending"] == 10 and files.pushes("MassPush") == []
    tried = [c for c in files.emulator.calls() if c["action"] == "MassPush"]
    assert 4 <= len(tried) <= 8 * 4  # the client tries a call 4 times
    files.emulator.clear_faults()
    files.install().clock.advance(3600)  # records of calls that may have gone out are taken over
    handler(oss_event(["r.csv"]), None)
    report = files.report("r.csv")
    assert report["status"] == "complete" and report["totals"]["sent"] == 10
    assert_each_once(report)
    accepted = accepted_targets(files, "MassPush")
    assert len(accepted) == 1000 and set(accepted.values()) == {1}


def test_continuous_mode_stays_sequential(files: Files, limiter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from pushfn.jobs import files as job

    threads: set[str] = set()
    real = job._send_chunk

    def spy(*args: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(job, "_send_chunk", spy)
    files.put("c.txt", device_ids(3000), {**CONTENT, "mode": "continuous"})
    assert handler(oss_event(["c.txt"]), None)["files"][0]["status"] == "complete"
    assert threads == {threading.current_thread().name}


class FakeClock:
    """One clock for the file function and the limiter; sleeping moves it (nothing really waits)."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clocked_limiter(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeClock, throttle.RateLimiter]:
    """The process limiter and the file function's clock, both on one injected clock; the Push window
    already full (1,000,000 targets granted at 0 s), so the next Push call must wait 60 s."""
    from pushfn.jobs import files as job

    clock = FakeClock()
    made = throttle.RateLimiter(clock=clock, sleep=clock.sleep)
    made.acquire("Push", 1_000_000)
    monkeypatch.setattr(throttle, "_shared", made)
    monkeypatch.setattr(job, "_clock", clock)
    return clock, made


def test_a_rate_limit_wait_past_the_stop_time_stops_the_run_between_chunks(files: Files, clocked_limiter: Any) -> None:
    clock, _ = clocked_limiter
    files.put("w.txt", device_ids(2500), CONTENT)
    # 30 s left: the run must stop by 20 s (the 10 s margin); the quota frees up only at 60 s.
    with pytest.raises(RetryLaterError, match="timeout"):
        handler(oss_event(["w.txt"]), Context(30_000, 0))
    assert clock.slept == [] and clock.now == 0.0  # the limiter never slept towards a wait it could not finish
    report = files.report("w.txt")
    assert report["status"] == "planned" and report["totals"]["pending"] == 3
    assert "rate limit for Push asks for a 60.0 s wait" in report["stopped"]
    assert files.pushes("Push") == []
    # The platform's retry, with time enough: the wait is taken and every chunk goes out once.
    files.install()
    handler(oss_event(["w.txt"]), Context(300_000, 0))
    report = files.report("w.txt")
    assert report["status"] == "complete" and report["totals"]["sent"] == 3
    assert clock.now >= 60.0 and len(files.pushes("Push")) == 3


def test_a_rate_limit_wait_that_fits_before_the_stop_time_is_taken(files: Files, clocked_limiter: Any) -> None:
    clock, _ = clocked_limiter
    files.configure(pushfn_file_concurrency=1)  # one sleeper moves the shared fake clock
    files.put("f.txt", device_ids(1500), CONTENT)
    # 200 s left, stop by 190 s: chunk 0 waits 60 s for the quota; chunk 1 fits in the window then.
    answer = handler(oss_event(["f.txt"]), Context(200_000, 0))
    assert answer["files"][0]["status"] == "complete"
    assert sum(clock.slept) == pytest.approx(60.0) and len(files.pushes("Push")) == 2


def test_the_limiter_refuses_a_wait_past_stop_at_without_taking_quota() -> None:
    clock = FakeClock()
    limiter = throttle.RateLimiter({"MassPush": throttle.Quota(2, 1.0)}, clock=clock, sleep=clock.sleep)
    limiter.acquire("MassPush")
    limiter.acquire("MassPush")
    with pytest.raises(throttle.RateWaitTooLongError) as caught:
        limiter.acquire("MassPush", stop_at=0.5)
    assert (caught.value.action, caught.value.wait, caught.value.left) == ("MassPush", 1.0, 0.5)
    assert clock.slept == []
    assert limiter.acquire("MassPush", stop_at=1.0) == 1.0  # a wait ending exactly at the stop time is taken
    # A throttle pause counts as a wait too.
    limiter.throttled(5.0, base=5.0, ceiling=5.0)
    with pytest.raises(throttle.RateWaitTooLongError):
        limiter.acquire("Other", stop_at=clock.now + 4.0)
    assert limiter.acquire("Other", stop_at=clock.now + 5.0) == 5.0
