"""What a route handler receives, and the route that names it: :class:`Call`, :class:`Deps`, :class:`Route`.

A handler is a plain function ``handler(call, deps) -> HttpResponse``:

* ``call`` is this request, already checked by the app: the raw request, its path parameters decoded
  and validated, its JSON body parsed (routes with a ``body``), and the authenticated caller;
* ``deps`` is what the handler may use besides the request: the push client, the duplicate guard, the
  templates, the settings and a clock. The client, the guard (its store) and the templates are built
  on first use, so a route that needs none of them (``/health``) never builds them.

Neither reaches back into the app. A handler returns its answer or raises (:class:`HttpProblem`, a
pushfn error, anything else); the app translates what it raises, in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from pushfn.errors import PushfnError
from pushfn.http.auth import Principal
from pushfn.http.problems import UninterpretableRequest
from pushfn.http.settings import HttpSettings
from pushfn.triggers.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from pushfn.idempotency import Guard
    from pushfn.push import PushSender
    from pushfn.specs.templates import Template

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it (the app builds it after matching and authenticating).

    ``params`` are the path parameters, percent-decoded and each checked as one identifier of its kind
    (``{"deviceId": "e2ba…"}``); ``body`` is the JSON object of a route with a body (``{}`` for routes
    without one); ``log`` holds the fields of this request's one log line, which a handler may add to
    (``key``, ``replayed``…; never a secret or a full device id: mask them).
    """

    request: HttpRequest
    params: Mapping[str, str]
    principal: Principal
    body: dict[str, Any] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)


class Deps:
    """What handlers may use besides the request; one per request, each costly part built on first use.

    ``client``, ``app_key``, ``guard`` and ``templates`` are given as zero-argument factories and each
    is called at most once, when first read: a request that never reads them never builds the client
    or opens the store. A factory raising ``ConfigurationError`` (or ``CredentialsError``,
    ``IdempotencyConfigError``) makes the request a 500 ``misconfigured`` answer at the app's edge.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        client: Callable[[], PushSender],
        app_key: Callable[[], int | None],
        guard: Callable[[], Guard],
        templates: Callable[[], Mapping[str, Template]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        #: The function's HTTP settings (limits, idempotency windows, auth).
        self.settings = settings
        #: Unix time in seconds (float), for anything a handler must date.
        self.clock = clock
        self._client = client
        self._app_key = app_key
        self._guard = guard
        self._templates = templates

    @cached_property
    def client(self) -> PushSender:
        """The push client of the process."""
        return self._client()

    @cached_property
    def app_key(self) -> int | None:
        """The AppKey the function pushes for (``PUSH_APP_KEY``); ``None`` when it is not configured."""
        return self._app_key()

    @cached_property
    def guard(self) -> Guard:
        """The duplicate guard of this function (opens the idempotency store on first use)."""
        return self._guard()

    @cached_property
    def templates(self) -> Mapping[str, Template]:
        """The named push templates (``PUSHFN_TEMPLATES``), by name."""
        return self._templates()


#: ``handler(call, deps)``: the answer to one request, or an exception the app translates.
Handler = Callable[[Call, Deps], HttpResponse]


@dataclass(frozen=True)
class Route:
    """One ``METHOD /path/{param}`` → handler, with what ``/openapi.json`` says about it."""

    method: str
    pattern: str
    handler: Handler
    operation_id: str
    summary: str
    #: No authentication (health check, API description).
    public: bool = False
    #: Name of the request body schema in ``/openapi.json``. A route with a body takes JSON: the app
    #: checks the media type and parses one object into :attr:`Call.body` before calling the handler.
    body: str | None = None
    #: Success status and the name of its answer schema.
    success: tuple[int, str] = (200, "Done")
    #: Status codes the route can answer besides the success and the generic ones.
    errors: tuple[int, ...] = ()
    #: CloudPush parameter → the route's own field, for a refusal naming the parameter
    #: (``InvalidDeviceId.NotFound`` is about the path parameter ``deviceId``); others keep their name.
    service_fields: tuple[tuple[str, str], ...] = ()

    @property
    def segments(self) -> tuple[str, ...]:
        """The pattern's path segments: ``("devices", "{deviceId}", "tags")``."""
        return tuple(self.pattern.strip("/").split("/")) if self.pattern != "/" else ()


def interpret(step: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``step(*args, **kwargs)``, for a step that interprets the caller's data (parse, validate,
    render, build the request).

    Whatever such a step raises is the request's fault: errors of pushfn's own (invalid request, bad
    JSON, misconfiguration) keep their meaning; anything else (a ``RecursionError`` on absurd nesting,
    an ``OverflowError`` on an absurd date…) is raised as :class:`UninterpretableRequest`, a 400, never
    a 500. Never wrap a call to a service in this: its failures are not the caller's.
    """
    try:
        return step(*args, **kwargs)
    except PushfnError:
        raise
    except Exception as exc:
        raise UninterpretableRequest(type(exc).__name__) from None
