"""Issue 14 item 6: platform logic only in ``triggers/``.

The jobs work on normalized messages and ticks and return platform-neutral outcomes; the adapters'
``platform_reply`` alone turns those into SQS's ``batchItemFailures``, an MNS raise, or a timer's
summary or raise. Checked three ways: the jobs' code never reads which platform delivered an event
(structure), the same messages get the same outcomes from every platform (behaviour), and each
reply follows its platform's rule for any mix of outcomes (property).
"""

from __future__ import annotations

import ast
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pushfn.jobs
import pushfn.triggers.objects as objects_adapter
import pushfn.triggers.queue as queue_adapter
import pushfn.triggers.timer as timer_adapter
from pushfn.errors import PushfnError
from pushfn.jobs import errors as job_errors
from pushfn.jobs.files import FileOutcome
from pushfn.jobs.outcomes import Failure, Verdict
from pushfn.jobs.queued import FUNCTION_NAME, MessageOutcome, process_batch
from pushfn.jobs.scheduled import TickOutcome
from pushfn.push.errors import ThrottledError
from pushfn.triggers import RetryLaterError
from pushfn.triggers.events.queue import SqsRecord, mns_queue_batch, mns_queue_cloudevent, mns_topic_json, sqs_event
from pushfn.triggers.queue import MNS_QUEUE, MNS_TOPIC, SQS, UNKNOWN, QueueBatch, parse_queue_event, platform_reply

REPO = Path(__file__).resolve().parents[2]
JOBS = Path(pushfn.jobs.__file__).parent

#: The adapters' names for platforms and trigger kinds: only an adapter may compare against them.
PLATFORM_CONSTANTS = {
    queue_adapter: ("SQS", "MNS_TOPIC", "MNS_QUEUE", "UNKNOWN"),
    timer_adapter: ("FC_TIMER", "EVENTBRIDGE_RULE", "EVENTBRIDGE_SCHEDULER"),
    objects_adapter: ("OSS", "S3"),
}
#: Keys of the platforms' events and replies, and the platform-only reply helper.
PLATFORM_KEYS = {
    "Records",
    "batchItemFailures",
    "itemIdentifier",
    "messageId",
    "eventSourceARN",
    "specversion",
    "messageBody",
    "TopicName",
    "PublishTime",
    "triggerTime",
    "triggerName",
    "detail-type",
    "Scheduled Event",
    "schedule_arn",
}
PLATFORM_HELPERS = {"sqs_response", "decode_message_body"}


# --- structure -----------------------------------------------------------------------------------


def _jobs_modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(JOBS.glob("*.py")):
        yield path.name, ast.parse(path.read_text(encoding="utf-8"))


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants (prose may name platforms; code may not decide on them)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_the_platform_constants_this_test_looks_for_exist():
    # Guards the next test against passing vacuously after a rename in the adapters.
    for module, names in PLATFORM_CONSTANTS.items():
        for name in names:
            assert isinstance(getattr(module, name), str), (module.__name__, name)
    for name in PLATFORM_HELPERS:
        assert callable(getattr(queue_adapter, name))


def test_no_job_module_decides_anything_by_platform():
    """No module under ``jobs/`` reads a batch's platform, names a platform constant or helper of the
    adapters, compares with a platform's name, spells a platform event's or reply's keys, or looks
    inside the platform's invocation context (it is handed to the guard unread)."""
    names = {name for group in PLATFORM_CONSTANTS.values() for name in group} | PLATFORM_HELPERS
    values = {getattr(module, n) for module, group in PLATFORM_CONSTANTS.items() for n in group}
    found = []
    for file, tree in _jobs_modules():
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{file}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and node.attr == "platform":
                found.append(f"{where} reads .platform")
            if isinstance(node, ast.Name) and node.id in names:
                found.append(f"{where} uses {node.id}")
            if isinstance(node, ast.Attribute) and node.attr in names:
                found.append(f"{where} uses .{node.attr}")
            if isinstance(node, ast.ImportFrom):
                found += [f"{where} imports {a.name}" for a in node.names if a.name in names]
            if isinstance(node, ast.Constant) and node.value in PLATFORM_KEYS and id(node) not in docstrings:
                found.append(f"{where} spells the platform key {node.value!r}")
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    if isinstance(side, ast.Constant) and side.value in values:
                        found.append(f"{where} compares with the platform name {side.value!r}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "context":
                found.append(f"{where} reads context.{node.attr}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "context"
            ):
                found.append(f"{where} inspects context with {node.func.id}")
    assert found == []


def test_the_function_files_stay_thin():
    """``functions/*/index.py``: a docstring, imports and ``handler = …`` — no logic of their own."""
    for path in sorted((REPO / "functions").glob("*/index.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body[1:]:
            assert isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign)), (path, ast.dump(node)[:80])
            if isinstance(node, ast.Assign):
                assert [t.id for t in node.targets if isinstance(t, ast.Name)] in (["handler"], ["__all__"]), path


def test_one_retry_error_under_the_base_class():
    """``RetryMessagesError`` is gone; the one retry signal is raised by the adapters and is the
    same class the jobs' callers import."""
    assert not hasattr(queue_adapter, "RetryMessagesError")
    assert job_errors.RetryLaterError is RetryLaterError
    assert issubclass(RetryLaterError, PushfnError)
    sources = "".join(p.read_text(encoding="utf-8") for p in (REPO / "shared" / "pushfn").rglob("*.py"))
    assert "RetryMessagesError" not in sources
    assert sources.count("class RetryLaterError") == 1


# --- behaviour: the same messages, every platform --------------------------------------------------

PUSH = {"Target": "ACCOUNT", "TargetValue": "user-1", "DeviceType": "ALL", "PushType": "NOTICE", "Body": "B"}


def _bodies(tag: str) -> list[Any]:
    """Throttled first (the emulator's one fault hits the first request), then good, refused, junk."""
    return [
        {**PUSH, "Title": f"{tag} throttled"},
        {**PUSH, "Title": f"{tag} good"},
        {"kind": "push", "version": 1, "push": {"Title": "no target"}},
        "not json at all",
    ]


def _sqs(bodies: list[Any], ids: list[str]) -> list[Any]:
    return [sqs_event([SqsRecord(b, message_id=i) for b, i in zip(bodies, ids, strict=True)])]


def _mns_topic(bodies: list[Any], ids: list[str]) -> list[Any]:
    return [mns_topic_json(b, message_id=i) for b, i in zip(bodies, ids, strict=True)]  # one message per event


def _mns_queue(bodies: list[Any], ids: list[str]) -> list[Any]:
    return [mns_queue_batch(mns_queue_cloudevent(b, message_id=i) for b, i in zip(bodies, ids, strict=True))]


PLATFORMS: dict[str, tuple[str, Callable[[list[Any], list[str]], list[Any]]]] = {
    "sqs": (SQS, _sqs),
    "mns-topic-json": (MNS_TOPIC, _mns_topic),
    "mns-queue-eventbridge": (MNS_QUEUE, _mns_queue),
}


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_the_same_messages_get_the_same_outcomes_on_every_platform(emulator, runtime, name):
    platform, build = PLATFORMS[name]
    ids = [uuid.uuid4().hex[:12] for _ in range(4)]
    emulator.add_fault("throttle", count=1)

    outcomes, replies = [], []
    for event in build(_bodies(name), ids):
        batch = parse_queue_event(event)
        assert batch.platform == platform
        these = process_batch(batch, guard=runtime.guard(FUNCTION_NAME), client=runtime.client)
        outcomes += these
        try:
            replies.append(platform_reply(batch, these))
        except RetryLaterError as exc:
            replies.append(exc)

    assert [o.message_id for o in outcomes] == ids
    assert [o.status for o in outcomes] == [Verdict.TRANSIENT, Verdict.SUCCESS, Verdict.PERMANENT, Verdict.PERMANENT]
    assert [o.reason for o in outcomes] == ["throttled", None, "invalid_spec", "invalid_spec"]
    assert [p["params"]["Title"] for p in emulator.pushes()] == [f"{name} good"]
    # Only the reply differs, and only the adapter chose it.
    if platform == SQS:
        assert replies == [{"batchItemFailures": [{"itemIdentifier": ids[0]}]}]
    else:
        retry = replies[0]
        assert isinstance(retry, RetryLaterError) and retry.message_ids == [ids[0]]
        assert retry.reasons == [f"{ids[0]}: throttled"]
        if platform == MNS_TOPIC:
            summaries = [{"processed": 1, "succeeded": s, "failed_permanently": 1 - s} for s in (1, 0, 0)]
            assert replies[1:] == summaries


# --- property: each platform's reply rule, for any mix of outcomes ----------------------------------

_FAILURES = {
    Verdict.SUCCESS: None,
    Verdict.PERMANENT: Failure(Verdict.PERMANENT, "invalid_spec", "InvalidRequestError", "Title: required: missing"),
    Verdict.TRANSIENT: Failure(Verdict.TRANSIENT, "throttled", "ThrottledError", "Throttling.User"),
}
outcome_lists = st.lists(
    st.builds(
        lambda mid, status: MessageOutcome(mid, mid, status, _FAILURES[status]),
        st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=12)),
        st.sampled_from(list(Verdict)),
    ),
    max_size=8,
)


@given(outcomes=outcome_lists)
def test_sqs_names_exactly_the_messages_to_retry_and_never_raises(outcomes):
    reply = platform_reply(QueueBatch(SQS, ()), outcomes)
    expected = [o.message_id or "" for o in outcomes if o.status is Verdict.TRANSIENT]
    assert reply == {"batchItemFailures": [{"itemIdentifier": mid} for mid in expected]}
    json.dumps(reply)  # the answer Lambda reads is plain JSON


@pytest.mark.parametrize("platform", [MNS_TOPIC, MNS_QUEUE, UNKNOWN])
@given(outcomes=outcome_lists)
def test_without_a_partial_reply_a_retry_is_a_raise_and_nothing_else_is(platform, outcomes):
    transient = [o for o in outcomes if o.status is Verdict.TRANSIENT]
    if not transient:
        assert platform_reply(QueueBatch(platform, ()), outcomes) == {
            "processed": len(outcomes),
            "succeeded": sum(o.status is Verdict.SUCCESS for o in outcomes),
            "failed_permanently": sum(o.status is Verdict.PERMANENT for o in outcomes),
        }
        return
    with pytest.raises(RetryLaterError) as exc:
        platform_reply(QueueBatch(platform, ()), outcomes)
    assert exc.value.message_ids == [o.message_id for o in transient]
    assert exc.value.reasons == [f"{o.message_id or 'message'}: throttled" for o in transient]
    assert str(exc.value).startswith(f"{len(transient)} of {len(outcomes)} message(s) will be retried: ")


def test_an_sqs_message_without_an_id_to_retry_fails_the_batch_with_a_warning(caplog):
    outcomes = [MessageOutcome(None, "k", Verdict.TRANSIENT, _FAILURES[Verdict.TRANSIENT])]
    caplog.set_level("WARNING", logger="pushfn.triggers")
    assert platform_reply(QueueBatch(SQS, ()), outcomes) == {"batchItemFailures": [{"itemIdentifier": ""}]}
    assert [getattr(r, "fields", {}).get("event") for r in caplog.records] == ["queue_push.batch_failed"]


def test_a_tick_to_retry_raises_chained_to_its_cause_and_any_other_returns_its_summary():
    summary = {"status": "partial", "key": "nightly#2024-05-01T08:00:00Z", "items": []}
    cause = ThrottledError("Throttling.User", "slow down", request_id="r", http_status=429)
    outcome = TickOutcome(summary, "nightly#2024-05-01T08:00:00Z", ("item 1: throttled (ThrottledError)",), cause)
    with pytest.raises(RetryLaterError) as exc:
        timer_adapter.platform_reply(outcome)
    assert exc.value.__cause__ is cause
    assert str(exc.value) == "tick nightly#2024-05-01T08:00:00Z will be retried: item 1: throttled (ThrottledError)"

    for done in (TickOutcome(summary, "k"), TickOutcome({"status": "invalid", "problems": []})):
        assert timer_adapter.platform_reply(done) == done.summary


# --- the file function: its retry is the object adapter's too ------------------------------------------


def test_no_job_module_raises_the_platforms_retry_signal():
    """The queue, the timer and the file function each hand their outcomes to their adapter's
    ``platform_reply``; none raises :class:`RetryLaterError` itself (catching one, as the in-process
    fan-out does, is fine)."""
    raising = []
    for file, tree in _jobs_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                called = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(called, ast.Name) and called.id == "RetryLaterError":
                    raising.append(f"{file}:{node.lineno}")
    assert raising == []


file_outcome_lists = st.lists(
    st.builds(
        lambda n, retry, caused: FileOutcome(
            {"key": f"f{n}.txt", "status": "partial" if retry else "completed"},
            f"f{n}.txt: throttled" if retry else None,
            ThrottledError("Throttling.User", f"slow {n}", request_id="r", http_status=429) if caused else None,
        ),
        st.integers(min_value=0, max_value=99),
        st.booleans(),
        st.booleans(),
    ),
    max_size=6,
)


@given(outcomes=file_outcome_lists)
def test_an_object_event_with_a_file_to_retry_raises_naming_each_and_any_other_returns_its_answer(outcomes):
    answer = {"status": "ok", "files": [o.summary for o in outcomes], "skipped": []}
    retry = [o for o in outcomes if o.retry_reason]
    if not retry:
        assert objects_adapter.platform_reply(answer, outcomes) == answer
        return
    with pytest.raises(RetryLaterError) as exc:
        objects_adapter.platform_reply(answer, outcomes)
    assert exc.value.reasons == [o.retry_reason for o in retry]
    assert exc.value.__cause__ is next((o.cause for o in outcomes if o.cause is not None), None)
    assert str(exc.value).startswith("the object event will be retried: ")
