"""Random identifiers: V2 ``SignatureNonce``, ``IdempotentToken`` and the emulator's ``RequestId``.

All come from the operating system's CSPRNG (``os.urandom``), drawn in 4 KB blocks cut in 16-byte
pieces: a push needs two pieces, and each ``os.urandom`` call is a system call that lets go of the
GIL — with threads pushing at once, a thread switch each time (``bench/bench_throughput.py``, 8
threads against the canned server: 14.0 -> 10.9 context switches per push, client CPU per push
272-313 -> 239-240 µs). ``uuid`` is not imported: it loads ``platform``, milliseconds of cold start.
"""

from __future__ import annotations

import os
from collections import deque

#: Bytes drawn from ``os.urandom`` at a time (a multiple of 16).
BLOCK_BYTES = 4096

# popleft/extend of a deque are atomic: threads never get the same piece. A forked child empties it,
# or parent and child would send the same nonces and tokens (CloudPush drops a repeated token's push).
_pieces: deque[bytes] = deque()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pieces.clear)


def random16() -> bytes:
    """16 bytes from ``os.urandom``, drawn a block at a time; never the same piece twice, in any thread
    or forked child."""
    while True:
        try:
            return _pieces.popleft()
        except IndexError:
            block = os.urandom(BLOCK_BYTES)
            _pieces.extend([block[i : i + 16] for i in range(0, BLOCK_BYTES, 16)])


def uuid4_text() -> str:
    """A random (version 4, RFC 4122 variant) UUID in its 36-character lower-case form, as
    ``str(uuid.uuid4())`` gives."""
    raw = bytearray(random16())
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
