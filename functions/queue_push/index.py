"""Queued pushes: AWS SQS, FC MNS topic triggers and FC MNS queue (EventBridge) triggers.

Handler ``index.handler`` on both platforms. On SQS enable ``ReportBatchItemFailures`` so only the
messages worth retrying come back (a record without a messageId that must be retried is reported as
``""``, which fails the whole batch rather than losing it). A message that cannot be read or
interpreted is dead-lettered with its reason; an event of no known shape is reported the same way,
never raised. Shapes and outcomes: :mod:`pushfn.triggers.queue`,
:mod:`pushfn.specs.envelope`, :mod:`pushfn.jobs.queued`.
"""

from pushfn.jobs.queued import handle_queue_event
from pushfn.logs import entry_point

# JSON log lines carrying the platform's request id (configured once, at the first invocation).
handler = entry_point(handle_queue_event)
