"""Files of targets: an object uploaded to OSS (FC OSS trigger) or S3 (S3 notification) becomes pushes.

Handler ``index.handler`` on both platforms. Each new ``.txt``/``.csv``/``.jsonl`` (optionally ``.gz``)
object is streamed, checked line by line, sent in chunks (``Push`` ≤ 1,000 targets, ``MassPush`` ≤ 100
tasks), each chunk at most once, and ``<key>.report.json`` is written beside it. Sidecars
(``*.push.json``) and reports (``*.report.json``) never start a run. Details:
:mod:`pushfn.triggers.objects`, :mod:`pushfn.targets`, :mod:`pushfn.jobs.files`.
"""

from pushfn.jobs.files import handle_object_event
from pushfn.logs import entry_point

# JSON log lines carrying the platform's request id (configured once, at the first invocation).
handler = entry_point(handle_object_event)
