"""The queue message body: versioned envelopes, bare specs, and the reasons a body is refused."""

from __future__ import annotations

import pytest

from pushfn.push.errors import InvalidRequestError
from pushfn.specs.envelope import ChunkJob, MassPushJob, PushJob, parse_job

PUSH = {"Target": "ACCOUNT", "TargetValue": "u1", "DeviceType": "ALL", "PushType": "NOTICE", "Title": "T", "Body": "B"}


def _problems(body: str) -> set[tuple[str, str]]:
    with pytest.raises(InvalidRequestError) as exc:
        parse_job(body)
    return {(p.field, p.rule) for p in exc.value.problems}


def test_a_bare_push_object_or_list_is_a_push_job():
    import json

    assert parse_job(json.dumps(PUSH)) == PushJob(version=1, push=PUSH)
    assert parse_job(json.dumps([PUSH, PUSH])).push == [PUSH, PUSH]


def test_a_bare_mass_push_is_recognised_by_its_tasks():
    import json

    job = parse_job(json.dumps({"push_task": [PUSH]}))
    assert isinstance(job, MassPushJob)


def test_versioned_envelopes():
    push = parse_job('{"kind": "push", "version": 1, "key": "order-42", "push": {"Title": "x"}}')
    assert isinstance(push, PushJob) and push.key == "order-42"
    chunk = parse_job(
        '{"kind": "chunk", "version": 1, "job": {"source": "b/list.csv", "etag": "abc", "chunk": 3, "chunks": 9},'
        ' "action": "MassPush", "params": {"PushTask": []}}'
    )
    assert isinstance(chunk, ChunkJob)
    assert chunk.default_key() == "chunk:b/list.csv:abc:3"
    assert chunk.action == "MassPush"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", ("body", "json")),
        ('"a string"', ("body", "type")),
        ('{"kind": "sms", "version": 1}', ("kind", "unknown_kind")),
        ('{"kind": "push", "push": {}}', ("version", "missing")),
        ('{"kind": "push", "version": 2, "push": {}}', ("version", "unsupported_version")),
        ('{"kind": "push", "version": 1}', ("push", "missing")),
        ('{"kind": "push", "version": 1, "push": {}, "extra": 1}', ("extra", "unknown_field")),
        ('{"kind": "push", "version": 1, "key": "", "push": {}}', ("key", "string_too_short")),
        ('{"kind": "push", "version": 1, "key": "has space", "push": {}}', ("key", "string_pattern_mismatch")),
        (
            '{"kind": "chunk", "version": 1, "job": {"source": "b/k", "chunk": -1}, "params": {}}',
            ("job.etag", "missing"),
        ),
        (
            '{"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": -1}, "params": {}}',
            ("job.chunk", "greater_than_equal"),
        ),
        (
            '{"kind": "chunk", "version": 1, "job": {"source": "b", "etag": "e", "chunk": 0}, "action": "Send",'
            ' "params": {}}',
            ("action", "literal_error"),
        ),
    ],
)
def test_refused_bodies_name_field_and_rule(body, problem):
    assert problem in _problems(body)
