"""The HTTP push function: routes, auth, idempotency and problem details behind every HTTP trigger.

::

    from pushfn.http import handler          # FC 2.0 WSGI, FC 3.0, API Gateway v1/v2, Function URL
    from pushfn.http import create_app       # HttpRequest -> HttpResponse, for tests and `pushfn serve`

Settings are read from the environment once per process, when the app is built at the first request
(:mod:`pushfn.settings`, :mod:`pushfn.http.settings`); the push client and the idempotency store come
from :func:`pushfn.runtime.get_runtime`. Invalid settings (a weak
webhook secret, a malformed ``PUSHFN_API_KEYS`` entry, a bad number…) are logged once, at the first
request, and every request is then answered with the ``misconfigured`` problem (HTTP 500: the
operator's mistake, not the caller's) until the environment is fixed and the instance restarts.

Modules, in layers: each imports only from layers above its own, so the imports form no cycle
(``tests/http/test_http_layers.py`` reads this drawing and checks every import, lazy and
``TYPE_CHECKING`` ones included)::

    problems, identifiers, settings  -- problem answers, path identifiers, settings (no pushfn.http imports)
    parsing, auth, schemas           -- body parsing, who is calling, body and answer models
    call                             -- Call, Deps, Route: what a handler receives, and what names it
    idempotency                      -- once(): the Idempotency-Key step of a push
    openapi                          -- the API description of a route table
    routes                           -- ROUTES (data) and their handlers
    app                              -- HttpApp: match, authenticate, call the handler, translate errors
    __init__                         -- the process-wide app and the platform handler
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pushfn.errors import ConfigurationError
from pushfn.http.app import HttpApp
from pushfn.http.auth import sign_webhook
from pushfn.http.problems import HttpProblem
from pushfn.http.settings import HttpSettings, hash_api_key
from pushfn.logs import get_logger
from pushfn.triggers.http import HttpRequest, HttpResponse, http_handler

if TYPE_CHECKING:
    from pushfn.runtime import Runtime

__all__ = [
    "HttpApp",
    "HttpSettings",
    "create_app",
    "default_app",
    "handler",
    "hash_api_key",
    "reset_default_app",
    "set_default_app",
    "sign_webhook",
]

logger = get_logger("pushfn.http")
_app: HttpApp | None = None
#: Why the app could not be built (kept so the reason is logged once, not on every request).
_app_error: str | None = None
_lock = threading.Lock()


def create_app(settings: HttpSettings | None = None, *, runtime: Runtime | None = None, **kwargs: Any) -> HttpApp:
    """An app with ``settings`` (default: ``runtime``'s :class:`~pushfn.settings.Settings` when one is
    given, else a read of the environment) and ``runtime`` (default: the process one). Raises
    :class:`ConfigurationError` for invalid settings."""
    if settings is None:
        from pushfn.secret_refs import load_settings

        # The process app is built once, at the first request (the cold start), like the runtime;
        # reset_default_app() builds it again from the environment as it is then (tests).
        settings = HttpSettings.from_settings(runtime.settings if runtime is not None else load_settings())
    return HttpApp(settings, runtime=runtime, **kwargs)


def default_app() -> HttpApp:
    """The process-wide app, built from the environment on first use (the cold start).

    Raises :class:`ConfigurationError` when the settings are invalid; the reason is logged the first
    time only (the environment of an instance does not change, so neither does the answer).
    """
    global _app, _app_error
    if _app is None:
        with _lock:
            if _app is None:
                if _app_error is not None:
                    raise ConfigurationError(_app_error)
                try:
                    _app = create_app()
                except ConfigurationError as exc:
                    _app_error = str(exc)
                    # Messages name the variable and the rule, never a secret's value.
                    logger.error("http settings invalid: %s", exc, extra={"fields": {"error": type(exc).__name__}})
                    raise
    return _app


def set_default_app(app: HttpApp) -> None:
    """Use ``app`` as the process-wide app (``pushfn invoke`` running the handler with local settings)."""
    global _app, _app_error
    with _lock:
        _app, _app_error = app, None


def reset_default_app() -> None:
    """Forget the process-wide app (and a failure to build it), so the next request re-reads the
    environment (tests)."""
    global _app, _app_error
    _app = None
    _app_error = None


def _serve(request: HttpRequest) -> HttpResponse:
    try:
        app = default_app()
    except ConfigurationError:
        # Settings are the operator's, not the caller's: the reason is in the log, not in the answer.
        problem = HttpProblem(
            500,
            "misconfigured",
            "The function is misconfigured",
            "see the function log",
            headers={"Cache-Control": "no-store"},
        )
        return problem.to_response()
    return app(request)


def _max_body_bytes() -> int:
    try:
        return default_app().settings.max_body_bytes
    except ConfigurationError:
        return HttpSettings().max_body_bytes


#: ``handler(event_or_environ, context_or_start_response)`` for every HTTP trigger.
handler = http_handler(_serve, max_body_bytes=_max_body_bytes)
