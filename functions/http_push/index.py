"""HTTP push function: ``handler`` works unchanged behind FC 2.0 (WSGI), FC 3.0, API Gateway v1/v2
and Lambda Function URLs. Everything platform-specific lives in ``pushfn.triggers.http``."""

from pushfn.http import handler

__all__ = ["handler"]
