"""Where an SQLite file may live: the one check behind every path pushfn opens as a database.

Two callers name a file for SQLite to keep across threads, processes or restarts: the idempotency
store (``PUSHFN_IDEMPOTENCY_URL=sqlite:///…``) and the emulator's history (``pushfn emulator
--store FILE``). Both refuse, before SQLite is asked, a path that could never hold what they write:

- an in-memory database in any spelling (``:memory:``, a ``file:`` URI filename, which SQLite's
  Debian build reads as a URI): each connection gets its own, nothing is kept;
- an existing directory, device, FIFO or socket: SQLite would write ``/dev/null``'s journal beside
  it and remember nothing, or block on a FIFO;
- a path below a file (``/etc/hostname/x.db``), with a NUL character in it, or too long for the
  file system (a name over 255 bytes, a path over 4,096).

Each function returns the rule broken, as text the caller prefixes with its option or variable, or
``None``; nothing here raises, and nothing is created.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path


def is_memory_path(path: str) -> bool:
    """``:memory:`` in any spelling, or a SQLite URI filename (``file:…``), which could name one."""
    lowered = path.strip().lower()
    return lowered == ":memory:" or lowered.startswith("file:") or lowered.startswith(":memory:")


def file_place_problem(path: Path) -> str | None:
    """Why no database file can live at ``path`` (a directory, device, FIFO or socket there, or a file
    above it), else ``None``. A path not there yet is fine; an unreadable folder or a loop of links
    is left to SQLite, which reports it when it opens the file."""
    if "\x00" in str(path):  # no file name holds one (stat would raise ValueError)
        return "must not contain a NUL character"
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # not there yet (NotADirectory: a file above it)
        mode = None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # no file can ever be there
            return f"is too long for the file system ({str(path)[:80]!r}…)"
        return None
    if mode is not None and stat.S_ISDIR(mode):
        return f"must name a file, not a directory ({str(path)!r})"
    if mode is not None and not stat.S_ISREG(mode):
        return f"must name a regular file, not a device, FIFO or socket ({str(path)!r})"
    for parent in path.parents:
        try:
            parent_mode = parent.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # created later (mkdir -p), or a file further up: found on the way
        except OSError:
            return None
        if not stat.S_ISDIR(parent_mode):
            return f"names a folder {str(parent)!r} that is not a directory"
        return None
    return None
