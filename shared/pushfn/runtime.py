"""What every function handler shares inside one process: settings, the push client, the
idempotency store, one guard per function, the templates, the schedules and the dead-letter sink.

:func:`get_runtime` builds the runtime on the first invocation (the cold start) from one
:class:`~pushfn.settings.Settings` read of the environment, and every invocation the instance
serves reuses it (keep-alive connections, one SQLite connection pool, one boto3 client). Each part
is built lazily, on first use, so a handler that answers ``/health`` never imports boto3.

Credentials are the exception to "built once": every invocation's context is bound to the
runtime's :class:`~pushfn.push.credentials.FunctionContextCredentials` (FC hands each invocation
the role's current temporary keys), and the environment's key pairs are re-read on each use (FC 3.x
rotates the role keys it puts there). Client and store share one credential chain.

Tests swap the whole runtime with :func:`set_runtime`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pushfn.idempotency import IdempotencyGuard
    from pushfn.idempotency.stores.base import IdempotencyStore
    from pushfn.jobs.dead_letter import DeadLetterSink
    from pushfn.push.client import PushClient
    from pushfn.push.credentials import ChainProvider, FunctionContextCredentials
    from pushfn.settings import Settings
    from pushfn.specs.templates import Template

_UNSET: Any = object()


class Runtime:
    """Settings and the parts built from them, each created once (thread-safe).

    ``settings`` defaults to one read of the environment on first use; ``reread`` is how the
    credential chain gets fresh key pairs (default: re-read the environment when ``settings`` was
    read from it, never when ``settings`` were given). ``client`` / ``store`` replace the built
    ones (tests). ``context`` is bound like an invocation's (see :meth:`bind_context`).
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        client: PushClient | None = None,
        store: IdempotencyStore | None = None,
        context: Any = None,
        reread: Callable[[], Settings] | None = None,
    ) -> None:
        self._settings = settings
        self._reread = reread
        self._client = client
        self._store = store
        self._guards: dict[str, IdempotencyGuard] = {}
        self._lock = threading.RLock()
        self._context_credentials: FunctionContextCredentials | None = None
        self._credentials: ChainProvider | None = None
        self._templates: Mapping[str, Template] | None = None
        self._schedules: Mapping[str, Any] | None = None
        self._file_push_spec: Any = _UNSET
        self._dead_letter: Any = _UNSET
        self._pending_context = context

    @property
    def settings(self) -> Settings:
        """The settings every part is built from (read from the environment on first use when not given,
        secrets stored by reference resolved: :func:`pushfn.secret_refs.load_settings`)."""
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    from pushfn.secret_refs import load_settings

                    self._settings = load_settings()
                    if self._reread is None:
                        self._reread = load_settings
        return self._settings

    def bind_context(self, context: Any) -> None:
        """Let ``context`` (this invocation's FC/Lambda context) supply role credentials from now on."""
        if context is None:
            return
        provider = self._context_credentials
        if provider is None:
            with self._lock:
                if self._context_credentials is None:
                    from pushfn.push.credentials import FunctionContextCredentials

                    self._context_credentials = FunctionContextCredentials()
                provider = self._context_credentials
        provider.bind(context)

    @property
    def credentials(self) -> ChainProvider:
        """The credential chain of the client and the store (one, so both see the same keys)."""
        if self._credentials is None:
            settings = self.settings
            with self._lock:
                if self._credentials is None:
                    from pushfn.push.credentials import FunctionContextCredentials, default_chain

                    if self._context_credentials is None:
                        self._context_credentials = FunctionContextCredentials()
                    if self._pending_context is not None:
                        self._context_credentials.bind(self._pending_context)
                        self._pending_context = None
                    self._credentials = default_chain(self._reread or settings, context=self._context_credentials)
        return self._credentials

    @property
    def client(self) -> PushClient:
        """The CloudPush client, built on first use by :meth:`PushClient.from_settings
        <pushfn.push.client.PushClient.from_settings>` with :attr:`credentials` (which lists what it raises;
        a failure is not kept)."""
        if self._client is None:
            credentials = self.credentials
            with self._lock:
                if self._client is None:
                    from pushfn.push.client import PushClient

                    self._client = PushClient.from_settings(self.settings, credentials=credentials)
        return self._client

    @property
    def store(self) -> IdempotencyStore:
        """The idempotency store ``PUSHFN_IDEMPOTENCY_URL`` names (SQLite in the data dir when unset), built
        on first use; nothing is opened until used. Raises
        :class:`~pushfn.idempotency.IdempotencyConfigError` for a URL that cannot de-duplicate (a
        read-only SQLite store included: the functions write a record before every push)."""
        if self._store is None:
            settings, credentials = self.settings, self.credentials
            with self._lock:
                if self._store is None:
                    from pushfn.idempotency import store_from_settings

                    # One chain for client and store: Tablestore signs with the same (role, STS) keys.
                    store = store_from_settings(settings, credentials=credentials)
                    if getattr(store, "read_only", False):
                        from pushfn.idempotency import IdempotencyConfigError

                        # Every push starts with a write (IN_PROGRESS): a read-only store would refuse
                        # them all as an outage, while the mistake is the setting.
                        raise IdempotencyConfigError(
                            "PUSHFN_IDEMPOTENCY_URL: ?mode=ro opens the store read-only, and a function must "
                            "record every push; read-only is for pushfn store list/show"
                        )
                    self._store = store
        return self._store

    def guard(self, function_name: str) -> IdempotencyGuard:
        """The idempotency guard of one function (``"queue_push"``…) over :attr:`store`, one per name;
        its keys are scoped by ``function_name``."""
        guard = self._guards.get(function_name)
        if guard is None:
            from pushfn.idempotency import IdempotencyConfig, IdempotencyGuard

            store = self.store
            with self._lock:
                guard = self._guards.get(function_name)
                if guard is None:
                    guard = IdempotencyGuard(store, IdempotencyConfig(), function_name=function_name)
                    self._guards[function_name] = guard
        return guard

    def templates(self) -> Mapping[str, Template]:
        """The named templates of ``PUSHFN_TEMPLATES``, loaded on first use (a zero-argument loader,
        as :func:`~pushfn.specs.push_spec.resolve_push_spec` takes). A failure is not kept: it raises
        :class:`~pushfn.errors.ConfigurationError` again on the next use."""
        if self._templates is None:
            from pushfn.specs.templates import load_templates

            templates = load_templates(self.settings.pushfn_templates)
            with self._lock:
                if self._templates is None:
                    self._templates = templates
        return self._templates

    def schedules(self) -> Mapping[str, Any]:
        """The ``{name: push spec}`` table of ``PUSHFN_SCHEDULES``, loaded on first use (like :meth:`templates`)."""
        if self._schedules is None:
            from pushfn.specs.tables import load_schedules

            schedules = load_schedules(self.settings.pushfn_schedules)
            with self._lock:
                if self._schedules is None:
                    self._schedules = schedules
        return self._schedules

    def file_push_spec(self) -> Any:
        """The file function's default push content, ``PUSHFN_FILE_PUSH_SPEC`` (inline JSON or a file
        path) read as JSON, loaded on first use (like :meth:`templates`); ``None`` when it is not set.
        A failure is not kept: it raises :class:`~pushfn.errors.ConfigurationError` again on the next use.
        The spec itself is checked where it is used (:func:`pushfn.jobs.files.find_content`)."""
        if self._file_push_spec is _UNSET:
            source = self.settings.pushfn_file_push_spec
            spec = None
            if source:
                from pushfn.specs.tables import load_table

                spec = load_table(source, variable="PUSHFN_FILE_PUSH_SPEC", shape="a push spec without targets")
            with self._lock:
                if self._file_push_spec is _UNSET:
                    self._file_push_spec = spec
        return self._file_push_spec

    @property
    def dead_letter(self) -> DeadLetterSink | None:
        """Where permanently failed queue messages go (``PUSHFN_DEAD_LETTER_URL``), or ``None``."""
        if self._dead_letter is _UNSET:
            from pushfn.jobs.dead_letter import dead_letter_sink

            settings = self.settings
            sink = dead_letter_sink(settings.pushfn_dead_letter_url, region=settings.aws_region_name)
            with self._lock:
                if self._dead_letter is _UNSET:
                    self._dead_letter = sink
        return self._dead_letter

    def close(self) -> None:
        """Close the parts that were built (the client's connections, the store's); none is built here."""
        with self._lock:
            client, store = self._client, self._store
            self._client = self._store = None
        for part in (client, store):
            close = getattr(part, "close", None)
            if callable(close):
                close()


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime(context: Any = None) -> Runtime:
    """The process-wide runtime, built on first use from one read of the environment.

    ``context`` (FC/Lambda) is bound on every call, so role credentials come from the latest
    invocation, not the first. Raises :class:`~pushfn.settings.SettingsError` when a setting is
    malformed (the runtime is then not kept: the next invocation reads the environment again).
    """
    global _runtime
    runtime = _runtime
    if runtime is None:
        with _runtime_lock:
            if _runtime is None:
                # Secrets stored by reference are fetched here, once per cold start (pushfn.secret_refs).
                from pushfn.secret_refs import load_settings

                _runtime = Runtime(settings=load_settings(), reread=load_settings)
            runtime = _runtime
    runtime.bind_context(context)
    return runtime


def set_runtime(runtime: Runtime) -> None:
    """Use ``runtime`` as the process-wide runtime (tests)."""
    global _runtime
    _runtime = runtime


def reset_runtime(runtime: Runtime | None = None) -> None:
    """Forget the process-wide runtime (only if it is ``runtime``, when given); the next :func:`get_runtime`
    builds a new one (tests, ``pushfn serve`` stopping)."""
    global _runtime
    if runtime is None or _runtime is runtime:
        _runtime = None
