"""A logger for the cold push path that loads ``logging`` only when a record can be emitted.

Importing ``logging`` (with ``traceback``, ``tokenize``, ``string``, ``weakref``) costs about 0.6 MB of
a fresh process's peak memory — more than a tenth of what pushfn adds to the interpreter on a push over
HTTPS. A client that logs nothing need not pay it: while ``logging`` has never been imported in the
process, nothing can have configured it, so the root logger is at its default ``WARNING`` with no
handler and a ``DEBUG``/``INFO`` record would be dropped anyway. :class:`LazyLogger` drops such records
itself; a ``WARNING`` or worse, or any record once ``logging`` is loaded (by the application, a
function's entry point, a test runner), goes to :func:`pushfn.logs.get_logger`'s logger — masking
filter attached — exactly as if that logger had been used directly.

Also the names of the two request ids in log fields (see :mod:`pushfn.logs`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # `typing` stays off the cold-start path; type checkers read this as typing's
if TYPE_CHECKING:
    from logging import Logger
    from typing import Any

#: The platform's request id of the invocation, on every record and JSON line (see :mod:`pushfn.logs`).
PLATFORM_REQUEST_ID = "platform_request_id"
#: The ``RequestId`` of a CloudPush answer, as a log field.
CLOUDPUSH_REQUEST_ID = "cloudpush_request_id"

#: ``logging``'s level numbers (the module itself is not imported to read them).
DEBUG, INFO, WARNING = 10, 20, 30


class LazyLogger:
    """``logging.getLogger(name)`` with :class:`~pushfn.logs.MaskingFilter`, made on the first record
    that could be emitted (see the module docstring); ``debug``/``info``/``warning``/``isEnabledFor``
    as on a :class:`logging.Logger`, the record's caller being the line that called them."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: Logger | None = None

    def logger(self) -> Logger:
        """The real logger (imports ``logging`` and :mod:`pushfn.logs` on first use)."""
        if self._logger is None:
            from pushfn.logs import get_logger

            self._logger = get_logger(self.name)
        return self._logger

    def isEnabledFor(self, level: int) -> bool:
        """Whether a record at ``level`` would be handled; ``False`` below ``WARNING`` while ``logging``
        is not loaded (nothing can have lowered the default level then)."""
        if self._logger is None and level < WARNING and "logging" not in sys.modules:
            return False
        return self.logger().isEnabledFor(level)

    def debug(self, message: str, *args: Any, **kwargs: Any) -> None:
        """Log ``message % args`` at ``DEBUG`` (``kwargs``: ``extra``, ``exc_info``… as ``logging`` takes them)."""
        if self.isEnabledFor(DEBUG):
            self.logger().debug(message, *args, stacklevel=2, **kwargs)

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        """Log ``message % args`` at ``INFO`` (as :meth:`debug`)."""
        if self.isEnabledFor(INFO):
            self.logger().info(message, *args, stacklevel=2, **kwargs)

    def warning(self, message: str, *args: Any, **kwargs: Any) -> None:
        """Log ``message % args`` at ``WARNING`` (loads ``logging``: such a record is always handled,
        by ``logging``'s last-resort stderr handler when nothing else is configured)."""
        self.logger().warning(message, *args, stacklevel=2, **kwargs)
