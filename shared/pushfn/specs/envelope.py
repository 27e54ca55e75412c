"""The body of a queued push job: a versioned envelope, or a bare spec.

Shapes a queue message body may take (JSON)::

    {"kind": "push", "version": 1, "key": "optional-idempotency-key",
     "push": <push spec: one Push request, a list of them, or a template reference>}

    {"kind": "mass_push", "version": 1, "key": "...",
     "mass_push": {"PushTask": [{<MassPush task>}, ...]}}          # AppKey filled when absent

    {"kind": "chunk", "version": 1, "key": "...",                   # produced by the file function
     "job": {"source": "<bucket>/<object key>", "etag": "<ETag or version id>", "chunk": 3,
             "first_line": 3001, "last_line": 4012},          # lines: for people; "chunks": n optional
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
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, field_validator

from pushfn.errors import FieldProblem
from pushfn.json_input import JsonInputError, decode_json, describe_json_type
from pushfn.problems import problems_from_validation
from pushfn.push.errors import InvalidRequestError

#: Envelope versions this consumer understands, per kind.
SUPPORTED_VERSIONS = {"push": (1,), "mass_push": (1,), "chunk": (1,)}

#: Longest ``key`` an envelope may carry (visible ASCII only, no spaces).
MAX_JOB_KEY_CHARS = 200

_Key = Annotated[str, Field(min_length=1, max_length=MAX_JOB_KEY_CHARS, pattern=r"^[\x21-\x7e]+$")]


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    key: _Key | None = None


class PushJob(_Envelope):
    """Send one push, or a list of them in order."""

    kind: Literal["push"] = "push"
    push: dict[str, Any] | list[Any]


class MassPushJob(_Envelope):
    """One MassPush call (up to 100 personalised tasks)."""

    kind: Literal["mass_push"] = "mass_push"
    mass_push: dict[str, Any]


class ChunkRef(BaseModel):
    """Where a chunk came from: enough to name it uniquely and to find it in the file's report."""

    model_config = ConfigDict(extra="allow", frozen=True)

    # A legacy S3 bucket name (up to 255) + "/" + an object key (up to 1,024 bytes).
    source: str = Field(min_length=1, max_length=1280)
    etag: str = Field(min_length=1, max_length=200)
    chunk: int = Field(ge=0)
    chunks: int | None = Field(default=None, ge=1)


class ReportRef(BaseModel):
    """Where the file's report is: ``store`` (``local``, ``s3``, ``oss``), ``bucket``, report ``key``
    (``<object key>.report.json``) and the bucket's ``region``; names checked as the module docstring says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: Literal["local", "s3", "oss"]
    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    key: str = Field(min_length=13, max_length=1100)
    region: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")

    @field_validator("key")
    @classmethod
    def _report_key(cls, value: str) -> str:
        from pushfn.targets.parts import check_report_key

        return check_report_key(value)  # ValueError (an ObjectNameError is one) → a field problem


class ChunkJob(_Envelope):
    """One chunk of a target-list file, fanned out by the file function; ``report`` locates the file's
    report, where the queue function records the chunk's outcome."""

    kind: Literal["chunk"] = "chunk"
    job: ChunkRef
    action: Literal["Push", "MassPush"] = "Push"
    params: dict[str, Any]
    report: ReportRef | None = None

    @field_validator("report")
    @classmethod
    def _own_report(cls, value: ReportRef | None, info: ValidationInfo) -> ReportRef | None:
        # A part is recorded among the report's parts: a job naming another file's report would write
        # (and could complete) that file's outcomes with a chunk it never was.
        job = info.data.get("job")
        if value is not None and job is not None:
            from pushfn.targets.readers import REPORT_SUFFIX

            if job.source != f"{value.bucket}/{value.key[: -len(REPORT_SUFFIX)]}":
                raise ValueError("the report must be the job's own source's: <bucket>/<key> + .report.json")
        return value

    def default_key(self) -> str:
        """``chunk:<source>:<etag>:<chunk>``: the key when the envelope has none, the same for the same
        chunk of the same file version, so a re-queued chunk is not sent twice."""
        return f"chunk:{self.job.source}:{self.job.etag}:{self.job.chunk}"


QueueJob = Union[PushJob, MassPushJob, ChunkJob]  # noqa: UP007 - a runtime object for TypeAdapter

_JOB_CLASSES = {"push": PushJob, "mass_push": MassPushJob, "chunk": ChunkJob}
_ADAPTER: TypeAdapter[QueueJob] = TypeAdapter(Annotated[QueueJob, Field(discriminator="kind")])


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
        if any(isinstance(k, str) and k.replace("_", "").lower() in ("pushtask", "pushtasks") for k in data):
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
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        # The tag (loc[0]) names the job class; input values are never echoed (they may be device ids).
        raise InvalidRequestError(problems_from_validation(exc, union=_JOB_CLASSES), "Push") from None


def _shown(value: object) -> str:
    """A value the caller sent, short and printable: strings quoted and cut, anything else by type."""
    if isinstance(value, str):
        return repr(value.encode("utf-8", "backslashreplace").decode("utf-8")[:40])
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)[:20]
    return describe_json_type(value)
