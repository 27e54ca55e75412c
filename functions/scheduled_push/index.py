"""Scheduled pushes: FC timer triggers and AWS EventBridge schedules (rule or Scheduler).

Handler ``index.handler`` on both platforms. The event shapes, keys and retry rules are described
in :mod:`pushfn.triggers.timer` and :mod:`pushfn.jobs.scheduled`.
"""

from pushfn.jobs.scheduled import handle_timer_event
from pushfn.logs import entry_point

# JSON log lines carrying the platform's request id (configured once, at the first invocation).
handler = entry_point(handle_timer_event)
