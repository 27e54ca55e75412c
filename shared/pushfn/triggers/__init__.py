"""Platform adapters: each trigger's event shape in, one normalized input out, and back.

One module per trigger kind, and nothing else lives here — every difference between Function
Compute and Lambda stays in this folder:

- :mod:`pushfn.triggers.http` — FC 2.0 WSGI, FC 3.0 HTTP events, API Gateway v1/v2, Function URLs;
- :mod:`pushfn.triggers.timer` — FC timer, EventBridge rule schedules, EventBridge Scheduler input;
- :mod:`pushfn.triggers.queue` — SQS batches, MNS topic (STREAM/JSON), MNS queue via EventBridge.

:mod:`pushfn.triggers.events` builds each platform's events from a few arguments, so every handler
is tested without a cloud.
"""
