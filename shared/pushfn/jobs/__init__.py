"""Processing behind the scheduled and queue functions: spec → pushes through the idempotency guard.

- :mod:`.scheduled` — one timer tick: resolve the spec against the scheduled time, push each item
  under its own key, stop at the first failure a retry can fix and raise so the platform retries.
- :mod:`.queued` — a batch of queue messages, each on its own: success, permanent failure (reported,
  dead-lettered, never retried) or transient failure (handed back to the platform for a retry).
- :mod:`.outcomes` — which failures are permanent and which transient, in one table.
- :mod:`.dead_letter` — where permanently failed messages go (a directory or an SQS queue).
- :mod:`.runner` — sends planned pushes one by one through the guard.

The platform adapters (event shapes, replies) live in :mod:`pushfn.triggers`; nothing here knows
whether it runs on Function Compute or Lambda.
"""
