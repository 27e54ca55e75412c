"""Queued pushes: AWS SQS, FC MNS topic triggers and FC MNS queue (EventBridge) triggers.

Handler ``index.handler`` on both platforms. On SQS enable ``ReportBatchItemFailures`` so only the
messages worth retrying come back. Shapes and outcomes: :mod:`pushfn.triggers.queue`,
:mod:`pushfn.specs.envelope`, :mod:`pushfn.jobs.queued`.
"""

from pushfn.jobs.queued import handle_queue_event

handler = handle_queue_event
