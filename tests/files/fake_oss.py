"""A FAKE OSS server on loopback: no local OSS stand-in exists, so this answers the three calls the
OSS reader makes — GetObject (with ``Range``), HeadObject, PutObject, ListObjects (``prefix``, ``marker``,
``max-keys``, URL-encoded names) — path-style, as oss2 sends them to
an IP endpoint, and checks oss2's V1 signature in full (``Authorization: OSS <id>:<base64 HMAC-SHA1>``
over verb, Content-MD5, Content-Type, Date, the ``x-oss-*`` headers and ``/bucket/key``), and the STS
token header when one is expected. Anything else is refused with OSS's XML error shape.

It is a test double, not OSS: no delimiter in listings, no multipart, no versioning, no conditional requests.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

ACCESS_KEY_ID = "oss-test-id"
ACCESS_KEY_SECRET = "oss-test-secret"


XML = {"Content-Type": "application/xml"}


def _error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
        f"<RequestId>FAKE0000</RequestId><HostId>127.0.0.1</HostId></Error>"
    ).encode()


class FakeOss:
    """Objects in memory: ``objects[(bucket, key)] = (bytes, {header: value})``; ``requests`` logs
    ``(method, bucket, key, range header)``; ``security_token`` set → requests must carry it."""

    def __init__(self, *, security_token: str | None = None) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = {}
        self.requests: list[tuple[str, str, str, str | None]] = []
        self.security_token = security_token
        self.fail_next: list[int] = []  # HTTP statuses to answer the next requests with
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle(self) -> None:
                # The client may close a stream it did not read to the end.
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    super().handle()

            def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-oss-request-id", "FAKE0000")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _target(self) -> tuple[str, str]:
                path = urlsplit(self.path).path
                bucket, _, key = path.lstrip("/").partition("/")
                return unquote(bucket), unquote(key)

            def _signed(self, bucket: str, key: str) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("OSS ") or ":" not in header:
                    return False
                key_id, _, signature = header[4:].partition(":")
                oss_headers = sorted(
                    (name.lower(), value.strip())
                    for name, value in self.headers.items()
                    if name.lower().startswith("x-oss-")
                )
                canonical = "".join(f"{name}:{value}\n" for name, value in oss_headers)
                string = "\n".join(
                    [
                        self.command,
                        self.headers.get("Content-MD5", ""),
                        self.headers.get("Content-Type", ""),
                        self.headers.get("Date", ""),
                        canonical + f"/{bucket}/{key}",
                    ]
                )
                expected = base64.b64encode(
                    hmac.new(ACCESS_KEY_SECRET.encode(), string.encode("utf-8"), hashlib.sha1).digest()
                ).decode()
                if key_id != ACCESS_KEY_ID or not hmac.compare_digest(signature, expected):
                    return False
                if fake.security_token is not None:
                    return self.headers.get("x-oss-security-token") == fake.security_token
                return True

            def _handle(self) -> None:
                bucket, key = self._target()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((self.command, bucket, key, self.headers.get("Range")))
                if not self._signed(bucket, key):
                    self._reply(403, _error("SignatureDoesNotMatch", "FAKE: signature check failed"))
                    return
                if fake.fail_next:
                    status = fake.fail_next.pop(0)
                    self._reply(status, _error("InternalError" if status >= 500 else "AccessDenied", "FAKE fault"))
                    return
                if self.command == "PUT":
                    meta = {n.lower(): v for n, v in self.headers.items() if n.lower().startswith("x-oss-meta-")}
                    fake.objects[(bucket, key)] = (body, meta)
                    self._reply(200, headers={"ETag": '"' + hashlib.md5(body).hexdigest().upper() + '"'})
                    return
                if self.command == "GET" and not key:
                    self._reply(200, fake.listing(bucket, parse_qs(urlsplit(self.path).query)), XML)
                    return
                found = fake.objects.get((bucket, key))
                if found is None:
                    self._reply(
                        404,
                        _error("NoSuchKey", "The specified key does not exist."),
                        {"Content-Type": "application/xml"},
                    )
                    return
                data, meta = found
                headers = {"ETag": '"' + hashlib.md5(data).hexdigest().upper() + '"', **meta}
                wanted = self.headers.get("Range")
                if self.command == "GET" and wanted and wanted.startswith("bytes="):
                    first, _, last = wanted[6:].partition("-")
                    start = int(first)
                    end = int(last) if last else len(data) - 1
                    part = data[start : end + 1]
                    headers["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/{len(data)}"
                    self._reply(206, part, headers)
                    return
                self._reply(200, data, headers)

            do_GET = do_HEAD = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def listing(self, bucket: str, query: dict[str, list[str]]) -> bytes:
        """A ListObjects answer: names after ``marker`` starting with ``prefix``, at most ``max-keys``."""
        prefix, marker = query.get("prefix", [""])[0], query.get("marker", [""])[0]
        limit = int(query.get("max-keys", ["100"])[0])
        names = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix) and k > marker)
        page, truncated = names[:limit], len(names) > limit
        contents = "".join(
            f"<Contents><Key>{quote(name)}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
            f'<ETag>"{hashlib.md5(self.objects[(bucket, name)][0]).hexdigest().upper()}"</ETag>'
            f"<Type>Normal</Type><Size>{len(self.objects[(bucket, name)][0])}</Size>"
            "<StorageClass>Standard</StorageClass></Contents>"
            for name in page
        )
        next_marker = f"<NextMarker>{quote(page[-1])}</NextMarker>" if truncated else ""
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{bucket}</Name>'
            f"<Prefix>{quote(prefix)}</Prefix><Marker>{quote(marker)}</Marker><MaxKeys>{limit}</MaxKeys>"
            f"<EncodingType>url</EncodingType><IsTruncated>{str(truncated).lower()}</IsTruncated>"
            f"{next_marker}{contents}</ListBucketResult>"
        ).encode()

    def put(self, bucket: str, key: str, data: bytes, **meta: str) -> None:
        """Store an object directly, with ``x-oss-meta-*`` metadata (``push_template="x"``)."""
        self.objects[(bucket, key)] = (data, {f"x-oss-meta-{n.replace('_', '-')}": v for n, v in meta.items()})

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
