"""Scheduled pushes: FC timer triggers and AWS EventBridge schedules (rule or Scheduler).

Handler ``index.handler`` on both platforms. The event shapes, keys and retry rules are described
in :mod:`pushfn.triggers.timer` and :mod:`pushfn.jobs.scheduled`.
"""

from pushfn.jobs.scheduled import handle_timer_event

handler = handle_timer_event
