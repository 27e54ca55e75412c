"""Failure classification (one table for every job) and dead-letter destinations."""

from __future__ import annotations

import json
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
from pushfn.jobs.dead_letter import DeadLetter, DirectorySink, SqsSink, dead_letter_from_env, sink_from_url
from pushfn.jobs.errors import DeadLetterError
from pushfn.jobs.outcomes import Status, classify, safe_text
from pushfn.push.errors import (
    AmbiguousResponseError,
    AuthError,
    ConfigurationError,
    ConnectError,
    FieldProblem,
    InvalidRequestError,
    ServerError,
    ServiceError,
)
from pushfn.push.errors import (
    classify as classify_service,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("exc", "status", "reason"),
    [
        (InvalidRequestError([FieldProblem("Title", "required", "is required")]), Status.PERMANENT, "invalid_spec"),
        (
            classify_service("InvalidAppKey.NotFound", "no", http_status=400, request_id="r"),
            Status.PERMANENT,
            "service_refused",
        ),
        (classify_service("Throttling.User", "slow", http_status=400, request_id="r"), Status.TRANSIENT, "throttled"),
        (classify_service("InternalError", "boom", http_status=500, request_id="r"), Status.TRANSIENT, "server_error"),
        (ServerError("ServiceUnavailable", "x", http_status=503), Status.TRANSIENT, "server_error"),
        (AuthError("SignatureDoesNotMatch", "x", http_status=400), Status.TRANSIENT, "auth"),
        (ServiceError("Odd", "x", http_status=409, retryable=True), Status.TRANSIENT, "service_error"),
        (ConnectError("refused"), Status.TRANSIENT, "network"),
        (AmbiguousResponseError("timeout"), Status.TRANSIENT, "network"),
        (IdempotencyInProgressError("busy"), Status.TRANSIENT, "in_progress"),
        (IdempotencyStoreError("down"), Status.TRANSIENT, "idempotency_store"),
        (IdempotencyPayloadMismatchError("other"), Status.PERMANENT, "payload_mismatch"),
        (IdempotencyKeyError("bad"), Status.PERMANENT, "invalid_key"),
        (ConfigurationError("no app key"), Status.TRANSIENT, "configuration"),
        (RuntimeError("bug"), Status.TRANSIENT, "unexpected"),
    ],
)
def test_classification(exc, status, reason):
    failure = classify(exc)
    assert (failure.status, failure.reason, failure.error) == (status, reason, type(exc).__name__)


def test_failure_text_never_carries_a_full_device_id():
    device = "e2ba19de97604f55b165576736477b74"
    assert device not in safe_text(f"bad target {device}")
    assert classify(RuntimeError(f"x {device}")).message == "x e2ba…(32)"


def test_invalid_request_problems_are_kept_for_the_report():
    failure = classify(InvalidRequestError([FieldProblem("[1].Title", "required", "is required")]))
    assert failure.as_dict()["problems"] == [{"field": "[1].Title", "rule": "required", "message": "is required"}]


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
    assert dead_letter_from_env({}) is None


def _letter(message_id: str | None, key: str = "k") -> DeadLetter:
    return DeadLetter("queue_push", message_id, key, "src", {"reason": "invalid_spec"}, "{}", "2024-01-01T00:00:00Z")


def test_directory_letters_are_one_file_per_message_and_idempotent(tmp_path):
    sink = DirectorySink(tmp_path / "dead")
    first = sink.write(_letter("../../etc/passwd"))
    assert Path(first).parent == tmp_path / "dead"  # ids cannot escape the directory
    sink.write(_letter("../../etc/passwd"))
    sink.write(_letter(None, key="sha256:abc"))
    files = sorted(p.name for p in (tmp_path / "dead").iterdir())
    assert files == [".._.._etc_passwd.json", "sha256_abc.json"]
    assert json.loads(Path(first).read_text())["failure"] == {"reason": "invalid_spec"}


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
