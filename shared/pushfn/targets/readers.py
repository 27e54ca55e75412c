"""Where target files come from: one small interface, three stores (a local folder, S3, OSS).

An :class:`ObjectReader` does what the file function and the parts of a fanned-out report
(:mod:`pushfn.targets.parts`) need:

- :meth:`~ObjectReader.open` — a binary stream of the object (``read(n)``), **streamed**: never the
  whole object in memory (a file handle, boto3's ``StreamingBody``, oss2's ``GetObjectResult``);
- :meth:`~ObjectReader.template_name` — the object's ``push-template`` metadata
  (OSS ``x-oss-meta-push-template``, S3 ``x-amz-meta-push-template``), or None;
- :meth:`~ObjectReader.read_sidecar` — the bytes of ``<key>.push.json`` (at most
  :data:`MAX_SIDECAR_BYTES`), or None when there is none;
- :meth:`~ObjectReader.write_report` — store ``<key>.report.json`` beside the object;
- :meth:`~ObjectReader.read_bytes`, :meth:`~ObjectReader.write_bytes` — a small object whole (reports,
  parts); :meth:`~ObjectReader.list_keys` — the names under a prefix (S3 ``ListObjectsV2``, OSS
  ``ListObjects``, a folder), paged by the SDK.

Every failure is an :class:`~pushfn.targets.errors.ObjectStoreError` whose ``transient`` says whether a
retry can help: a missing or forbidden object is permanent, a network failure, a 5xx, throttling or
credentials the chain cannot give (OSS) are transient. The cloud SDKs (``boto3``, ``oss2``) are
imported only when a reader of theirs is built.

- :class:`LocalFolderReader` — ``<root>/<key>`` for local runs (the bucket name is only recorded). Object
  names are checked before any path is built: no ``..`` segment, no absolute path (``/x``, ``\\x``,
  ``C:x``), no NUL or control character, no backslash; and the resolved path must stay under the root
  (a symlink pointing out is refused too). Metadata: ``<key>.meta.json`` (``{"push-template": ...}``)
  when present, since a plain file has none.
- :class:`S3Reader` — boto3; the endpoint comes from the standard ``AWS_ENDPOINT_URL`` /
  ``AWS_ENDPOINT_URL_S3`` (boto3 reads them itself), the region from the event.
- :class:`OssReader` — oss2; the endpoint is built from the event's region, the **internal** one by
  default (``https://oss-<region>-internal.aliyuncs.com``: same-region traffic, no Internet charge), or
  the one configured (``PUSHFN_OSS_ENDPOINT``); credentials come from the push credential chain on
  every call, so rotated role keys and STS tokens (``oss2.StsAuth``) are used as they change.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pushfn.targets.errors import ObjectNameError, ObjectStoreError

if TYPE_CHECKING:
    from pushfn.push.credentials import CredentialsProvider

#: Metadata naming a configured template (without the store's ``x-…-meta-`` prefix).
TEMPLATE_METADATA = "push-template"
#: Largest sidecar accepted (a push spec is small; a bigger one is refused, not buffered).
MAX_SIDECAR_BYTES = 256 * 1024
#: Suffix of the sidecar object that names a file's push content.
SIDECAR_SUFFIX = ".push.json"
#: Suffix of the report object the function writes beside a file.
REPORT_SUFFIX = ".report.json"
#: Suffix of the folder of a fanned-out report's parts, after the report's name (:mod:`pushfn.targets.parts`).
PARTS_SUFFIX = ".parts/"


def sidecar_key(key: str) -> str:
    """``<key>.push.json``."""
    return key + SIDECAR_SUFFIX


def report_key(key: str) -> str:
    """``<key>.report.json``."""
    return key + REPORT_SUFFIX


def parts_prefix(report: str) -> str:
    """``<report key>.parts/``: the prefix of the parts of a fanned-out file's report."""
    return report + PARTS_SUFFIX


class ObjectReader(ABC):
    """The four operations the file function needs of a store (see the module docstring)."""

    #: ``local``, ``s3`` or ``oss``, for reports and logs.
    kind = "object"

    @abstractmethod
    def open(self, bucket: str, key: str, *, start: int = 0) -> BinaryIO:
        """A binary stream of the object from byte ``start``; raises ObjectStoreError."""

    @abstractmethod
    def template_name(self, bucket: str, key: str) -> str | None:
        """The object's ``push-template`` metadata, or None; raises ObjectStoreError."""

    @abstractmethod
    def read_bytes(self, bucket: str, key: str, limit: int) -> bytes | None:
        """The whole of a small object (at most ``limit`` bytes), or None when it does not exist."""

    @abstractmethod
    def write_bytes(self, bucket: str, key: str, data: bytes) -> str:
        """Store ``data`` as ``key`` (JSON); return where it went."""

    @abstractmethod
    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Every object name that starts with ``prefix`` (in no promised order); raises ObjectStoreError."""

    def read_sidecar(self, bucket: str, key: str) -> bytes | None:
        """The sidecar ``<key>.push.json``, or None when there is none."""
        return self.read_bytes(bucket, sidecar_key(key), MAX_SIDECAR_BYTES)

    def write_report(self, bucket: str, key: str, report: dict[str, Any]) -> str:
        """Write ``report`` as ``<key>.report.json`` beside the object; return where it went."""
        data = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8", "backslashreplace")
        return self.write_bytes(bucket, report_key(key), data)


def _too_large(key: str, limit: int) -> ObjectStoreError:
    return ObjectStoreError(f"{_shown(key)} is larger than {limit} bytes", reason="too_large")


def _shown(key: str) -> str:
    from pushfn.masking import shorten

    return repr(shorten(key.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"), 200))


class _RemoteReader(ObjectReader):
    """What S3 and OSS share: ``_call`` translates the store's errors into :class:`ObjectStoreError`."""

    @abstractmethod
    def _call(self, what: str, key: str, call: Callable[[], Any]) -> Any: ...

    def read_bytes(self, bucket: str, key: str, limit: int) -> bytes | None:
        """The object (at most ``limit`` bytes), or None when it does not exist; errors while streaming too."""
        try:
            body = self.open(bucket, key)
        except ObjectStoreError as exc:
            if exc.reason == "not_found":
                return None
            raise
        try:
            data = self._call("reading", key, lambda: body.read(limit + 1))
        finally:
            body.close()
        if len(data) > limit:
            raise _too_large(key, limit)
        return data


# --- local folder --------------------------------------------------------------------------------


def check_object_name(key: object) -> str:
    """``key`` if it is a safe relative object name; raise :class:`ObjectNameError` saying why not."""
    if not isinstance(key, str) or not key:
        raise ObjectNameError("an object name must be a non-empty string")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ObjectNameError(f"object name {_shown(key)} holds a NUL or control character")
    if "\\" in key:
        raise ObjectNameError(f"object name {_shown(key)} holds a backslash")
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise ObjectNameError(f"object name {_shown(key)} is an absolute path")
    if any(part in ("..", ".") for part in key.split("/")):
        raise ObjectNameError(f"object name {_shown(key)} has a '..' or '.' segment")
    return key


class LocalFolderReader(ObjectReader):
    """Objects are files under ``root`` (see the module docstring)."""

    kind = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        """The file of object ``key``, checked to stay under the root; raises ObjectNameError."""
        check_object_name(key)
        path = self.root / key
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ObjectNameError(f"object name {_shown(key)} leads outside the folder")
        return path

    def open(self, bucket: str, key: str, *, start: int = 0) -> BinaryIO:
        """The file, opened for reading from byte ``start``."""
        path = self.path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise ObjectStoreError(f"no object {_shown(key)} in {self.root}", reason="not_found") from None
        except PermissionError:
            raise ObjectStoreError(f"object {_shown(key)} cannot be read", reason="forbidden") from None
        except IsADirectoryError:
            raise ObjectStoreError(f"object {_shown(key)} is a folder", reason="not_found") from None
        except OSError as exc:
            raise ObjectStoreError(
                f"object {_shown(key)}: {exc.strerror}", reason="unavailable", transient=True
            ) from None
        if start:
            handle.seek(start)
        return handle

    def template_name(self, bucket: str, key: str) -> str | None:
        """``push-template`` of ``<key>.meta.json``, when that file exists."""
        data = self.read_bytes(bucket, key + ".meta.json", MAX_SIDECAR_BYTES)
        if data is None:
            return None
        from pushfn.json_input import JsonInputError, decode_json

        try:
            meta = decode_json(data)
        except JsonInputError as exc:
            raise ObjectStoreError(f"{_shown(key + '.meta.json')} is not JSON: {exc}", reason="metadata") from None
        value = meta.get(TEMPLATE_METADATA) if isinstance(meta, dict) else None
        return value if isinstance(value, str) and value else None

    def read_bytes(self, bucket: str, key: str, limit: int) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        path = self.path(key)
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except (FileNotFoundError, IsADirectoryError):
            return None
        except OSError as exc:
            raise ObjectStoreError(
                f"object {_shown(key)}: {exc.strerror}", reason="unavailable", transient=True
            ) from None
        if len(data) > limit:
            raise _too_large(key, limit)
        return data

    def write_bytes(self, bucket: str, key: str, data: bytes) -> str:
        """Written to a temporary file, then renamed over: a reader never sees half a report."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise ObjectStoreError(
                f"cannot write {_shown(key)}: {exc.strerror}", reason="unavailable", transient=True
            ) from None
        return str(path)

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """The files under the folder part of ``prefix`` whose names start with it (temporary files of
        a write in progress are left out)."""
        folder, _, start = prefix.rpartition("/")
        base = self.path(folder) if folder else self.root
        try:
            names = [entry.name for entry in os.scandir(base) if entry.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise ObjectStoreError(
                f"cannot list {_shown(prefix)}: {exc.strerror}", reason="unavailable", transient=True
            ) from None
        return [
            f"{folder}/{name}" if folder else name
            for name in names
            if name.startswith(start) and not name.startswith(".report-")
        ]


# --- S3 ------------------------------------------------------------------------------------------

_S3_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}
_S3_FORBIDDEN = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId"}


class S3Reader(_RemoteReader):
    """Objects in S3 through boto3 (``client`` given, or built for ``region`` on first use)."""

    kind = "s3"

    def __init__(self, *, region: str | None = None, client: Any = None) -> None:
        self.region = region
        self._client = client

    @property
    def client(self) -> Any:
        """The boto3 S3 client (the endpoint from ``AWS_ENDPOINT_URL[_S3]``, read by boto3)."""
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", region_name=self.region)
        return self._client

    def _call(self, what: str, key: str, call: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _S3_NOT_FOUND or status == 404:
                raise ObjectStoreError(
                    f"{what} {_shown(key)}: no such object (S3 {code})", reason="not_found"
                ) from None
            if code in _S3_FORBIDDEN or status == 403:
                raise ObjectStoreError(f"{what} {_shown(key)}: access denied (S3 {code})", reason="forbidden") from None
            transient = status is None or status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout")
            raise ObjectStoreError(
                f"{what} {_shown(key)}: S3 {code or status}",
                reason="unavailable" if transient else "refused",
                transient=transient,
            ) from None
        except BotoCoreError as exc:
            raise ObjectStoreError(
                f"{what} {_shown(key)}: {type(exc).__name__}", reason="unavailable", transient=True
            ) from None

    def open(self, bucket: str, key: str, *, start: int = 0) -> BinaryIO:
        """``get_object``'s streamed body (``Range`` from ``start``)."""
        extra = {"Range": f"bytes={start}-"} if start else {}
        answer = self._call("reading", key, lambda: self.client.get_object(Bucket=bucket, Key=key, **extra))
        return answer["Body"]

    def template_name(self, bucket: str, key: str) -> str | None:
        """``x-amz-meta-push-template`` (boto3 hands user metadata over without the prefix)."""
        answer = self._call("reading metadata of", key, lambda: self.client.head_object(Bucket=bucket, Key=key))
        value = (answer.get("Metadata") or {}).get(TEMPLATE_METADATA)
        return value or None

    def write_bytes(self, bucket: str, key: str, data: bytes) -> str:
        """``put_object`` with ``Content-Type: application/json``."""
        self._call(
            "writing",
            key,
            lambda: self.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json"),
        )
        return f"s3://{bucket}/{key}"

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """``ListObjectsV2`` pages (1,000 names each) under ``prefix``."""

        def names() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        return self._call("listing", prefix, names)


# --- OSS -----------------------------------------------------------------------------------------


def oss_endpoint(region: str | None, configured: str | None = None, *, internal: bool = True) -> str:
    """``configured`` when set, else ``https://oss-<region>[-internal].aliyuncs.com``."""
    if configured:
        return configured
    if not region or not all(ch.isalnum() or ch == "-" for ch in region):
        raise ObjectStoreError(
            f"no usable OSS region in the event ({region!r}); set PUSHFN_OSS_ENDPOINT", reason="configuration"
        )
    return f"https://oss-{region}{'-internal' if internal else ''}.aliyuncs.com"


class OssReader(_RemoteReader):
    """Objects in OSS through oss2 (see the module docstring). ``credentials`` is a provider with
    ``get_credentials()`` (the push credential chain)."""

    kind = "oss"

    def __init__(self, *, endpoint: str, credentials: CredentialsProvider, connect_timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.connect_timeout = connect_timeout

    def bucket(self, name: str) -> Any:
        """An ``oss2.Bucket`` signed with the chain's current keys (STS ones with their token)."""
        import oss2

        creds = self.credentials.get_credentials()
        if creds is None:
            from pushfn.push.errors import CredentialsError

            raise CredentialsError("no credentials for OSS: the push credential chain found none")
        if creds.security_token:
            auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
        else:
            auth = oss2.Auth(creds.access_key_id, creds.access_key_secret)
        return oss2.Bucket(auth, self.endpoint, name, connect_timeout=self.connect_timeout)

    def _call(self, what: str, key: str, call: Callable[[], Any]) -> Any:
        import oss2

        from pushfn.push.errors import CredentialsError

        try:
            return call()
        except CredentialsError as exc:  # the chain is asked on every call: a failed refresh may pass
            raise ObjectStoreError(f"{what} {_shown(key)}: {exc}", reason="credentials", transient=True) from None
        except oss2.exceptions.NotFound as exc:
            raise ObjectStoreError(
                f"{what} {_shown(key)}: no such object (OSS {exc.code or exc.status})", reason="not_found"
            ) from None
        except oss2.exceptions.AccessDenied as exc:
            raise ObjectStoreError(
                f"{what} {_shown(key)}: access denied (OSS {exc.code})", reason="forbidden"
            ) from None
        except oss2.exceptions.OssError as exc:
            transient = exc.status < 0 or exc.status >= 500 or exc.status == 429  # < 0: network (RequestError)
            raise ObjectStoreError(
                f"{what} {_shown(key)}: OSS {exc.code or exc.status}",
                reason="unavailable" if transient else ("forbidden" if exc.status == 403 else "refused"),
                transient=transient,
            ) from None

    def open(self, bucket: str, key: str, *, start: int = 0) -> BinaryIO:
        """``GetObject``'s streamed result (``Range`` from ``start``)."""
        byte_range = (start, None) if start else None
        return self._call("reading", key, lambda: self.bucket(bucket).get_object(key, byte_range=byte_range))

    def template_name(self, bucket: str, key: str) -> str | None:
        """``x-oss-meta-push-template`` from ``HeadObject``."""
        answer = self._call("reading metadata of", key, lambda: self.bucket(bucket).head_object(key))
        value = answer.headers.get("x-oss-meta-" + TEMPLATE_METADATA)
        return value or None

    def write_bytes(self, bucket: str, key: str, data: bytes) -> str:
        """``PutObject`` with ``Content-Type: application/json``."""
        self._call(
            "writing",
            key,
            lambda: self.bucket(bucket).put_object(key, data, headers={"Content-Type": "application/json"}),
        )
        return f"oss://{bucket}/{key}"

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """``ListObjects`` pages (``oss2.ObjectIterator``) under ``prefix``."""
        import oss2

        return self._call(
            "listing", prefix, lambda: [item.key for item in oss2.ObjectIterator(self.bucket(bucket), prefix=prefix)]
        )


__all__ = [
    "MAX_SIDECAR_BYTES",
    "PARTS_SUFFIX",
    "REPORT_SUFFIX",
    "SIDECAR_SUFFIX",
    "TEMPLATE_METADATA",
    "LocalFolderReader",
    "ObjectReader",
    "OssReader",
    "S3Reader",
    "check_object_name",
    "oss_endpoint",
    "parts_prefix",
    "report_key",
    "sidecar_key",
]
