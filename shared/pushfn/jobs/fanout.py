"""Fan-out: chunks of a big target file handed to the queue function instead of sent by the file function.

When a file has more valid targets than ``PUSHFN_FILE_FANOUT_TARGETS`` (default 50,000), every chunk
planned after that many targets is not sent by the file function: it becomes one ``chunk`` job
(:class:`~pushfn.specs.envelope.ChunkJob`) handed to a :class:`FanoutSink`, and the report records it as
``queued``. The job carries where the file's report is (store kind, bucket, report key, region), and the
queue function records the chunk's outcome there as a part; the report says ``partial`` until every
queued chunk has one, then ``complete`` (:mod:`pushfn.targets.parts`). The first targets are still sent
inline, so a file that is not big is never delayed by a queue and the decision needs no second pass over
the object; so is a chunk whose job would exceed the sink's message limit (SQS 256 KB, FC's asynchronous
payload 128 KB: 1,000 aliases of 128 bytes do), which the platform would refuse for good.

Sinks (the platform choice is :func:`pushfn.triggers.objects.fanout_sink`):

- :class:`SqsFanout` — one SQS message per chunk (``PUSHFN_FANOUT_QUEUE_URL``), consumed by ``queue_push``.
- :class:`FcFanout` — one asynchronous invocation of the queue function through ``aliyun-fc2``
  (``x-fc-invocation-type: Async``) with the chunk's key, as a digest, in
  ``X-Fc-Stateful-Async-Invocation-Id``: FC refuses a repeated id with 409, which means "already queued".
- :class:`InProcessFanout` — local runs: the queue handler is called directly with the job.

Each job carries **copies of the chunk's rendered request** (``params``: at most 1,000 targets or 100
rendered tasks, ~35 KB for 1,000 device ids), not a byte range of the object: the chunk's content
depends on the whole file before it (duplicates are dropped across the file, invalid lines skipped,
types split into separate chunks), so a range would make every consumer re-read and re-plan the object
from its start, and it would tie the queue function to the object store's credentials and readers.

Every job's ``key`` is the chunk's idempotency key (:func:`~pushfn.targets.chunks.chunk_key`), so a job
queued twice (the file's event redelivered, a retried run) is sent at most once by the queue function.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pushfn.jobs.errors import JobError
from pushfn.logs import get_logger

if TYPE_CHECKING:
    from pushfn.push.credentials import CredentialsProvider
    from pushfn.targets.chunks import Chunk
    from pushfn.targets.readers import ObjectReader
    from pushfn.targets.report import Report
    from pushfn.triggers.objects import ObjectCreated

#: The default of ``PUSHFN_FILE_FANOUT_TARGETS``: files above this many valid targets are fanned out.
DEFAULT_FANOUT_TARGETS = 50_000
#: FC's header naming a stateful asynchronous invocation (a repeat of the same id is refused with 409).
INVOCATION_ID_HEADER = "X-Fc-Stateful-Async-Invocation-Id"

_SQS_HOST = re.compile(r"^sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class FanoutError(JobError):
    """A chunk job could not be handed to the queue function; ``transient`` when a retry may succeed."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


def chunk_job(obj: ObjectCreated, chunk: Chunk, reader: ObjectReader | None = None) -> dict[str, Any]:
    """The ``chunk`` envelope of ``chunk`` of ``obj`` (see :mod:`pushfn.specs.envelope`); with the
    ``reader`` of ``obj``'s store, it names the report the queue function records the outcome beside,
    when the envelope's rules accept that report's names (else the job goes without, and is still sent)."""
    from pushfn.targets.chunks import chunk_key
    from pushfn.targets.readers import report_key

    located = {}
    if reader is not None:
        report = {"store": reader.kind, "bucket": obj.bucket, "key": report_key(obj.key), "region": obj.region}
        if _report_accepted(report):
            located["report"] = report
        else:  # the queue function would refuse the whole job: send it without, the report stays partial
            _log_unnamed_report(obj)
    return {
        "kind": "chunk",
        "version": 1,
        "key": chunk_key(obj.bucket, obj.key, obj.version, chunk.index),
        "job": {
            "source": f"{obj.bucket}/{obj.key}",
            "etag": obj.version or "-",
            "chunk": chunk.index,
            "first_line": chunk.first_line,
            "last_line": chunk.last_line,
        },
        "action": chunk.action,
        "params": chunk.params,
        **located,
    }


def _report_accepted(report: dict[str, Any]) -> bool:
    """True when the chunk envelope's rules (:func:`~pushfn.specs.envelope.accept_report`) accept ``report``:
    a legacy S3 bucket name (capitals, ``_``) or an odd region would make the queue function refuse the job."""
    from pushfn.specs.envelope import accept_report

    return accept_report(report) is not None


def _log_unnamed_report(obj: ObjectCreated) -> None:
    from pushfn.jobs.files import _log

    _log(
        logging.WARNING,
        "file_push.report_unnamed",
        "chunk jobs name no report (bucket or region outside the envelope's rules): it stays partial",
        key=obj.key,
    )


def invocation_id(key: str) -> str:
    """The FC invocation id of a job key: ``pushfn-`` and 48 hex digits of its SHA-256 (FC allows only
    letters, digits, ``_`` and ``-`` there, and the key holds ``:``, ``/``, ``#``, ``%``)."""
    return "pushfn-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:48]


class Fanout:
    """The file function's fan-out: ``sink`` takes every chunk planned once more than ``after`` valid
    targets were read (:meth:`takes`), and :meth:`hand_over` queues one and records it in the report.
    ``reader`` (the file's store) is named in each job so the queue function records its outcome there;
    without it the jobs carry no report and the file's report stays ``partial``."""

    def __init__(
        self, sink: FanoutSink, after: int = DEFAULT_FANOUT_TARGETS, reader: ObjectReader | None = None
    ) -> None:
        self.sink, self.after, self.reader = sink, after, reader
        self._counted = 0  # chunks of the report whose targets are in _targets
        self._targets = 0

    def takes(self, report: Report) -> bool:
        """True once the chunks planned so far hold more than :attr:`after` targets (the last one included).

        Counted from the planned chunks, not ``report.valid``: the planner adds to that only when the
        file has been read to its end, which would fan out no full chunk at all."""
        planned = report.planned
        for plan in planned[self._counted :]:
            self._targets += plan.count
        self._counted = len(planned)
        return self._targets > self.after

    def fits(self, obj: ObjectCreated, chunk: Chunk) -> bool:
        """True when ``chunk``'s job is within the sink's ``max_job_bytes``. A bigger one (1,000 aliases of
        128 bytes are ~130 KB) would be refused by the platform for good: the file function sends it."""
        limit = self.sink.max_job_bytes
        return limit is None or len(json.dumps(chunk_job(obj, chunk, self.reader))) <= limit

    def hand_over(self, obj: ObjectCreated, chunk: Chunk, report: Report) -> tuple[str | None, BaseException | None]:
        """Queue ``chunk`` and record it ``queued``; ``(reason, cause)`` when the file must stop (a transient
        failure: the retry re-queues, and the job's key keeps the chunk from being sent twice), else
        ``(None, None)`` (a permanent refusal is recorded as the chunk's failure)."""
        from pushfn.jobs.files import _log

        try:
            job_id = self.sink.hand_over(chunk_job(obj, chunk, self.reader))
        except FanoutError as exc:
            _log(logging.WARNING, "file_push.fanout_failed", "not queued: %s", str(exc), key=obj.key, chunk=chunk.index)
            if exc.transient:
                return f"{obj.key}: chunk {chunk.index} not queued ({self.sink.name})", exc
            report.chunk_failed(chunk.index, code="fanout.refused", request_id=None, retryable=False, message=str(exc))
            return None, None
        report.chunk_queued(chunk.index, sink=self.sink.name, job_id=job_id)
        return None, None


class FanoutSink:
    """Where chunk jobs go. :meth:`hand_over` returns an id for the report or raises :class:`FanoutError`.
    ``max_job_bytes``: the largest job (its JSON) the platform takes, None for no limit."""

    name = "sink"
    max_job_bytes: int | None = None

    def hand_over(self, job: dict[str, Any]) -> str:
        """Queue one chunk job (an envelope dict); the id under which it was queued."""
        raise NotImplementedError


class SqsFanout(FanoutSink):
    """One SQS message per chunk job, sent with boto3 (endpoint and region taken from the queue URL)."""

    name = "sqs"
    #: SQS's message size limit, 256 KB (kept a little under).
    max_job_bytes = 256_000

    def __init__(self, queue_url: str, *, region: str | None = None, client: Any = None) -> None:
        self.queue_url = queue_url
        parts = urlsplit(queue_url)
        match = _SQS_HOST.match(parts.hostname or "")
        self._endpoint = f"{parts.scheme}://{parts.netloc}"
        self._region = (match.group(1) if match else None) or region or "us-east-1"
        self._client = client

    def hand_over(self, job: dict[str, Any]) -> str:
        """Send the job as one message; its SQS MessageId."""
        if self._client is None:
            import boto3  # heavy: only when a file is fanned out

            self._client = boto3.client("sqs", endpoint_url=self._endpoint, region_name=self._region)
        try:
            answer = self._client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(job, ensure_ascii=True))
        except Exception as exc:  # botocore's errors are many; all mean "not queued"
            raise FanoutError(f"chunk job not sent to {self.queue_url}: {type(exc).__name__}") from exc
        return str(answer.get("MessageId", ""))


class FcFanout(FanoutSink):
    """An asynchronous invocation of the queue function per chunk job, through ``aliyun-fc2``.

    ``function`` is ``service/function`` (``service.qualifier/function`` for a version or alias);
    ``credentials`` the push credential chain (STS token included)."""

    name = "fc"
    #: FC's asynchronous invocation payload limit, 128 KB, kept a little under (source:
    #: https://www.alibabacloud.com/help/en/functioncompute/fc/mns-queue-triggers, "Async (max 128 KB)").
    max_job_bytes = 128_000

    def __init__(
        self,
        *,
        endpoint: str,
        function: str,
        credentials: CredentialsProvider,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        service, _, name = function.partition("/")
        if not service or not name:
            raise FanoutError(f"name the queue function service/function, not {function[:60]!r}", transient=False)
        self.endpoint, self.service, self.function = endpoint, service, name
        self.credentials = credentials
        self._factory = client_factory

    def hand_over(self, job: dict[str, Any]) -> str:
        """Invoke asynchronously; a 409 for the job's invocation id means it was queued before. Credentials
        the chain cannot give are a transient :class:`FanoutError`, as an unreachable FC is."""
        import fc2  # heavy: only when a file is fanned out

        # fc2 logs every failed request's headers (the STS token among them) straight to the root logger:
        # the masking filter there scrubs them, as it does pushfn's own loggers.
        get_logger("")
        from pushfn.push.errors import CredentialsError

        try:
            creds = self.credentials.get_credentials()
        except CredentialsError as exc:  # STS down at a refresh, an expired token: the file's retry may succeed
            raise FanoutError(f"no credentials for Function Compute: {exc}") from exc
        if creds is None:
            raise FanoutError("no credentials for Function Compute: the push credential chain found none")
        client = (self._factory or fc2.Client)(
            endpoint=self.endpoint,
            accessKeyID=creds.access_key_id,
            accessKeySecret=creds.access_key_secret,
            securityToken=creds.security_token or "",
        )
        ident = invocation_id(str(job["key"]))
        headers = {"x-fc-invocation-type": "Async", INVOCATION_ID_HEADER: ident}
        try:
            client.invoke_function(self.service, self.function, payload=json.dumps(job).encode(), headers=headers)
        except fc2.fc_exceptions.FcError as exc:
            if exc.status_code == 409:
                return ident  # the same chunk was queued before: nothing more to do
            transient = exc.status_code >= 500 or exc.status_code == 429
            refused = f"FC refused the chunk job ({exc.status_code} {exc.err_code})"
            raise FanoutError(refused, transient=transient) from exc
        except Exception as exc:  # requests' errors: not queued
            raise FanoutError(f"FC unreachable: {type(exc).__name__}") from exc
        return ident


#: ``pushfn serve``'s in-process queue (:func:`use_local_queue`): takes one job's event bytes.
_local_queue: Callable[[bytes], None] | None = None


def use_local_queue(put: Callable[[bytes], None] | None) -> None:
    """Make :class:`InProcessFanout` (without a handler of its own) hand jobs to ``put`` — the queue of
    ``pushfn serve``, whose worker runs the queue function — instead of running them in the caller's
    thread; ``None`` restores that."""
    global _local_queue
    _local_queue = put


class InProcessFanout(FanoutSink):
    """Local runs: the queue handler is called with each job (the job's JSON as the event) right away,
    or, under ``pushfn serve``, the job is put on its in-process queue (:func:`use_local_queue`)."""

    name = "in_process"

    def __init__(self, handler: Callable[[Any, Any], Any] | None = None) -> None:
        self._handler = handler

    def hand_over(self, job: dict[str, Any]) -> str:
        """Run the queue function on the job, or queue it (see the class); the job's key. A job that asks
        for a retry (the handler raised RetryLaterError) is a transient :class:`FanoutError`: the file
        stops and its retry runs it again."""
        handler = self._handler
        put = _local_queue
        if handler is None and put is not None:
            put(json.dumps(job).encode("utf-8"))
            return str(job["key"])
        if handler is None:
            from pushfn.jobs.queued import handle_queue_event as handler
        from pushfn.triggers import RetryLaterError

        try:
            # The job's JSON as the whole event, as an asynchronous FC invocation passes it; keyed by its ``key``.
            handler(json.dumps(job).encode("utf-8"), None)
        except RetryLaterError as exc:
            # The platform would deliver the job again; in process the file's retry does it instead.
            raise FanoutError(f"the chunk job asks for a retry ({'; '.join(exc.reasons[:3])[:200]})") from exc
        return str(job["key"])


__all__ = [
    "DEFAULT_FANOUT_TARGETS",
    "INVOCATION_ID_HEADER",
    "Fanout",
    "FanoutError",
    "FanoutSink",
    "FcFanout",
    "InProcessFanout",
    "SqsFanout",
    "chunk_job",
    "invocation_id",
    "use_local_queue",
]
