"""The four deployable functions: their names and the handler each ``functions/<name>/index.py`` deploys.

The one table of them: ``pushfn package`` builds a zip per name, ``pushfn invoke`` loads the handler
named here, ``pushfn serve`` and the handlers log and key their work under these names (the idempotency
namespace of each is its name). ``tests/local/test_invoke.py`` checks each ``index.py`` deploys the
handler named here, and ``tests/deploy`` that the templates name these functions.
"""

from __future__ import annotations

HTTP_PUSH = "http_push"
SCHEDULED_PUSH = "scheduled_push"
QUEUE_PUSH = "queue_push"
FILE_PUSH = "file_push"

#: Function name → ``module:attribute`` of the handler its ``functions/<name>/index.py`` wraps with
#: :func:`pushfn.logs.entry_point` (imported only when a function is run).
HANDLERS: dict[str, str] = {
    HTTP_PUSH: "pushfn.http:handler",
    SCHEDULED_PUSH: "pushfn.jobs.scheduled:handle_timer_event",
    QUEUE_PUSH: "pushfn.jobs.queued:handle_queue_event",
    FILE_PUSH: "pushfn.jobs.files:handle_object_event",
}

#: The function names, in the table's order.
FUNCTION_NAMES: tuple[str, ...] = tuple(HANDLERS)

__all__ = ["FILE_PUSH", "FUNCTION_NAMES", "HANDLERS", "HTTP_PUSH", "QUEUE_PUSH", "SCHEDULED_PUSH"]
