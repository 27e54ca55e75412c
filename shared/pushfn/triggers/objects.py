"""Object-storage adapter: FC OSS events and S3 notifications → a list of :class:`ObjectCreated`.

Event shapes (samples in ``tests/fixtures/events/``: ``fc_oss_*.json``, ``aws_s3_put_*.json``):

- **FC OSS trigger** — ``{"events": [{"eventName": "ObjectCreated:PutObject", "eventSource": "acs:oss",
  "oss": {"bucket": {"name"}, "object": {"key", "eTag", "size"}}, "region"}, ...]}`` (bytes on FC).
  ``eventName`` has no ``oss:`` prefix in the event. The key is used as written: no official sample
  shows whether OSS encodes special characters in it, so nothing is decoded (a guess either way would
  name the wrong object for some keys; an object that cannot be found is reported clearly).
- **S3 notification** — ``{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
  "awsRegion", "s3": {"bucket": {"name"}, "object": {"key", "eTag", "size", "versionId"?}}}, ...]}``.
  S3 form-encodes the key (``red flower.jpg`` arrives as ``red+flower.jpg``), so it is decoded with
  :func:`urllib.parse.unquote_plus` (UTF-8; ``%2B`` is a real ``+``). ``eventVersion`` is not checked:
  S3 raises it over time.

Several records per event are normal; each becomes one :class:`ObjectCreated`, in event order.
A record whose ``eventName`` is not ``ObjectCreated:*`` is skipped (the reason is in
:attr:`ObjectEvents.skipped` and the job logs it); so is an object the function writes or reads itself
— a sidecar ``<key>.push.json``, a report ``<key>.report.json`` or a part of a fanned-out report
(``<key>.report.json.parts/<n>.<tag>.json``) landing in the watched prefix must never start a run
(:func:`is_control_object`). A record that cannot be read (a field missing or of the
wrong type) is skipped with its reason too: one bad record never sinks the others. Only an event that
is none of the two shapes raises :class:`ObjectEventError` — a retry would read the same bytes, so the
job logs it and returns normally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote_plus

from pushfn.errors import ConfigurationError, PushfnError
from pushfn.json_input import JsonInputError, check_json_value, decode_json
from pushfn.logs import get_logger
from pushfn.masking import scrub_cut
from pushfn.targets.readers import PARTS_SUFFIX, REPORT_SUFFIX, SIDECAR_SUFFIX

if TYPE_CHECKING:
    from pushfn.jobs.fanout import FanoutSink
    from pushfn.push.credentials import CredentialsProvider
    from pushfn.settings import Settings
    from pushfn.targets.readers import ObjectReader

OSS = "oss"
S3 = "s3"

#: Event names that start a run (the part before the colon).
CREATED_PREFIX = "ObjectCreated:"

#: Longest object key accepted (OSS and S3 both allow 1,024 bytes).
MAX_KEY_BYTES = 1024

_ACCOUNT_ID = re.compile(r"[0-9]{1,32}")
_REGION = re.compile(r"[a-z0-9-]{1,40}")

logger = get_logger("pushfn.triggers.objects")


class ObjectEventError(PushfnError, ValueError):
    """The event is neither an FC OSS event nor an S3 notification (or is not JSON): permanent."""


@dataclass(frozen=True)
class ObjectCreated:
    """One new object: ``bucket``, ``key`` (decoded), ``etag`` (as the event gives it, may be None),
    ``version_id`` (S3 versioned buckets), ``size`` (bytes, or None), ``region`` and ``platform``
    (``oss`` or ``s3``), ``event_name`` as written."""

    bucket: str
    key: str
    etag: str | None
    version_id: str | None
    size: int | None
    region: str | None
    platform: str
    event_name: str

    @property
    def version(self) -> str:
        """What names this version of the object in idempotency keys: the version id when the bucket
        is versioned, else the ETag, else ``"-"`` (an event without either: one version only)."""
        return self.version_id or self.etag or "-"


@dataclass(frozen=True)
class SkippedRecord:
    """A record that starts no run: its position, the object key when it was read, and why."""

    index: int
    reason: str
    detail: str
    key: str | None = None


@dataclass(frozen=True)
class ObjectEvents:
    """What one event holds: the objects to process and the records skipped (with reasons)."""

    platform: str
    objects: tuple[ObjectCreated, ...]
    skipped: tuple[SkippedRecord, ...] = field(default=())


def is_control_object(key: str) -> bool:
    """True for a sidecar (``*.push.json``), a report (``*.report.json``) or one of a report's parts
    (``*.report.json.parts/*``): never a target file."""
    lowered = key.lower()
    return (
        lowered.endswith(SIDECAR_SUFFIX) or lowered.endswith(REPORT_SUFFIX) or REPORT_SUFFIX + PARTS_SUFFIX in lowered
    )


def object_reader(obj: ObjectCreated, settings: Settings, credentials: CredentialsProvider) -> ObjectReader:
    """The :class:`~pushfn.targets.readers.ObjectReader` of ``obj``: the local folder
    ``PUSHFN_FILE_ROOT`` when set (local runs), else S3 (boto3, region from the event) or OSS (oss2,
    endpoint from the event's region or ``PUSHFN_OSS_ENDPOINT``, signed with ``credentials``)."""
    return store_reader("local" if settings.pushfn_file_root else obj.platform, obj.region, settings, credentials)


def store_reader(store: str, region: str | None, settings: Settings, credentials: CredentialsProvider) -> ObjectReader:
    """The :class:`~pushfn.targets.readers.ObjectReader` of a store kind (``local``, ``s3``, ``oss``) in
    ``region``: the reader a chunk job's report names (:class:`~pushfn.specs.envelope.ReportRef`).
    Raises ConfigurationError for ``local`` without ``PUSHFN_FILE_ROOT``, ObjectStoreError for OSS
    without a usable region or ``PUSHFN_OSS_ENDPOINT``."""
    from pushfn.targets import readers

    if store == "local":
        if not settings.pushfn_file_root:
            raise ConfigurationError("a local report needs PUSHFN_FILE_ROOT (the folder of the objects)")
        return readers.LocalFolderReader(settings.pushfn_file_root)
    if store == S3:
        return readers.S3Reader(region=region)
    endpoint = readers.oss_endpoint(region, settings.pushfn_oss_endpoint)
    return readers.OssReader(endpoint=endpoint, credentials=credentials)


def fanout_sink(
    obj: ObjectCreated, settings: Settings, credentials: CredentialsProvider, context: Any = None
) -> FanoutSink | None:
    """The :class:`~pushfn.jobs.fanout.FanoutSink` for big files of ``obj``'s platform, or None (no fan-out):
    in-process for local runs (``PUSHFN_FILE_ROOT``), SQS on AWS (``PUSHFN_FANOUT_QUEUE_URL``), an
    asynchronous FC invocation on Function Compute (``PUSHFN_FANOUT_FC_FUNCTION``; endpoint
    ``PUSHFN_FANOUT_FC_ENDPOINT``, else built from the context's account id and region). A platform whose
    sink is not configured sends the whole file itself, as without fan-out."""
    from pushfn.jobs import fanout

    if settings.pushfn_file_root:
        return fanout.InProcessFanout()
    if obj.platform == S3:
        url = settings.pushfn_fanout_queue_url
        return fanout.SqsFanout(url, region=settings.aws_region_name) if url else None
    function = settings.pushfn_fanout_fc_function
    if not function:
        return None
    endpoint = settings.pushfn_fanout_fc_endpoint
    if not endpoint:
        account, region = getattr(context, "account_id", None), getattr(context, "region", None) or obj.region
        if not account or not region:
            return None
        # Both become part of the host (the region may be the event's own field): only plain names.
        if not (_ACCOUNT_ID.fullmatch(str(account)) and _REGION.fullmatch(str(region))):
            logger.warning(
                "no fan-out: the account id or region is not a plain name; the file is sent inline",
                extra={"fields": {"event": "file_push.fanout_unusable_endpoint"}},
            )
            return None
        endpoint = f"https://{account}.{region}-internal.fc.aliyuncs.com"
    return fanout.FcFanout(endpoint=endpoint, function=function, credentials=credentials)


class FileVerdict(Protocol):
    """What the reply needs of one file's outcome (:class:`pushfn.jobs.files.FileOutcome` is one)."""

    @property
    def retry_reason(self) -> str | None:
        """Why a new delivery of the event can finish this file (a transient failure, the timeout), or None."""

    @property
    def cause(self) -> BaseException | None:
        """The exception behind :attr:`retry_reason`, when there was one."""


def platform_reply(answer: Mapping[str, Any], outcomes: Sequence[FileVerdict]) -> dict[str, Any]:
    """The platform's answer once every object of the event was handled (``outcomes`` in event order).

    Both object platforms invoke the function asynchronously — FC's OSS trigger and an S3 notification to
    Lambda — and neither has a partial reply: an invocation that raises is delivered again. Lambda retries
    a function error twice by default
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); FC retries a
    function error of an asynchronous invocation 3 times by default
    (https://www.alibabacloud.com/help/en/functioncompute/fc/error-handling-1-2). So when any file can be
    finished by a retry this raises :class:`~pushfn.triggers.RetryLaterError`
    naming each reason (chained to the first cause); the files already done are replayed from their
    reports and the guard. Otherwise the answer is ``answer`` as given.
    """
    from pushfn.triggers import RetryLaterError

    reasons = [o.retry_reason for o in outcomes if o.retry_reason]
    if reasons:
        cause = next((o.cause for o in outcomes if o.cause is not None), None)
        raise RetryLaterError("the object event", reasons) from cause
    return dict(answer)


def remaining_seconds(context: Any, *, elapsed: float = 0.0) -> float | None:
    """Seconds the invocation has left, or None when the context does not say.

    Lambda: ``context.get_remaining_time_in_millis()``. Function Compute has no remaining-time call in
    Python: ``context.function.timeout`` (seconds) minus ``elapsed`` since the handler started.
    """
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        value = remaining()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value / 1000.0
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return timeout - elapsed
    return None


def parse_object_event(event: object) -> ObjectEvents:
    """Recognise the event and list its new objects; see the module docstring.

    Raises :class:`ObjectEventError` only for an event of no known shape (or not JSON at all).
    """
    try:
        if isinstance(event, (bytes, bytearray, memoryview, str)):
            data = decode_json(bytes(event) if not isinstance(event, str) else event)
        else:
            data = check_json_value(event)
    except JsonInputError as exc:
        raise ObjectEventError(f"the event is not readable JSON: {exc}") from None
    if isinstance(data, Mapping) and isinstance(data.get("events"), list):
        return _records(OSS, data["events"], _oss_record)
    if isinstance(data, Mapping) and isinstance(data.get("Records"), list):
        return _records(S3, data["Records"], _s3_record)
    raise ObjectEventError(
        "not an FC OSS event ({'events': [...]}) or an S3 notification ({'Records': [...]}); "
        f"got {type(data).__name__}" + (f" with keys {sorted(data)[:5]}" if isinstance(data, Mapping) else "")
    )


class ObjectRecordError(ObjectEventError):
    """One record of an event cannot be used (``reason``: ``malformed`` or ``other_event``); internal to
    the adapter, which skips the record and keeps its reason (:class:`SkippedRecord`)."""

    def __init__(self, reason: str, detail: str, key: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.key = key


def _records(platform: str, records: list[Any], read: Any) -> ObjectEvents:
    objects: list[ObjectCreated] = []
    skipped: list[SkippedRecord] = []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, Mapping):
                raise ObjectRecordError("malformed", f"record {index} is {type(record).__name__}, not an object")
            created = read(record)
        except ObjectRecordError as exc:
            skipped.append(SkippedRecord(index, exc.reason, exc.detail, exc.key))
            continue
        if is_control_object(created.key):
            skipped.append(
                SkippedRecord(index, "control_object", "a sidecar or report object starts no run", created.key)
            )
            continue
        objects.append(created)
    return ObjectEvents(platform, tuple(objects), tuple(skipped))


def _event_name(record: Mapping[str, Any]) -> str:
    name = record.get("eventName")
    if not isinstance(name, str):
        raise ObjectRecordError("malformed", "eventName is missing or not a string")
    if not name.startswith(CREATED_PREFIX):
        raise ObjectRecordError("other_event", f"event {scrub_cut(name, 80)!r} is not ObjectCreated:*")
    return name


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ObjectRecordError("malformed", f"{where} is missing or not an object")
    return value


def _text(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ObjectRecordError("malformed", f"{where} is missing or not a non-empty string")
    return value


def _size(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _checked_key(key: str) -> str:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ObjectRecordError("malformed", f"the object key is longer than {MAX_KEY_BYTES} bytes")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in key):
        raise ObjectRecordError("malformed", "the object key holds a control character or a lone surrogate")
    return key


def _oss_record(record: Mapping[str, Any]) -> ObjectCreated:
    name = _event_name(record)
    oss = _mapping(record.get("oss"), "oss")
    bucket = _text(_mapping(oss.get("bucket"), "oss.bucket").get("name"), "oss.bucket.name")
    obj = _mapping(oss.get("object"), "oss.object")
    key = _checked_key(_text(obj.get("key"), "oss.object.key") or "")
    etag = _text(obj.get("eTag"), "oss.object.eTag", required=False)
    region = _text(record.get("region"), "region", required=False)
    return ObjectCreated(bucket or "", key, etag or None, None, _size(obj.get("size")), region, OSS, name)


def _s3_record(record: Mapping[str, Any]) -> ObjectCreated:
    source = record.get("eventSource")
    if source is not None and source != "aws:s3":
        raise ObjectRecordError("other_event", f"eventSource {scrub_cut(str(source), 40)!r} is not aws:s3")
    name = _event_name(record)
    s3 = _mapping(record.get("s3"), "s3")
    bucket = _text(_mapping(s3.get("bucket"), "s3.bucket").get("name"), "s3.bucket.name")
    obj = _mapping(s3.get("object"), "s3.object")
    raw_key = _text(obj.get("key"), "s3.object.key") or ""
    try:
        key = _checked_key(unquote_plus(raw_key, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise ObjectRecordError("malformed", "s3.object.key is not form-encoded UTF-8") from None
    etag = _text(obj.get("eTag"), "s3.object.eTag", required=False)
    version_id = _text(obj.get("versionId"), "s3.object.versionId", required=False)
    region = _text(record.get("awsRegion"), "awsRegion", required=False)
    return ObjectCreated(bucket or "", key, etag or None, version_id or None, _size(obj.get("size")), region, S3, name)


__all__ = [
    "OSS",
    "S3",
    "FileVerdict",
    "ObjectCreated",
    "ObjectEventError",
    "ObjectEvents",
    "SkippedRecord",
    "fanout_sink",
    "is_control_object",
    "object_reader",
    "parse_object_event",
    "platform_reply",
    "remaining_seconds",
    "store_reader",
]
