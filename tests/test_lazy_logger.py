"""The push path's logger loads ``logging`` only when a record can be emitted, and loses no record.

A fresh interpreter that has never imported ``logging`` has nothing configured: a DEBUG/INFO record
would be dropped, a WARNING goes to ``logging``'s last-resort stderr handler. These tests prove the
lazy logger keeps exactly that (fresh processes against the emulator over real HTTP), and that once
``logging`` is loaded its records are those of :func:`pushfn.logs.get_logger`'s logger — masked, with
the caller's file and line.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

from tests.support import SHARED, fresh_python

from pushfn.lazy_logger import LazyLogger
from pushfn.logs import MaskingFilter

DEVICE = "e2ba19de97604f55b165576736477b74"
PUSH = {
    "Target": "DEVICE",
    "TargetValue": DEVICE,
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Hello",
    "Body": "From the lazy logger tests",
}
CLIENT = (
    "from pushfn.push import PushClient, StaticCredentials\n"
    "credentials = StaticCredentials('testid', 'testsecret')\n"
    "client = PushClient(endpoint={url!r}, app_key=23267207, credentials=credentials)\n"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SHARED), "PATH": "/usr/bin:/bin"},
    )


def test_a_quiet_push_never_loads_logging(emulator: Any) -> None:
    code = CLIENT.format(url=emulator.url) + (
        f"import sys\nprint(client.push({PUSH!r}).message_id)\nprint('logging' in sys.modules)\n"
    )
    message_id, logging_loaded = fresh_python(code).split()
    assert message_id.startswith("5") and logging_loaded == "False"
    assert len(emulator.pushes()) == 1


def test_info_is_dropped_until_logging_is_configured_and_then_delivered_masked() -> None:
    code = (
        "import sys\n"
        "from pushfn.lazy_logger import INFO, LazyLogger\n"
        "log = LazyLogger('pushfn.push')\n"
        f"log.info('before %s', {DEVICE!r}); log.debug('before, debug')\n"
        "print(log.isEnabledFor(INFO), 'logging' in sys.modules)\n"
        "import logging\n"
        "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s', stream=sys.stdout)\n"
        "print(log.isEnabledFor(INFO))\n"
        f"log.info('after %s', {DEVICE!r}); log.debug('after, debug')\n"
    )
    lines = fresh_python(code).splitlines()
    # Nothing was configured before: the records were dropped, as logging itself would have dropped them.
    assert lines == [
        "False False",
        "True",
        "INFO pushfn.push after e2ba…(32)",
        "DEBUG pushfn.push after, debug",
    ]


def test_a_warning_with_nothing_configured_reaches_stderr_masked() -> None:
    """In a process that never configured logging, a warning loads it on demand and is written by its
    last-resort handler, masked: the client's plain-HTTP warning, then one naming a device."""
    code = CLIENT.format(url="http://push.example.com") + (
        "import sys\n"
        "print('logging' in sys.modules)\n"
        "from pushfn.lazy_logger import LazyLogger\n"
        f"LazyLogger('pushfn.push').warning('no answer for %s', {DEVICE!r})\n"
    )
    result = _run(code)
    assert result.stdout.strip() == "True"
    assert result.stderr.splitlines() == [
        "PUSH_ENDPOINT uses plain HTTP to a non-loopback host; CloudPush requires HTTPS",
        "no answer for e2ba…(32)",
    ]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_records_come_from_the_masking_logger_with_the_callers_line() -> None:
    name = "pushfn.tests.lazy"
    handler = _Records()
    real = logging.getLogger(name)
    real.addHandler(handler)
    real.setLevel(logging.DEBUG)
    try:
        log = LazyLogger(name)
        log.debug("device %s", DEVICE)
        line = sys._getframe().f_lineno - 1
        log.info("token=abcdefgh12345678", extra={"fields": {"secret": "s3cr3t-value"}})
        log.warning("done")
    finally:
        real.removeHandler(handler)
        real.setLevel(logging.NOTSET)
    assert log.logger() is real and any(isinstance(f, MaskingFilter) for f in real.filters)
    debug, info, warning = handler.records
    assert (debug.levelno, debug.getMessage()) == (logging.DEBUG, "device e2ba…(32)")
    assert (debug.pathname, debug.lineno, debug.funcName) == (
        __file__,
        line,
        "test_records_come_from_the_masking_logger_with_the_callers_line",
    )
    assert info.getMessage() == "token=abcd…(16)" and info.fields == {"secret": "s3cr…(12)"}
    assert (warning.levelno, warning.lineno) == (logging.WARNING, line + 3)
