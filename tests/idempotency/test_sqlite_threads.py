"""The threads of one process writing to one SQLite store queue on a Python lock, never in SQLite's busy
handler (it polls with sleeps of up to 100 ms: eight file-function workers spent half their time there,
and eight chunks in flight were no faster than one). Proven without timing: with a busy timeout of 0, any
write that met another thread's write lock would fail with "database is locked"."""

from __future__ import annotations

import threading
from pathlib import Path

from pushfn.idempotency import IdempotencyGuard
from pushfn.idempotency.stores.sqlite import SqliteStore

THREADS = 8
KEYS = 40


def test_threads_writing_at_once_never_wait_in_sqlites_busy_handler(tmp_path: Path) -> None:
    path = tmp_path / "idem.db"
    stores = [SqliteStore(path, timeout=0), SqliteStore(path, timeout=0)]  # two stores of one file share the lock
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    sent: list[str] = []

    def worker(number: int) -> None:
        guard = IdempotencyGuard(stores[number % 2], function_name="file_push")
        start.wait()
        try:
            for index in range(KEYS):
                key = f"chunk-{number}-{index}"
                guard.run(key, operation=lambda token, k=key: sent.append(k) or {"MessageId": k}, payload={"k": key})
                again = guard.run(key, operation=lambda token: sent.append("twice") or {}, payload={"k": key})
                assert again.replayed and again.result == {"MessageId": key}
        except BaseException as exc:  # the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(sent) == sorted(f"chunk-{n}-{i}" for n in range(THREADS) for i in range(KEYS))
