"""Failure classification (one table for every job) and dead-letter destinations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pushfn.idempotency.exceptions import (
    IdempotencyInProgressError,
    IdempotencyKeyError,
    IdempotencyPayloadMismatchError,
    IdempotencyStoreError,
)
from pushfn.jobs.dead_letter import DeadLetter, DirectorySink, SqsSink, dead_letter_sink, sink_from_url
from pushfn.jobs.errors import DeadLetterError
from pushfn.jobs.outcomes import Verdict, safe_text, sending_failure
from pushfn.push.errors import (
    AmbiguousResponseError,
    AuthError,
    ConfigurationError,
    ConnectError,
    FieldProblem,
    InvalidRequestError,
    ServerError,
    ServiceError,
    error_from_answer,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("exc", "status", "reason"),
    [
        (InvalidRequestError([FieldProblem("Title", "required", "is required")]), Verdict.PERMANENT, "invalid_spec"),
        (
            error_from_answer("InvalidAppKey.NotFound", "no", http_status=400, request_id="r"),
            Verdict.PERMANENT,
            "service_refused",
        ),
        (error_from_answer("Throttling.User", "slow", http_status=400, request_id="r"), Verdict.TRANSIENT, "throttled"),
        (
            error_from_answer("InternalError", "boom", http_status=500, request_id="r"),
            Verdict.TRANSIENT,
            "server_error",
        ),
        (ServerError("ServiceUnavailable", "x", http_status=503), Verdict.TRANSIENT, "server_error"),
        (AuthError("SignatureDoesNotMatch", "x", http_status=400), Verdict.TRANSIENT, "auth"),
        (ServiceError("Odd", "x", http_status=409, retryable=True), Verdict.TRANSIENT, "service_error"),
        (ConnectError("refused"), Verdict.TRANSIENT, "network"),
        (AmbiguousResponseError("timeout"), Verdict.TRANSIENT, "network"),
        (IdempotencyInProgressError("busy"), Verdict.TRANSIENT, "in_progress"),
        (IdempotencyStoreError("down"), Verdict.TRANSIENT, "idempotency_store"),
        (IdempotencyPayloadMismatchError("other"), Verdict.PERMANENT, "payload_mismatch"),
        (IdempotencyKeyError("bad"), Verdict.PERMANENT, "invalid_key"),
        (ConfigurationError("no app key"), Verdict.TRANSIENT, "configuration"),
        (RuntimeError("bug"), Verdict.TRANSIENT, "unexpected"),
    ],
)
def test_classification(exc, status, reason):
    failure = sending_failure(exc)
    assert (failure.status, failure.reason, failure.error) == (status, reason, type(exc).__name__)


def test_failure_text_never_carries_a_full_device_id():
    device = "e2ba19de97604f55b165576736477b74"
    assert device not in safe_text(f"bad target {device}")
    assert sending_failure(RuntimeError(f"x {device}")).message == "x e2ba…(32)"


def test_invalid_request_problems_are_kept_for_the_report():
    failure = sending_failure(InvalidRequestError([FieldProblem("[1].Title", "required", "is required")]))
    assert failure.to_dict()["problems"] == [{"field": "[1].Title", "rule": "required", "message": "is required"}]


@pytest.mark.parametrize(
    ("url", "kind", "where"),
    [
        ("/var/dead", DirectorySink, "file:///var/dead"),
        ("file:///var/dead", DirectorySink, "file:///var/dead"),
        ("https://sqs.eu-west-1.amazonaws.com/123/dlq", SqsSink, "https://sqs.eu-west-1.amazonaws.com/123/dlq"),
        ("sqs://sqs.cn-north-1.amazonaws.com.cn/123/dlq", SqsSink, "https://sqs.cn-north-1.amazonaws.com.cn/123/dlq"),
        ("sqs+http://127.0.0.1:4566/000000000000/dlq", SqsSink, "http://127.0.0.1:4566/000000000000/dlq"),
    ],
)
def test_dead_letter_urls(url, kind, where):
    sink = sink_from_url(url)
    assert isinstance(sink, kind)
    assert sink.describe() == where


@pytest.mark.parametrize("url", ["https://example.com/queue", "ftp://host/x", "file://host/dir"])
def test_unknown_dead_letter_urls_are_configuration_errors(url):
    with pytest.raises(ConfigurationError):
        sink_from_url(url)


def test_no_dead_letter_destination_by_default():
    assert dead_letter_sink(None) is None and dead_letter_sink("  ") is None


def _letter(message_id: str | None, key: str = "k") -> DeadLetter:
    return DeadLetter("queue_push", message_id, key, "src", {"reason": "invalid_spec"}, "{}", "2024-01-01T00:00:00Z")


def _read_all(directory: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.iterdir())]


@pytest.mark.parametrize(
    "ids",
    [
        ["a/b", "a:b", "a_b", "a?b", "a b", "a\\b"],  # issue 13 item 17: one safe form, distinct ids
        ["../../etc/passwd", "..", ".", "/", "", "~root"],
        ["é", "è", "\u00e9\u0301", "x" * 300 + "1", "x" * 300 + "2"],  # cut to the same prefix
    ],
)
def test_dead_letters_of_distinct_ids_never_share_a_file(tmp_path, ids):
    sink = DirectorySink(tmp_path / "dead")
    written = [sink.write(_letter(i or None, key=f"k-{n}")) for n, i in enumerate(ids)]
    assert len(set(written)) == len(ids)
    for where in written:  # no id leaves the directory or hides its file
        assert Path(where).parent == tmp_path / "dead"
        assert not Path(where).name.startswith(".")
        assert re.fullmatch(r"[A-Za-z0-9._-]+\.json", Path(where).name)
    assert sorted(str(letter["message_id"]) for letter in _read_all(tmp_path / "dead")) == sorted(
        str(i or None) for i in ids
    )


def test_two_letters_with_the_same_id_or_key_are_both_kept(tmp_path):
    # Two MNS STREAM messages with the same body share their content key; neither may overwrite the other.
    sink = DirectorySink(tmp_path / "dead")
    first = DeadLetter("queue_push", None, "sha256:abc", "mns", {"reason": "one"}, "{}", "2024-01-01T00:00:00Z")
    second = DeadLetter("queue_push", None, "sha256:abc", "mns", {"reason": "two"}, "{}", "2024-01-01T00:00:00Z")
    assert sink.write(first) != sink.write(second)
    sink.write(_letter("m"))
    sink.write(_letter("m"))
    reasons = [letter["failure"]["reason"] for letter in _read_all(tmp_path / "dead")]
    assert sorted(reasons) == ["invalid_spec", "invalid_spec", "one", "two"]


def test_letter_file_names_are_unique_even_in_the_same_microsecond():
    from datetime import datetime, timezone

    from pushfn.jobs.dead_letter import letter_file_name

    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    names = {letter_file_name("same", now=now) for _ in range(500)}
    assert len(names) == 500
    assert all(n.startswith("20240101T000000000000Z_same_") for n in names)


def test_letter_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    sink = DirectorySink(tmp_path / "dead")
    body = "x" * 200_000
    where = Path(sink.write(DeadLetter("queue_push", "m", "k", "s", {"reason": "r"}, body, "t")))
    assert [p.name for p in (tmp_path / "dead").iterdir()] == [where.name]  # the temp file was renamed
    assert json.loads(where.read_text(encoding="utf-8"))["body"] == body
    assert where.stat().st_mode & 0o077 == 0  # bodies hold device ids: owner only


def test_a_letter_whose_body_holds_a_lone_surrogate_is_still_written(tmp_path):
    sink = DirectorySink(tmp_path / "dead")
    where = Path(sink.write(DeadLetter("queue_push", "m\ud800", "k", "s", {"reason": "r"}, '{"a": "\ud800"}', "t")))
    letter = json.loads(where.read_bytes().decode("utf-8"))  # valid UTF-8: the surrogate is a JSON escape
    assert letter["body"] == '{"a": "\ud800"}'


def test_an_unreachable_sqs_dead_letter_queue_is_an_error():
    class Refusing:  # FAKE boto3 client (the real one is exercised against moto in test_sqs_moto.py)
        def send_message(self, **_: object) -> None:
            raise OSError("connection refused")

    sink = SqsSink("http://127.0.0.1:9/000000000000/dlq", region="us-east-1", client=Refusing())
    with pytest.raises(DeadLetterError):
        sink.write(_letter("m"))


def test_function_modules_import_no_cloud_sdk():
    """Cold start: the handlers load boto3 only when a dead letter actually goes to SQS."""
    code = (
        "import sys, functions.queue_push.index, functions.scheduled_push.index; "
        "heavy = [m for m in ('boto3', 'botocore', 'tablestore', 'oss2') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
