"""Review regressions: faults found by attacking fan-out parts, chunk envelopes, the CLI profile and STS.

Each test failed before its fix; its docstring says the input, what went wrong and what is expected.
Real parts throughout: a local folder as the store, the queue handler's envelope parser, real files for
CLI profiles, and STS answers handed to the product's own answer reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.specs.envelope import parse_job
from pushfn.targets.parts import ChunkOutcome, complete_report, part_key, record_part
from pushfn.targets.readers import LocalFolderReader
from pushfn.targets.report import ChunkPlan, Report

# --- fan-out parts --------------------------------------------------------------------------------


def _queued(reader: LocalFolderReader, version: str, chunks: int = 2) -> None:
    """The file function's report of ``f.txt`` at ``version``: ``chunks`` chunks of 10, all queued."""
    report = Report(bucket="b", key="f.txt", version=version, valid=10 * chunks)
    for index in range(chunks):
        report.add_planned(ChunkPlan(index, f"chunk-{index}", "Push", "DEVICE", 10, index * 10 + 1, index * 10 + 10))
        report.chunk_queued(index, sink="sqs", job_id=f"{version}-{index}")
    reader.write_report("b", "f.txt", {**report.to_dict(), "stopped": None})


def test_parts_of_an_earlier_version_of_the_file_do_not_complete_the_new_report(tmp_path: Path) -> None:
    """The file is uploaded again (a new ETag) after its first version was fanned out and completed.
    Before: the new run's report was merged at once with the first version's parts (same names), so it
    said ``complete`` with the old MessageIds before any new chunk was sent, and the new parts were then
    ignored. Now a part names the file version it is of, and only the report's own version's parts count."""
    reader = LocalFolderReader(tmp_path)
    _queued(reader, '"v1"')
    for index in range(2):
        outcome = ChunkOutcome(index, "sent", message_id=f"old-{index}", source_version='"v1"')
        record_part(reader, "b", "f.txt.report.json", outcome)
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "complete"

    _queued(reader, '"v2"')  # the new upload's run: its chunks are queued, none sent yet
    assert complete_report(reader, "b", "f.txt.report.json") is None
    assert json.loads((tmp_path / "f.txt.report.json").read_text())["status"] == "partial"
    record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", message_id="new-0", source_version='"v2"'))
    merged = record_part(
        reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", message_id="new-1", source_version='"v2"')
    )
    assert merged is not None and merged["status"] == "complete"
    assert [s["message_id"] for s in merged["chunks"]["sent"]] == ["new-0", "new-1"]


def _chunk_body(**report: Any) -> str:
    return json.dumps(
        {
            "kind": "chunk",
            "version": 1,
            "job": {"source": "uploads/lists/a.txt", "etag": "e", "chunk": 0},
            "params": {"Target": "DEVICE", "TargetValue": "x", "Title": "t", "Body": "b", "PushType": "NOTICE"},
            "report": {"store": "local", "bucket": "uploads", "key": "lists/a.txt.report.json", **report},
        }
    )


@pytest.mark.parametrize(
    "report",
    [
        {"key": "lists/other.txt.report.json"},  # another file's report in the same bucket
        {"bucket": "victims"},  # the same name in another bucket
        {"key": "a.txt.report.json"},  # a suffix of the source's name, not the source
    ],
)
def test_a_chunk_job_cannot_record_its_part_in_another_files_report(report: dict[str, str]) -> None:
    """A chunk envelope whose ``report`` names a report other than its own source's. Before: accepted,
    so a hostile (or mixed-up) job wrote its outcome among another file's parts and could complete that
    report with a chunk it never sent. Now refused by name, before any store is touched."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_job(_chunk_body(**report))
    assert "report" in str(caught.value)
    parse_job(_chunk_body())  # its own report is accepted


# --- credentials: the CLI profile, the OIDC token file, STS answers ----------------------------------

AK_ID, AK_SECRET = "LTAI5tReviewKeyId0001", "review-secret-0123456789abcdef"
ROLE_ARN = "acs:ram::1234567890123456:role/push-role"


def _cli_config(tmp_path: Path, profile: dict[str, Any]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"current": "p", "profiles": [{"name": "p", **profile}]}), encoding="utf-8")
    return path


def _sts_profile(**extra: Any) -> dict[str, Any]:
    return {
        "mode": "StsToken",
        "access_key_id": "STS.x",
        "access_key_secret": AK_SECRET,
        "sts_token": "sts-token-value-xyz",
        **extra,
    }


def test_a_cli_profiles_expired_sts_token_is_refused_by_name(tmp_path: Path) -> None:
    """A ``StsToken`` profile whose ``sts_expiration`` (epoch seconds, as aliyun-cli writes it) has passed.
    Before: the expired token was used, and every push failed at the service with a token error that did
    not say which profile to renew. Now a CredentialsError names the profile, the field and the time."""
    from pushfn.push.credentials import CliProfileCredentials
    from pushfn.push.errors import CredentialsError

    now = 1_750_000_000.0
    expired = CliProfileCredentials(
        _cli_config(tmp_path, _sts_profile(sts_expiration=int(now) - 60)), clock=lambda: now
    )
    with pytest.raises(CredentialsError, match=r"profile .p.: the STS token expired at .*sts_expiration") as caught:
        expired.get_credentials()
    assert AK_SECRET not in str(caught.value) and "sts-token-value-xyz" not in str(caught.value)
    valid = CliProfileCredentials(_cli_config(tmp_path, _sts_profile(sts_expiration=int(now) + 600)), clock=lambda: now)
    creds = valid.get_credentials()
    assert creds is not None and creds.expiration == now + 600 and creds.security_token == "sts-token-value-xyz"
    unknown = CliProfileCredentials(_cli_config(tmp_path, _sts_profile(sts_expiration=0)), clock=lambda: now)
    assert unknown.get_credentials().expiration is None  # 0: the CLI's "not recorded"


@pytest.mark.parametrize("value", ["tomorrow", 1.5, True, [], -1])
def test_a_cli_profiles_sts_expiration_of_the_wrong_type_is_refused_by_name(tmp_path: Path, value: Any) -> None:
    """``sts_expiration`` that is no whole number of epoch seconds: refused naming the field (before:
    silently ignored, so an expired token was used without a word)."""
    from pushfn.push.credentials import CliProfileCredentials
    from pushfn.push.errors import CredentialsError

    provider = CliProfileCredentials(_cli_config(tmp_path, _sts_profile(sts_expiration=value)))
    with pytest.raises(CredentialsError, match="sts_expiration"):
        provider.get_credentials()


def _bounded_child(code: str) -> Any:
    """Run ``code`` in a child Python with 1 GB of address space and 60 s: a read without end fails
    there (MemoryError, or killed) instead of taking this machine's memory."""
    import os
    import subprocess
    import sys

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, preexec_fn=limit, env=env
    )


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_cli_config_that_is_a_device_is_refused_not_read_without_end(tmp_path: Path, target: str) -> None:
    """``~/.aliyun/config.json`` a symlink to an endless device. Before: read whole (``read_bytes``)
    until memory ran out. Now refused at once: not a regular file."""
    link = tmp_path / "config.json"
    link.symlink_to(target)
    code = (
        "from pushfn.push.credentials import CliProfileCredentials\n"
        "from pushfn.push.errors import CredentialsError\n"
        f"try:\n    CliProfileCredentials({str(link)!r}).get_credentials()\n"
        "except CredentialsError as exc:\n    print('refused:', exc)\n"
    )
    done = _bounded_child(code)
    assert done.returncode == 0 and "refused:" in done.stdout and "not a regular file" in done.stdout, done.stderr


def test_an_oidc_token_file_that_is_a_device_is_refused_not_read_without_end(tmp_path: Path) -> None:
    """``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` a symlink to ``/dev/zero``: the same fault and fix as the CLI
    profile's (before: read until memory ran out, since the token is read before STS is called)."""
    link = tmp_path / "token"
    link.symlink_to("/dev/zero")
    code = (
        "from pushfn.push.credentials import OidcRoleCredentials\n"
        "from pushfn.push.errors import CredentialsError\n"
        f"p = OidcRoleCredentials({ROLE_ARN!r}, 'acs:ram::1:oidc-provider/x', {str(link)!r})\n"
        "try:\n    p._read_token()\n"
        "except CredentialsError as exc:\n    print('refused:', exc)\n"
    )
    done = _bounded_child(code)
    assert done.returncode == 0 and "refused:" in done.stdout and "not a regular file" in done.stdout, done.stderr


def test_a_cli_config_larger_than_any_real_one_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    """A 40 MB ``config.json`` (a real one is a few KB): refused naming the size limit."""
    from pushfn.push.credentials import CliProfileCredentials
    from pushfn.push.errors import CredentialsError

    path = tmp_path / "config.json"
    with path.open("wb") as handle:
        handle.write(b'{"current": "p", "pad": "')
        handle.truncate(40 * 1024 * 1024)
    with pytest.raises(CredentialsError, match="larger than"):
        CliProfileCredentials(path).get_credentials()


def _role(sts_clock: Any, provider_clock: Any) -> tuple[Any, Any]:
    """A RamRoleArn provider reading ``provider_clock`` against the FAKE STS stand-in reading ``sts_clock``."""
    from tests.push.sts_standin import StsStandIn

    from pushfn.push.credentials import RamRoleArnCredentials, StaticCredentials
    from pushfn.settings import Settings

    sts = StsStandIn(callers={AK_ID: AK_SECRET}, clock=sts_clock)
    provider = RamRoleArnCredentials(
        StaticCredentials(AK_ID, AK_SECRET),
        ROLE_ARN,
        settings=Settings(pushfn_sts_endpoint=sts.url),
        clock=provider_clock,
    )
    return sts, provider


def test_sts_credentials_that_expired_already_are_refused_not_used() -> None:
    """STS answers credentials whose Expiration has passed by this machine's clock (its clock is hours
    fast, or the answer is wrong). Before: they were handed out, every push failed at the service, and
    every call asked STS again. Now a CredentialsError says so and points at the clock."""
    from tests.support import Clock

    from pushfn.push.errors import CredentialsError

    clock = Clock()
    sts, provider = _role(lambda: clock.now - 7200, clock)
    try:
        with pytest.raises(CredentialsError, match=r"already expired.*clock"):
            provider.get_credentials()
    finally:
        sts.close()


def test_sts_credentials_inside_the_refresh_margin_are_not_fetched_again_on_every_call() -> None:
    """STS answers credentials that expire in 10 minutes while the refresh margin is 15 (this machine's
    clock 50 minutes fast, or a role's short session). Before: each call found them "due" and called
    STS again — one AssumeRole per push. Now they are used, and refreshed half-way to their expiry."""
    from tests.support import Clock

    clock = Clock()
    sts, provider = _role(lambda: clock.now - 3000, clock)  # 3600 s sessions end 600 s from now here
    try:
        first = provider.get_credentials()
        for _ in range(5):
            assert provider.get_credentials() is first
        assert len(sts.requests) == 1
        clock.advance(310)  # past half-way to expiry: refreshed once
        second = provider.get_credentials()
        assert second is not first and len(sts.requests) == 2
        assert provider.get_credentials() is second and len(sts.requests) == 2
    finally:
        sts.close()


@pytest.mark.parametrize(
    "answer",
    [
        {"Code": "X" * 5000, "Message": "m", "RequestId": {"nested": [1] * 1000}},
        {"Code": "Bad\nforged: line", "Message": "one\r\ntwo \x1b[31mred", "RequestId": "r\nid"},
        {"Code": ["not", "text"], "Message": 42, "RequestId": None},
    ],
)
def test_an_sts_refusal_is_shown_on_one_bounded_line(answer: dict[str, Any]) -> None:
    """STS (or something answering in its place) refuses with a huge, multi-line or mistyped Code,
    Message or RequestId. Before: echoed whole (8 KB of Code, a dict's repr as RequestId) and with its
    newlines and escape sequences, so one refusal forged lines in a terminal or a plain log. Now each
    field is one printable line of bounded length."""
    from pushfn.push.errors import CredentialsError
    from pushfn.push.sts import _credentials_from_answer

    with pytest.raises(CredentialsError) as caught:
        _credentials_from_answer("AssumeRole", 400, json.dumps(answer).encode(), "ram-role-arn")
    text = str(caught.value)
    assert len(text) < 600 and text.isprintable() and text.startswith("ram-role-arn: STS AssumeRole refused: HTTP 400")


def test_an_sts_answer_with_an_unreadable_expiration_names_sts() -> None:
    """HTTP 200 with ``Credentials.Expiration`` "soon". Before: "unreadable credential Expiration 'soon'",
    naming neither the source nor STS. Now the source and action come first, as in every other STS error."""
    from pushfn.push.errors import CredentialsError
    from pushfn.push.sts import _credentials_from_answer

    creds = {"AccessKeyId": "STS.a", "AccessKeySecret": "s3cr3t-value", "SecurityToken": "t0ken", "Expiration": "soon"}
    with pytest.raises(CredentialsError, match=r"^ram-role-arn: STS AssumeRole answer's Credentials.Expiration"):
        _credentials_from_answer("AssumeRole", 200, json.dumps({"Credentials": creds}).encode(), "ram-role-arn")


# --- the file function's rate limiter -----------------------------------------------------------------


def test_a_long_throttling_streak_keeps_pausing_at_the_ceiling() -> None:
    """The service throttles 1,100 times in a row (a long incident on a warm instance; only a success
    resets the streak). Before: the pause was ``base * 2**streak`` and past ~1,024 throttles that
    product overflowed a float — OverflowError out of the client's retry. Now the pause stays at its
    ceiling however long the streak."""
    from pushfn.jobs.throttle import RateLimiter

    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0], sleep=lambda s: None, pause=1.0, max_pause=10.0)
    for _ in range(1100):
        pause = limiter.throttled()
        now[0] += pause
    assert pause == 10.0


# --- clock edges ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("0999-12-31T23:59:59Z", "0999-12-31T23:59:59Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_api_times_keep_four_digit_years(instant: str, text: str) -> None:
    """A year below 1000 (``pushfn event fc-timer --time 0001-01-01T00:00:00Z``). Before: strftime's
    ``%Y`` left it unpadded on glibc — ``1-01-01T00:00:00Z``, which is not the API format and which
    pushfn's own parser refuses. Now always ``YYYY``, from a datetime and from epoch seconds alike."""
    from datetime import datetime

    from pushfn.api_time import format_api_time, parse_api_time
    from pushfn.local.sample_events import SampleOptions, parse_time, sample_event

    when = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    assert format_api_time(when) == text
    assert format_api_time(when.timestamp()) == text
    assert parse_api_time(format_api_time(when)) == when.timestamp()
    event = json.loads(sample_event("fc-timer", SampleOptions(time=parse_time(instant))))
    assert event["triggerTime"] == text


# --- pushfn invoke ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "platform"),
    [
        ({"events": [{"eventName": "ObjectCreated:PutObject"}]}, "fc"),  # no "oss" part
        ({"events": [{"eventName": "ObjectCreated:PutObject", "oss": {"bucket": {"name": "b"}}}]}, "fc"),
        ({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": "x"}]}, "aws"),
    ],
)
def test_invoke_does_not_call_a_malformed_object_event_ok(event: dict[str, Any], platform: str) -> None:
    """``pushfn invoke file_push`` with an object event whose record is malformed. Before: the file
    function skipped it (as it should: a retry cannot fix it) and ``invoke`` said ``handled → ok``, exit 0,
    so a developer testing a hand-written event never learnt it was never read. Now exit 3 (refused),
    naming the record; an event of another kind (``other_event``) is still a plain skip."""
    from pushfn.local.invoke import EXIT_OK, EXIT_REFUSED, invoke

    done = invoke("file_push", json.dumps(event).encode(), platform=platform)
    assert done.outcome.exit_code == EXIT_REFUSED and "malformed" in done.outcome.reason
    other = {"events": [{"eventName": "ObjectRemoved:DeleteObject", "oss": {}}]}
    assert invoke("file_push", json.dumps(other).encode(), platform="fc").outcome.exit_code == EXIT_OK


# --- a report edited between runs ------------------------------------------------------------------------


def _edited(tmp_path: Path, edit: Any) -> LocalFolderReader:
    reader = LocalFolderReader(tmp_path)
    _queued(reader, "e")
    document = json.loads((tmp_path / "f.txt.report.json").read_text())
    edit(document)
    (tmp_path / "f.txt.report.json").write_text(json.dumps(document))
    return reader


EDITS = {
    "planned count as text": lambda d: d["chunks"]["planned"][0].update(count="10"),
    "planned index as text": lambda d: d["chunks"]["planned"][0].update(index="0"),
    "planned key as number": lambda d: d["chunks"]["planned"][0].update(key=7),
    "queued entry without sink": lambda d: d["chunks"]["queued"][0].pop("sink"),
    "queued count as text": lambda d: d["chunks"]["queued"][1].update(count="ten"),
    "valid as true": lambda d: d["targets"].update(valid=True),
    "invalid line as a fraction": lambda d: d.update(invalid=[{"line": 1.5, "rule": "r", "message": "m"}]),
    "lines_read negative": lambda d: d.update(lines_read=-3),
    "lines_read as a float": lambda d: d.update(lines_read=1e300),
    "duplicate line as text": lambda d: d.update(duplicate_lines=["4"]),
    "invalid_by_rule count as text": lambda d: d.update(invalid_by_rule={"device_id": "2"}),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_hand_edited_report_is_refused_by_name_not_crashed_on(tmp_path: Path, edit: Any) -> None:
    """A report edited between the file function's run and its chunk jobs (a value of another type, a
    field gone). Before: some edits passed ``Report.from_dict`` and broke the merge later — a TypeError
    or KeyError out of ``complete_report``, which the queue function took for a store failure and handed
    the sent chunk back for ever (and the file function did not catch at all); others were coerced
    silently (``int(1.5)``, a text index written back). Now each is a ValueError naming the field, the
    report is left as it is, and the part is kept."""
    reader = _edited(tmp_path, edit)
    before = (tmp_path / "f.txt.report.json").read_bytes()
    with pytest.raises(ValueError, match="not a report pushfn wrote"):
        record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", "e", message_id="m0"))
        record_part(reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", "e", message_id="m1"))
    assert (tmp_path / "f.txt.report.json").read_bytes() == before
    assert (tmp_path / part_key("f.txt.report.json", 0, "e")).exists()


# --- fan-out in process ------------------------------------------------------------------------------


def test_an_in_process_chunk_job_asking_for_a_retry_stops_the_file_cleanly() -> None:
    """Locally (``PUSHFN_FILE_ROOT``) a chunk job runs the queue handler in process; when its push fails
    transiently that handler raises RetryLaterError (its way of asking the platform to deliver again).
    Before: the error went straight through the file function (only FanoutError was caught), so the
    run ended in a traceback with no report written. Now it is a transient hand-over failure: the file
    stops between chunks with its reason, as when SQS or FC cannot take a job."""
    from pushfn.jobs.fanout import Fanout, InProcessFanout
    from pushfn.targets.chunks import Chunk
    from pushfn.triggers import RetryLaterError
    from pushfn.triggers.events.objects import oss_event
    from pushfn.triggers.objects import parse_object_event

    def handler(event: Any, context: Any) -> Any:
        raise RetryLaterError("1 message", ["throttled"], message_ids=[None])

    obj = parse_object_event(oss_event(["big.txt"])).objects[0]
    report = Report(bucket=obj.bucket, key=obj.key, version=obj.version, valid=1)
    report.add_planned(ChunkPlan(0, "chunk-0", "Push", "DEVICE", 1, 1, 1))
    chunk = Chunk(0, "Push", "DEVICE", ["a" * 32], {"Target": "DEVICE", "TargetValue": "a" * 32}, 1, 1)
    reason, cause = Fanout(InProcessFanout(handler), 0).hand_over(obj, chunk, report)
    assert reason is not None and "chunk 0 not queued" in reason and cause is not None
    assert report.queued == {} and report.failed == {}


@pytest.mark.parametrize("region", ["evil.example/x#", "cn-hangzhou.evil.example", "a b", "CN_HANGZHOU", "x" * 64])
def test_an_sts_region_cannot_change_the_sts_host(tmp_path: Path, region: str) -> None:
    """A CLI profile's ``sts_region`` (or ``ALIBABA_CLOUD_STS_REGION``) of ``evil.example/x#``. Before:
    pasted into ``https://sts.<region>.aliyuncs.com``, it became ``https://sts.evil.example/x#…`` and the
    signed AssumeRole went to that host with the profile's AccessKeyId. Now refused by name before any
    request: a region is 1-40 of ``a-z 0-9 -``."""
    from pushfn.push.credentials import CliProfileCredentials
    from pushfn.push.errors import CredentialsError
    from pushfn.push.sts import sts_endpoint
    from pushfn.settings import Settings

    profile = {"mode": "RamRoleArn", "access_key_id": AK_ID, "access_key_secret": AK_SECRET}
    provider = CliProfileCredentials(_cli_config(tmp_path, {**profile, "ram_role_arn": ROLE_ARN, "sts_region": region}))
    with pytest.raises(CredentialsError, match=r'"sts_region".*a-z 0-9 -') as caught:
        provider.get_credentials()
    assert "unreachable" not in str(caught.value)
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_STS_REGION"):
        sts_endpoint(Settings(alibaba_cloud_sts_region=region))
    assert sts_endpoint(Settings(), "cn-hangzhou") == "https://sts.cn-hangzhou.aliyuncs.com"


def test_a_missing_cli_profile_lists_a_few_names_on_one_line(tmp_path: Path) -> None:
    """``current`` names no profile of a file with 20,000 (or with names holding newlines). Before: the
    error listed every name — a 149 KB message — with newlines as they were. Now at most 10 names,
    each quoted and escaped, and how many more."""
    from pushfn.push.credentials import CliProfileCredentials
    from pushfn.push.errors import CredentialsError

    path = tmp_path / "config.json"
    names = ["q\nforged: line", *(f"p{i}" for i in range(20_000))]
    path.write_text(json.dumps({"current": "zz", "profiles": [{"name": n} for n in names]}), encoding="utf-8")
    with pytest.raises(CredentialsError) as caught:
        CliProfileCredentials(path).get_credentials()
    text = str(caught.value)
    assert len(text) < 600 and "\n" not in text and "+19991 more" in text and "'zz'" in text


def test_a_chunk_sent_after_the_report_completed_updates_it(tmp_path: Path) -> None:
    """Chunk 1 failed for good (its part says so, the report completed with it under ``failed``); the
    operator fixes the cause and sends its dead-lettered job again, which now goes out. Before: its new
    part was ignored (nothing was queued any more), so the report said ``failed`` for a chunk that was
    sent. Now a part whose outcome differs from the completed report's rewrites the report from the
    parts (``via`` kept); a redelivered job with the same outcome rewrites nothing."""
    reader = LocalFolderReader(tmp_path)
    _queued(reader, "e")
    record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", "e", message_id="m0"))
    done = record_part(reader, "b", "f.txt.report.json", ChunkOutcome(1, "failed", "e", code="InvalidParameter"))
    assert done is not None and [f["index"] for f in done["chunks"]["failed"]] == [1]

    again = record_part(reader, "b", "f.txt.report.json", ChunkOutcome(0, "sent", "e", message_id="m0"))
    assert again is None  # the same outcome: nothing to rewrite
    fixed = record_part(reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", "e", message_id="m1"))
    assert fixed is not None and fixed["status"] == "complete"
    assert fixed["chunks"]["failed"] == [] and fixed["totals"]["failed"] == 0 and fixed["totals"]["sent"] == 2
    assert [(s["index"], s["message_id"], s["via"]) for s in fixed["chunks"]["sent"]] == [
        (0, "m0", "sqs"),
        (1, "m1", "sqs"),
    ]
    assert json.loads((tmp_path / "f.txt.report.json").read_text()) == fixed
    stale = record_part(reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", "old-version", message_id="x"))
    assert stale is None  # a part of another file version never rewrites it


@pytest.mark.parametrize(
    ("kind", "content", "says"),
    [
        ("sqs", b"\x00\x01\xff\xfe", "not UTF-8"),
        ("eventbridge", b"[1,", "must be JSON"),
        ("eventbridge", b"[1]", "JSON object"),
        ("s3", b"{}", "does not apply to s3"),
    ],
)
def test_pushfn_event_names_body_file_when_the_body_came_from_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, content: bytes, says: str
) -> None:
    """``pushfn event KIND --body-file F`` with a body the kind cannot carry. Before: the error named
    ``--body``, an option the user never gave. Now it names ``--body-file``."""
    from pushfn.cli import main

    body = tmp_path / "body.bin"
    body.write_bytes(content)
    assert main(["event", kind, "--body-file", str(body)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pushfn: event: --body-file:") and says in err, err


@pytest.mark.parametrize(
    ("account", "region"),
    [("1", "evil.example/x#"), ("1", "cn-hangzhou.evil.example"), ("evil.example/", "cn-hangzhou"), ("1:2@h", "cn-x")],
)
def test_the_fc_fan_out_endpoint_is_never_built_from_a_foreign_host(account: str, region: str) -> None:
    """On FC without ``PUSHFN_FANOUT_FC_ENDPOINT`` the queue function's endpoint is built from the
    context's account id and region, the region falling back to the OSS event's own ``region`` field.
    Before: pasted as they came, so an event region ``evil.example/x#`` made the endpoint
    ``https://1.evil.example/x#…`` and the signed invocation (STS token in its headers) went there.
    Now an account id or region that is not a plain name means no endpoint: the file is sent inline."""
    from pushfn.push.credentials import StaticCredentials
    from pushfn.settings import Settings
    from pushfn.triggers.events.objects import oss_event
    from pushfn.triggers.objects import fanout_sink, parse_object_event

    event = json.loads(oss_event(["a.txt"]))
    event["events"][0]["region"] = region
    obj = parse_object_event(event).objects[0]
    context = type("Ctx", (), {"account_id": account})  # no region: the event's is used
    settings = Settings(pushfn_fanout_fc_function="svc/queue_push")
    assert fanout_sink(obj, settings, StaticCredentials("a", "b"), context) is None
    good = type("Ctx", (), {"account_id": "1234", "region": "cn-hangzhou"})
    assert fanout_sink(obj, settings, StaticCredentials("a", "b"), good).endpoint == (
        "https://1234.cn-hangzhou-internal.fc.aliyuncs.com"
    )


def test_a_late_job_of_an_earlier_file_version_does_not_overwrite_this_versions_part(tmp_path: Path) -> None:
    """The file is re-uploaded; both versions' chunk jobs are in flight. v2's jobs finish before v2's report
    is written (the file function writes it at the end), then a redelivered v1 job of chunk 1 finishes.
    Before: parts were named by index alone, so v1's part replaced v2's; v2's report then waited for a
    v2 part of chunk 1 that no job would write again, and stayed ``partial`` for good. Now a part's name
    carries its file version, so the versions never share a name."""
    reader = LocalFolderReader(tmp_path)
    for index in range(2):
        record_part(reader, "b", "f.txt.report.json", ChunkOutcome(index, "sent", '"v2"', message_id=f"v2-{index}"))
    record_part(reader, "b", "f.txt.report.json", ChunkOutcome(1, "sent", '"v1"', message_id="v1-1"))
    _queued(reader, '"v2"')
    merged = complete_report(reader, "b", "f.txt.report.json")  # as the file function does after writing it
    assert merged is not None and merged["status"] == "complete"
    assert [s["message_id"] for s in merged["chunks"]["sent"]] == ["v2-0", "v2-1"]


@pytest.mark.parametrize("bucket", ["Legacy_Bucket", "b" * 70, "ab"])
def test_a_chunk_job_of_a_bucket_the_report_rules_refuse_is_still_a_job_the_queue_function_takes(bucket: str) -> None:
    """An S3 bucket of the legacy us-east-1 naming (capitals, ``_``), or another name the chunk envelope's
    ``report`` rule refuses. Before: the file function named the report anyway, so the queue function
    refused every fanned-out job of that file as malformed — its targets were dead-lettered, never sent.
    Now a job names only a report the queue function accepts; without one it is still sent (the file's
    report then stays ``partial``, as for any job without a report)."""
    from pushfn.jobs.fanout import chunk_job
    from pushfn.targets.chunks import Chunk
    from pushfn.targets.readers import S3Reader
    from pushfn.triggers.events.objects import s3_event
    from pushfn.triggers.objects import parse_object_event

    obj = parse_object_event(s3_event(["big.txt"], bucket=bucket)).objects[0]
    chunk = Chunk(0, "Push", "DEVICE", ["a" * 32], {"Target": "DEVICE", "TargetValue": "a" * 32}, 1, 1)
    job = parse_job(json.dumps(chunk_job(obj, chunk, S3Reader(region="us-east-1"))))
    assert job.report is None and job.job.source == f"{bucket}/big.txt"
    good = parse_object_event(s3_event(["big.txt"], bucket="uploads")).objects[0]
    assert parse_job(json.dumps(chunk_job(good, chunk, S3Reader(region="us-east-1")))).report is not None


def test_a_chunk_job_of_the_longest_names_s3_allows_is_accepted() -> None:
    """A legacy S3 bucket name of 200 characters and an object key of 1,020 bytes (S3 allows 255 and
    1,024). Before: the job's ``source`` (``bucket/key``) was capped at 1,100 characters, so every
    fanned-out job of such a file was refused as malformed and its targets never sent."""
    from pushfn.jobs.fanout import chunk_job
    from pushfn.targets.chunks import Chunk
    from pushfn.triggers.events.objects import s3_event
    from pushfn.triggers.objects import parse_object_event

    obj = parse_object_event(s3_event(["k" * 1016 + ".txt"], bucket="B" * 200)).objects[0]
    chunk = Chunk(0, "Push", "DEVICE", ["a" * 32], {"Target": "DEVICE", "TargetValue": "a" * 32}, 1, 1)
    job = parse_job(json.dumps(chunk_job(obj, chunk)))
    assert job.job.source == f"{'B' * 200}/{'k' * 1016}.txt"


def test_fc_fan_out_without_usable_credentials_stops_the_file_instead_of_crashing_it() -> None:
    """FC fan-out while the credential chain fails (STS unreachable at a refresh, an expired CLI token).
    Before: the CredentialsError left ``FcFanout.hand_over`` as it was — past the file function's
    handling of hand-over failures, so the run ended in that exception with no report written (and the
    other files of the event were never read). Now it is a transient FanoutError: the file stops between
    chunks with a report, and the platform's retry hands the rest over."""
    from pushfn.jobs.fanout import Fanout, FanoutError, FcFanout
    from pushfn.push.errors import CredentialsError
    from pushfn.targets.chunks import Chunk
    from pushfn.triggers.events.objects import oss_event
    from pushfn.triggers.objects import parse_object_event

    class Failing:
        def get_credentials(self) -> Any:
            raise CredentialsError("ram-role-arn: STS AssumeRole at https://sts.aliyuncs.com unreachable")

    sink = FcFanout(endpoint="http://127.0.0.1:9", function="svc/queue_push", credentials=Failing())
    obj = parse_object_event(oss_event(["big.txt"])).objects[0]
    chunk = Chunk(0, "Push", "DEVICE", ["a" * 32], {"Target": "DEVICE", "TargetValue": "a" * 32}, 1, 1)
    with pytest.raises(FanoutError) as caught:
        sink.hand_over({"key": "k", "kind": "chunk"})
    assert caught.value.transient and "credentials" in str(caught.value)
    report = Report(bucket=obj.bucket, key=obj.key, version=obj.version, valid=1)
    report.add_planned(ChunkPlan(0, "chunk-0", "Push", "DEVICE", 1, 1, 1))
    reason, cause = Fanout(sink, 0).hand_over(obj, chunk, report)
    assert reason is not None and isinstance(cause, FanoutError) and report.queued == {}


def test_oss_without_usable_credentials_is_a_transient_store_failure() -> None:
    """The OSS reader asks the credential chain on every call; when that fails (STS down at a refresh,
    an expired CLI token) the CredentialsError left the reader as it was. Before: the file function,
    which handles store failures, did not handle it — the event's run ended in it, the files after
    this one unread. Now it is a transient ObjectStoreError (reason ``credentials``), as a network
    failure is: the file stops with its reason and the platform retries it."""
    from pushfn.push.errors import CredentialsError
    from pushfn.targets.errors import ObjectStoreError
    from pushfn.targets.readers import OssReader

    class Failing:
        def get_credentials(self) -> Any:
            raise CredentialsError("oidc-role-arn: STS AssumeRoleWithOIDC at https://sts.aliyuncs.com unreachable")

    reader = OssReader(endpoint="http://127.0.0.1:9", credentials=Failing())
    for call in (lambda: reader.open("b", "k.txt"), lambda: reader.write_bytes("b", "k.json", b"{}")):
        with pytest.raises(ObjectStoreError) as caught:
            call()
        assert caught.value.transient and caught.value.reason == "credentials"


@pytest.mark.parametrize("key", ["/abs/big.txt", "a/../big.txt", "./big.txt"])
def test_a_chunk_job_of_an_s3_key_the_local_name_rules_refuse_is_still_taken(key: str) -> None:
    """S3 and OSS keys may start with ``/`` or hold ``..`` segments; the report key rule (a safe *local*
    name) refuses them. Before: such a file's every fanned-out job named that report and was refused
    whole by the queue function, its targets dead-lettered. Now the job goes without the report."""
    from pushfn.jobs.fanout import chunk_job
    from pushfn.targets.chunks import Chunk
    from pushfn.targets.readers import S3Reader
    from pushfn.triggers.events.objects import s3_event
    from pushfn.triggers.objects import parse_object_event

    obj = parse_object_event(s3_event([key], bucket="uploads")).objects[0]
    chunk = Chunk(0, "Push", "DEVICE", ["a" * 32], {"Target": "DEVICE", "TargetValue": "a" * 32}, 1, 1)
    job = parse_job(json.dumps(chunk_job(obj, chunk, S3Reader(region="us-east-1"))))
    assert job.report is None and job.job.source == f"uploads/{key}"
