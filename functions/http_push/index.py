"""HTTP push function: ``handler`` works unchanged behind FC 2.0 (WSGI), FC 3.0, API Gateway v1/v2
and Lambda Function URLs. Everything platform-specific lives in ``pushfn.triggers.http``."""

from pushfn.http import handler as http_handler
from pushfn.logs import entry_point

# JSON log lines carrying the platform's request id (configured once, at the first invocation).
handler = entry_point(http_handler)

__all__ = ["handler"]
