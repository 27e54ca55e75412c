"""The pydantic models of the queue envelope: the explainer of a refused body.

:mod:`pushfn.specs.envelope` accepts a valid body without pydantic; a body it does not accept is
validated here, so the error names the field and the rule exactly as pydantic words it (translated by
:func:`pushfn.problems.problems_from_validation`). Shapes, limits and the accepted jobs:
:mod:`pushfn.specs.envelope`, whose constants these models use; ``tests/jobs/queue/test_envelope.py``
proves on generated bodies that both accept the same ones, with the same job.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, field_validator

from pushfn.problems import problems_from_validation
from pushfn.push.errors import InvalidRequestError
from pushfn.specs.envelope import (
    BUCKET_PATTERN,
    KEY_PATTERN,
    MAX_BUCKET_CHARS,
    MAX_ETAG_CHARS,
    MAX_JOB_KEY_CHARS,
    MAX_REGION_CHARS,
    MAX_REPORT_KEY_CHARS,
    MAX_SOURCE_CHARS,
    MIN_BUCKET_CHARS,
    MIN_REPORT_KEY_CHARS,
    REGION_PATTERN,
    is_own_report,
)

_Key = Annotated[str, Field(min_length=1, max_length=MAX_JOB_KEY_CHARS, pattern=KEY_PATTERN)]


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    key: _Key | None = None


class PushJobModel(_Envelope):
    """Send one push, or a list of them in order."""

    kind: Literal["push"] = "push"
    push: dict[str, Any] | list[Any]


class MassPushJobModel(_Envelope):
    """One MassPush call (up to 100 personalised tasks)."""

    kind: Literal["mass_push"] = "mass_push"
    mass_push: dict[str, Any]


class ChunkRefModel(BaseModel):
    """Where a chunk came from: enough to name it uniquely and to find it in the file's report."""

    model_config = ConfigDict(extra="allow", frozen=True)

    source: str = Field(min_length=1, max_length=MAX_SOURCE_CHARS)
    etag: str = Field(min_length=1, max_length=MAX_ETAG_CHARS)
    # Strict, as the plain check is: a chunk number is a JSON integer (not true, 1.0 or "01").
    chunk: int = Field(ge=0, strict=True)
    chunks: int | None = Field(default=None, ge=1, strict=True)

    @field_validator("chunks")
    @classmethod
    def _chunk_in_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Chunks count from 0: a job saying chunk 3 of 2 names a chunk its file never had.
        chunk = info.data.get("chunk")
        if value is not None and type(chunk) is int and chunk >= value:
            raise ValueError(f"chunk must be less than chunks (chunks count from 0; got chunk {chunk} of {value})")
        return value


class ReportRefModel(BaseModel):
    """Where the file's report is (:class:`pushfn.specs.envelope.ReportRef`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: Literal["local", "s3", "oss"]
    bucket: str = Field(min_length=MIN_BUCKET_CHARS, max_length=MAX_BUCKET_CHARS, pattern=BUCKET_PATTERN)
    key: str = Field(min_length=MIN_REPORT_KEY_CHARS, max_length=MAX_REPORT_KEY_CHARS)
    region: str | None = Field(default=None, min_length=1, max_length=MAX_REGION_CHARS, pattern=REGION_PATTERN)

    @field_validator("key")
    @classmethod
    def _report_key(cls, value: str) -> str:
        from pushfn.targets.parts import check_report_key

        return check_report_key(value)  # ValueError (an ObjectNameError is one) → a field problem


class ChunkJobModel(_Envelope):
    """One chunk of a target-list file, fanned out by the file function."""

    kind: Literal["chunk"] = "chunk"
    job: ChunkRefModel
    action: Literal["Push", "MassPush"] = "Push"
    params: dict[str, Any]
    report: ReportRefModel | None = None

    @field_validator("report")
    @classmethod
    def _own_report(cls, value: ReportRefModel | None, info: ValidationInfo) -> ReportRefModel | None:
        job = info.data.get("job")
        if value is not None and job is not None and not is_own_report(job.source, value.bucket, value.key):
            raise ValueError("the report must be the job's own source's: <bucket>/<key> + .report.json")
        return value


QueueJobModel = Union[PushJobModel, MassPushJobModel, ChunkJobModel]  # noqa: UP007 - a runtime object for TypeAdapter

_JOB_CLASSES = {"push": PushJobModel, "mass_push": MassPushJobModel, "chunk": ChunkJobModel}
_ADAPTER: TypeAdapter[QueueJobModel] = TypeAdapter(Annotated[QueueJobModel, Field(discriminator="kind")])


def validate_job(data: dict[str, Any]) -> QueueJobModel:
    """``data`` (an envelope whose ``kind`` and ``version`` are known) as a model; raises
    :class:`InvalidRequestError` naming every bad field (the tag that names the job class is dropped;
    input values are never echoed: they may be device ids)."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InvalidRequestError(problems_from_validation(exc, union=_JOB_CLASSES), "Push") from None
