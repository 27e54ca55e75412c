"""The queue message body: versioned envelopes, bare specs, and the reasons a body is refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushfn.push.errors import InvalidRequestError
from pushfn.specs import envelope_models
from pushfn.specs.envelope import (
    MAX_ETAG_CHARS,
    MAX_JOB_KEY_CHARS,
    MAX_SOURCE_CHARS,
    ChunkJob,
    MassPushJob,
    PushJob,
    _accept,
    _from_model,
    parse_job,
)

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


_CHUNK = (
    '{"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": 0}, "params": {}, "report": %s}'
)


def test_a_chunk_names_its_report():
    report = '{"store": "oss", "bucket": "my-bucket", "key": "in/list ü.txt.report.json", "region": "cn-hangzhou"}'
    job = parse_job(_CHUNK.replace('"b/k"', '"my-bucket/in/list ü.txt"') % report)
    assert isinstance(job, ChunkJob) and job.report is not None
    assert (job.report.store, job.report.bucket, job.report.key, job.report.region) == (
        "oss",
        "my-bucket",
        "in/list ü.txt.report.json",
        "cn-hangzhou",
    )
    assert parse_job(_CHUNK % "null").report is None


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ('{"store": "ftp", "bucket": "b-1", "key": "a.report.json"}', ("report.store", "literal_error")),
        ('{"store": "s3", "bucket": "B", "key": "a.report.json"}', ("report.bucket", "string_too_short")),
        (
            '{"store": "s3", "bucket": "Big_Bucket", "key": "a.report.json"}',
            ("report.bucket", "string_pattern_mismatch"),
        ),
        ('{"store": "s3", "bucket": "../etc", "key": "a.report.json"}', ("report.bucket", "string_pattern_mismatch")),
        ('{"store": "local", "bucket": "b-1", "key": "../up/a.txt.report.json"}', ("report.key", "value_error")),
        ('{"store": "local", "bucket": "b-1", "key": "/etc/a.txt.report.json"}', ("report.key", "value_error")),
        ('{"store": "local", "bucket": "b-1", "key": "a/b\\u0000.report.json"}', ("report.key", "value_error")),
        ('{"store": "local", "bucket": "b-1", "key": "in/a.txt.push.json"}', ("report.key", "value_error")),
        ('{"store": "local", "bucket": "b-1", "key": "in/a.txt"}', ("report.key", "string_too_short")),
        (
            '{"store": "oss", "bucket": "b-1", "key": "a.report.json", "region": "evil.com/x"}',
            ("report.region", "string_pattern_mismatch"),
        ),
        ('{"store": "oss", "bucket": "b-1", "key": "a.report.json", "extra": 1}', ("report.extra", "unknown_field")),
    ],
)
def test_a_chunks_report_names_are_checked_before_use(report, problem):
    assert problem in _problems(_CHUNK % report)


# --- the plain check and the pydantic models agree ------------------------------------------------------


def _chars(limit: int) -> st.SearchStrategy[str]:
    sized = st.sampled_from([0, 1, limit - 1, limit, limit + 1]).map(lambda n: "k" * n)
    return st.one_of(sized, st.sampled_from(["b/k\ud800", "\udc00", "é/ü", "b/k 😀", "b/k\n"]))


KEYS = st.one_of(_chars(MAX_JOB_KEY_CHARS), st.sampled_from(["a b", "é", "ok\n", "\x7f", "x", None, 5]))
LOOSE = st.sampled_from([None, 0, -1, 1, 3, True, False, 1.0, -0.0, "3", "01", "", [], {}, {"a": 1}, [1]])
REFS = st.fixed_dictionaries(
    {},
    optional={
        "source": st.one_of(_chars(MAX_SOURCE_CHARS), LOOSE),
        "etag": st.one_of(_chars(MAX_ETAG_CHARS), LOOSE),
        "chunk": st.one_of(st.integers(-2, 3), LOOSE),
        "chunks": st.one_of(st.integers(-1, 2), LOOSE),
        "extra_field": LOOSE,
    },
)
REPORTS = st.fixed_dictionaries(
    {},
    optional={
        "store": st.sampled_from(["local", "s3", "oss", "ftp", "", None, 1]),
        "bucket": st.sampled_from(["my-bucket", "ab", "a" * 63, "a" * 64, "B-1", "-ab", "ab-", "a.b", "", None, 3]),
        "key": st.sampled_from(
            [
                "in/a.txt.report.json",
                ".report.json",
                "x.report.json",
                "../a.report.json",
                "/a.report.json",
                "a\x00.report.json",
                "in/a.txt",
                "in/a.push.json",
                "ü/a.report.json",
                "k" * 1089 + ".report.json",
                "k" * 1088 + ".report.json",
                "in/a\ud800.report.json",
                "in/é 😀.report.json",
                None,
                5,
            ]
        ),
        "region": st.sampled_from(["cn-hangzhou", "us-east-1", "", "a" * 40, "a" * 41, "EU", "evil.com/x", None, 1]),
        "extra": LOOSE,
    },
)
_VALID_CHUNK = {
    "kind": "chunk",
    "version": 1,
    "key": "k-1",
    "job": {"source": "b/k", "etag": "e", "chunk": 0, "chunks": 2},
    "action": "Push",
    "params": PUSH,
    "report": {"store": "s3", "bucket": "my-bucket", "key": "in/a.txt.report.json", "region": "cn-hangzhou"},
}
#: Values for one field of a valid chunk, so that a disagreement on that field alone is reached.
_ONE_FIELD = {
    ("key",): KEYS,
    ("job", "source"): st.one_of(_chars(MAX_SOURCE_CHARS), LOOSE),
    ("job", "etag"): st.one_of(_chars(MAX_ETAG_CHARS), LOOSE),
    ("job", "chunk"): st.one_of(st.integers(-2, 3), LOOSE),
    ("job", "chunks"): st.one_of(st.integers(-1, 2), LOOSE),
    ("report", "key"): REPORTS.flatmap(lambda report: st.just(report.get("key", "x.report.json"))),
    ("report", "bucket"): REPORTS.flatmap(lambda report: st.just(report.get("bucket", "ab"))),
    ("report", "region"): REPORTS.flatmap(lambda report: st.just(report.get("region"))),
}


@st.composite
def _chunk_with_one_field_drawn(draw: st.DrawFn) -> dict:
    path = draw(st.sampled_from(sorted(_ONE_FIELD)))
    value = draw(_ONE_FIELD[path])
    data = {**_VALID_CHUNK, "job": dict(_VALID_CHUNK["job"]), "report": dict(_VALID_CHUNK["report"])}
    if len(path) == 1:
        data[path[0]] = value
    else:
        data[path[0]][path[1]] = value
    return data


ENVELOPES = st.one_of(
    _chunk_with_one_field_drawn(),
    st.fixed_dictionaries(
        {"kind": st.just("push"), "version": st.just(1)},
        optional={"key": KEYS, "push": st.one_of(st.just(PUSH), st.just([PUSH]), LOOSE), "other": LOOSE},
    ),
    st.fixed_dictionaries(
        {"kind": st.just("mass_push"), "version": st.just(1)},
        optional={"key": KEYS, "mass_push": st.one_of(st.just({"PushTask": [PUSH]}), LOOSE), "push": LOOSE},
    ),
    st.fixed_dictionaries(
        {"kind": st.just("chunk"), "version": st.just(1)},
        optional={
            "key": KEYS,
            "job": st.one_of(REFS, LOOSE),
            "action": st.sampled_from(["Push", "MassPush", "push", None, 1]),
            "params": st.one_of(st.just(PUSH), LOOSE),
            "report": st.one_of(REPORTS, LOOSE),
        },
    ),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(ENVELOPES)
def test_the_plain_check_accepts_exactly_what_the_models_accept_with_the_same_job(data) -> None:
    plain = _accept(data["kind"], data)
    try:
        model = envelope_models.validate_job(data)
    except InvalidRequestError:
        assert plain is None
        return
    assert plain is not None and plain == _from_model(model)


def test_a_valid_envelope_is_read_without_pydantic() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from pushfn.specs.envelope import parse_job\n"
        'parse_job(\'{"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": 0},'
        ' "params": {}}\')\n'
        'parse_job(\'{"kind": "push", "version": 1, "key": "k-1", "push": {}}\')\n'
        "print('pydantic' in sys.modules)\n"
    )
    shared = Path(__file__).resolve().parents[3] / "shared"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(shared), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("field", ["chunk", "chunks"])
@pytest.mark.parametrize("value", [True, False, 1.0, -0.0, "1", " 1", "01"])
def test_a_chunk_number_is_an_integer_in_the_plain_check_and_the_models_alike(field, value) -> None:
    """Regression: pydantic's lax ints took ``true``, ``1.0`` and ``"01"`` as chunk numbers the plain check
    refuses; a chunk number is a JSON integer, as ``version`` is (``true == 1`` is no chunk 1)."""
    data = {
        "kind": "chunk",
        "version": 1,
        "job": {"source": "b/k", "etag": "e", "chunk": 0, field: value},
        "params": {},
    }
    assert _accept("chunk", data) is None
    with pytest.raises(InvalidRequestError) as refused:
        envelope_models.validate_job(data)
    assert [problem.field for problem in refused.value.problems] == [f"job.{field}"]


@pytest.mark.parametrize(
    ("where", "field"), [("job", "source"), ("job", "etag"), ("report", "key")], ids=lambda name: name
)
def test_a_lone_surrogate_is_refused_by_the_plain_check_as_by_the_models(where, field) -> None:
    """Regression: a decoded body (``job_from_data``) whose source, etag or report key held a lone surrogate
    was accepted by the plain check and refused by pydantic (``string_unicode``); it is no text to store."""
    data = {
        "kind": "chunk",
        "version": 1,
        "job": {"source": "b/k", "etag": "e", "chunk": 0},
        "params": {},
        "report": {"store": "s3", "bucket": "my-bucket", "key": "in/a.txt.report.json"},
    }
    data[where] = {**data[where], field: "in/a\ud800.report.json"}
    assert _accept("chunk", data) is None
    with pytest.raises(InvalidRequestError) as refused:
        envelope_models.validate_job(data)
    assert [problem.field for problem in refused.value.problems] == [f"{where}.{field}"]


@pytest.mark.parametrize(("chunk", "chunks"), [(2, 2), (3, 2), (9_223_372_036_854_775_807, 1)])
def test_a_chunk_past_its_files_chunk_count_is_refused(chunk, chunks) -> None:
    """Regression: ``chunk: 3`` with ``chunks: 2`` (chunks count from 0) named a chunk its file never had and
    was sent, its part recorded against a report that cannot hold it; the plain check and the models now both
    refuse it, naming ``job.chunks``. The last chunk (``chunks - 1``) is still accepted."""
    data = {"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": chunk, "chunks": chunks}}
    data["params"] = {}
    assert _accept("chunk", data) is None
    with pytest.raises(InvalidRequestError) as refused:
        envelope_models.validate_job(data)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("job.chunks", "value_error")]
    last = {**data, "job": {**data["job"], "chunk": chunks - 1}}
    assert _accept("chunk", last) == _from_model(envelope_models.validate_job(last))
