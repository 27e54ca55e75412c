"""The body of a queued push job: a versioned envelope, or a bare spec.

Shapes a queue message body may take (JSON)::

    {"kind": "push", "version": 1, "key": "optional-idempotency-key",
     "push": <push spec: one Push request, a list of them, or a template reference>}

    {"kind": "mass_push", "version": 1, "key": "...",
     "mass_push": {"PushTask": [{<MassPush task>}, ...]}}          # AppKey filled when absent

    {"kind": "chunk", "version": 1, "key": "...",                   # produced by the file function
     "job": {"source": "<bucket>/<object key>", "etag": "<ETag or version id>", "chunk": 3,
             "first_line": 3001, "last_line": 4012},          # lines: for people; "chunks": n optional
                                                              # (chunk counts from 0, so chunk < chunks)
     "action": "Push" | "MassPush",
     "params": {<the request for that chunk: Push params with TargetValue = the chunk's targets,
                 or MassPush params with one task per personalised row>},
     "report": {"store": "local" | "s3" | "oss", "bucket": "<bucket>",     # optional: where the file's
                "key": "<object key>.report.json", "region": "<region>" | null}}   # report is

A body without ``kind`` is taken as ``kind: push`` (a bare push spec, object or list), or as
``kind: mass_push`` when it is an object carrying ``PushTask`` (any spelling).

``key`` is the idempotency key. Without it the queue adapter keys on the message id, and a chunk
on ``chunk:<source>:<etag>:<chunk>`` — the same chunk re-queued after a restart is not sent twice.
An unknown ``kind`` or ``version`` is a permanent failure with a clear reason: a consumer must never
guess at a shape a newer producer invented.

A chunk's ``report`` tells the queue function where to record the chunk's outcome (a part beside the
report, :mod:`pushfn.targets.parts`). Its names are checked before any store is touched: a known store,
a bucket name S3 and OSS both allow (3-63 of ``a-z 0-9 . -``, starting and ending alphanumeric), a
report key that is a safe object name (no ``..`` segment, no absolute path, no control character)
ending in ``.report.json``, and a region of ``a-z 0-9 -`` only (it becomes part of an endpoint host).
The report must be the one of the job's own ``source`` (``<bucket>/<key>`` → bucket ``bucket``, key
``<key>.report.json``): a chunk records its outcome only in its own file's report.

A valid body is accepted here without pydantic (the queue function's cold path); any other is handed
to the pydantic models of :mod:`pushfn.specs.envelope_models`, which name the bad field and rule.
"""

from __future__ import annotations

import json
import re

from pushfn.errors import FieldProblem
from pushfn.json_input import JsonInputError, check_text, decode_json, describe_json_type
from pushfn.problems import fold_name
from pushfn.push.errors import InvalidRequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Envelope versions this consumer understands, per kind.
SUPPORTED_VERSIONS = {"push": (1,), "mass_push": (1,), "chunk": (1,)}

#: Longest ``key`` an envelope may carry (visible ASCII only, no spaces).
MAX_JOB_KEY_CHARS = 200
KEY_PATTERN = r"^[\x21-\x7e]+$"
#: Bounds of a chunk's ``job.source`` (``<bucket>/<object key>``) and ``job.etag``, in characters.
# A legacy S3 bucket name (up to 255) + "/" + an object key (up to 1,024 bytes).
MAX_SOURCE_CHARS = 1280
MAX_ETAG_CHARS = 200
#: A chunk's ``report``: the stores it may name, and the patterns and bounds of its names.
REPORT_STORES = ("local", "s3", "oss")
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"
REGION_PATTERN = r"^[a-z0-9-]+$"
MIN_BUCKET_CHARS, MAX_BUCKET_CHARS = 3, 63
MIN_REPORT_KEY_CHARS, MAX_REPORT_KEY_CHARS = 13, 1100
MAX_REGION_CHARS = 40
_BUCKET = re.compile(BUCKET_PATTERN)
_REGION = re.compile(REGION_PATTERN)
_KEY = re.compile(KEY_PATTERN)
#: The fields each kind takes besides ``kind``, ``version`` and ``key``.
_FIELDS = {"push": {"push"}, "mass_push": {"mass_push"}, "chunk": {"job", "action", "params", "report"}}


class _Job:
    """A job read from a message: compared and shown by its fields (``_fields``)."""

    _fields: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name not in ("push", "params"))
        return f"{type(self).__name__}({shown})"


class PushJob(_Job):
    """Send one push, or a list of them in order (``push``: a spec object or a list of them)."""

    _fields = ("version", "key", "kind", "push")
    kind = "push"

    def __init__(self, *, version: int, push: dict[str, Any] | list[Any], key: str | None = None) -> None:
        self.version, self.key, self.push = version, key, push


class MassPushJob(_Job):
    """One MassPush call (up to 100 personalised tasks): ``mass_push`` holds its parameters."""

    _fields = ("version", "key", "kind", "mass_push")
    kind = "mass_push"

    def __init__(self, *, version: int, mass_push: dict[str, Any], key: str | None = None) -> None:
        self.version, self.key, self.mass_push = version, key, mass_push


class ChunkRef(_Job):
    """Where a chunk came from: enough to name it uniquely and to find it in the file's report
    (``source`` ``<bucket>/<object key>``, ``etag``, ``chunk`` from 0, ``chunks`` in all; ``extra``:
    any other field the producer wrote, kept)."""

    _fields = ("source", "etag", "chunk", "chunks", "extra")

    def __init__(
        self, *, source: str, etag: str, chunk: int, chunks: int | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.source, self.etag, self.chunk, self.chunks = source, etag, chunk, chunks
        self.extra = dict(extra or {})


class ReportRef(_Job):
    """Where the file's report is: ``store`` (``local``, ``s3``, ``oss``), ``bucket``, report ``key``
    (``<object key>.report.json``) and the bucket's ``region``; names checked as the module docstring says."""

    _fields = ("store", "bucket", "key", "region")

    def __init__(self, *, store: str, bucket: str, key: str, region: str | None = None) -> None:
        self.store, self.bucket, self.key, self.region = store, bucket, key, region


class ChunkJob(_Job):
    """One chunk of a target-list file, fanned out by the file function: ``job`` (its
    :class:`ChunkRef`), ``action`` (``Push`` or ``MassPush``), ``params`` (that request) and ``report``
    (a :class:`ReportRef` locating the file's report, where the queue function records the chunk's outcome)."""

    _fields = ("version", "key", "kind", "job", "action", "params", "report")
    kind = "chunk"

    def __init__(
        self,
        *,
        version: int,
        job: ChunkRef,
        params: dict[str, Any],
        action: str = "Push",
        key: str | None = None,
        report: ReportRef | None = None,
    ) -> None:
        self.version, self.key, self.job, self.action, self.params = version, key, job, action, params
        self.report = report

    def default_key(self) -> str:
        """``chunk:<source>:<etag>:<chunk>``: the key when the envelope has none, the same for the same
        chunk of the same file version, so a re-queued chunk is not sent twice."""
        return f"chunk:{self.job.source}:{self.job.etag}:{self.job.chunk}"


#: Any job a message can hold.
QueueJob = PushJob | MassPushJob | ChunkJob


def parse_job(body: str | bytes) -> QueueJob:
    """Parse a message body into a job; raise :class:`InvalidRequestError` naming the bad field.

    The body is decoded by :func:`pushfn.json_input.decode_json` (BOM dropped; depth, string, number
    and text bounds applied), so a poison body is refused here with the rule it broke: the field
    is ``body`` for the document, ``body.<path>`` for a value inside it.
    """
    try:
        data = decode_json(body)
    except JsonInputError as exc:
        field = f"body.{exc.path}" if exc.path else "body"
        raise InvalidRequestError([FieldProblem(field, exc.rule, exc.detail)], "Push") from None
    return job_from_data(data)


def job_from_data(data: object) -> QueueJob:
    """A decoded JSON body → job; see the module docstring for the accepted shapes."""
    if isinstance(data, list):
        return PushJob(version=1, push=data)
    if not isinstance(data, dict):
        raise InvalidRequestError(
            [FieldProblem("body", "type", "the message body must be a JSON object or list")], "Push"
        )
    if "kind" not in data:
        if any(isinstance(k, str) and fold_name(k) in ("pushtask", "pushtasks") for k in data):
            return MassPushJob(version=1, mass_push=data)
        return PushJob(version=1, push=data)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in SUPPORTED_VERSIONS:
        raise InvalidRequestError(
            [
                FieldProblem(
                    "kind",
                    "unknown_kind",
                    f"unknown job kind {_shown(kind)}; this consumer knows {sorted(SUPPORTED_VERSIONS)}",
                )
            ],
            "Push",
        )
    version = data.get("version")
    # type() rather than ==: true == 1 and 1.0 == 1 in Python, but neither is version 1.
    if type(version) is not int or version not in SUPPORTED_VERSIONS[kind]:
        raise InvalidRequestError(
            [
                FieldProblem(
                    "version",
                    "missing" if version is None else "unsupported_version",
                    f"{kind} jobs need a version this consumer supports {list(SUPPORTED_VERSIONS[kind])}"
                    + ("" if version is None else f", got {_shown(version)}"),
                )
            ],
            "Push",
        )
    job = _accept(kind, data)
    if job is not None:
        return job
    from pushfn.specs.envelope_models import validate_job  # pydantic: only to explain a refusal

    return _from_model(validate_job(data))


def _accept(kind: str, data: dict[str, Any]) -> QueueJob | None:
    """The job ``data`` is, when every field is plainly valid; None hands it to pydantic."""
    if not set(data) <= {"kind", "version", "key", *_FIELDS[kind]}:
        return None
    key = data.get("key")
    if key is not None and not (type(key) is str and len(key) <= MAX_JOB_KEY_CHARS and _KEY.fullmatch(key)):
        return None
    if kind == "push":
        push = data.get("push")
        if type(push) not in (dict, list):
            return None
        return PushJob(version=1, key=key, push=dict(push) if type(push) is dict else list(push))
    if kind == "mass_push":
        mass_push = data.get("mass_push")
        return MassPushJob(version=1, key=key, mass_push=dict(mass_push)) if type(mass_push) is dict else None
    ref, action, params = data.get("job"), data.get("action", "Push"), data.get("params")
    if type(ref) is not dict or action not in ("Push", "MassPush") or type(params) is not dict:
        return None
    source, etag, chunk, chunks = ref.get("source"), ref.get("etag"), ref.get("chunk"), ref.get("chunks")
    if not (
        _is_text(source, 1, MAX_SOURCE_CHARS)
        and _is_text(etag, 1, MAX_ETAG_CHARS)
        and type(chunk) is int
        and chunk >= 0
        and (chunks is None or (type(chunks) is int and chunk < chunks))
    ):
        return None
    report = data.get("report")
    if report is not None:
        report = accept_report(report)
        if report is None or not is_own_report(source, report.bucket, report.key):
            return None
    extra = {name: value for name, value in ref.items() if name not in ("source", "etag", "chunk", "chunks")}
    job = ChunkRef(source=source, etag=etag, chunk=chunk, chunks=chunks, extra=extra)
    return ChunkJob(version=1, key=key, job=job, action=action, params=dict(params), report=report)


def is_own_report(source: str, bucket: str, report_key: str) -> bool:
    """Whether the report ``bucket``/``report_key`` is the one of the chunk's ``source`` (``<bucket>/<key>``).

    A part is recorded among the report's parts: a job naming another file's report would write (and
    could complete) that file's outcomes with a chunk it never was.
    """
    from pushfn.targets.readers import REPORT_SUFFIX

    return report_key.endswith(REPORT_SUFFIX) and source == f"{bucket}/{report_key[: -len(REPORT_SUFFIX)]}"


def accept_report(data: object) -> ReportRef | None:
    """The :class:`ReportRef` ``data`` is, when every name is valid (the module docstring's rules); else None
    (a chunk naming it is then handed to pydantic, which says why)."""
    if type(data) is not dict or not set(data) <= {"store", "bucket", "key", "region"}:
        return None
    store, bucket, key, region = data.get("store"), data.get("bucket"), data.get("key"), data.get("region")
    if not (
        store in REPORT_STORES
        and type(bucket) is str
        and MIN_BUCKET_CHARS <= len(bucket) <= MAX_BUCKET_CHARS
        and _BUCKET.fullmatch(bucket)
        and _is_text(key, MIN_REPORT_KEY_CHARS, MAX_REPORT_KEY_CHARS)
        and (
            region is None
            or (type(region) is str and 1 <= len(region) <= MAX_REGION_CHARS and _REGION.fullmatch(region))
        )
    ):
        return None
    from pushfn.targets.parts import check_report_key

    try:
        check_report_key(key)
    except ValueError:
        return None
    return ReportRef(store=store, bucket=bucket, key=key, region=region)


def _is_text(value: object, shortest: int, longest: int) -> bool:
    """A ``str`` of ``shortest`` to ``longest`` characters that is Unicode text (no lone surrogate: pydantic
    refuses one as ``string_unicode``, and it cannot be encoded to name an object)."""
    if type(value) is not str or not shortest <= len(value) <= longest:
        return False
    try:
        check_text(value)
    except JsonInputError:
        return False
    return True


def _from_model(model: Any) -> QueueJob:
    """The job a validated pydantic envelope stands for (a body the plain check left to pydantic)."""
    if model.kind == "push":
        return PushJob(version=model.version, key=model.key, push=model.push)
    if model.kind == "mass_push":
        return MassPushJob(version=model.version, key=model.key, mass_push=model.mass_push)
    ref, where = model.job, model.report
    job = ChunkRef(source=ref.source, etag=ref.etag, chunk=ref.chunk, chunks=ref.chunks, extra=ref.model_extra)
    report = (
        None if where is None else ReportRef(store=where.store, bucket=where.bucket, key=where.key, region=where.region)
    )
    return ChunkJob(
        version=model.version, key=model.key, job=job, action=model.action, params=model.params, report=report
    )


def _shown(value: object) -> str:
    """A value the caller sent, short and printable: strings quoted and cut, anything else by type."""
    if isinstance(value, str):
        from pushfn.masking import shorten

        return repr(shorten(value.encode("utf-8", "backslashreplace").decode("utf-8"), 40))
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)[:20]
    return describe_json_type(value)
