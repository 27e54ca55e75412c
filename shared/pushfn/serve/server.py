"""``pushfn serve``: the emulator, the four functions and their triggers on one machine.

:class:`Serve` starts, in this order: the emulator (and its inbox), the process runtime built from the
environment plus the local overrides (:meth:`Serve.settings_for`), the HTTP function on a threaded WSGI
server (:mod:`pushfn.serve.http_server`), the in-process queue, the bucket folder watcher and the timer
(:mod:`pushfn.serve.workers`). :meth:`Serve.stop` stops them in the reverse order, each letting its
work in flight finish; no thread is left behind.

Which push service the functions call: the emulator, unless ``PUSH_ENDPOINT`` is set (then that
endpoint, with the environment's keys) or real credentials and an AppKey are set without it (then the
real CloudPush — the banner says so loudly).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pushfn.errors import ConfigurationError
from pushfn.functions import FILE_PUSH, HTTP_PUSH, QUEUE_PUSH, SCHEDULED_PUSH
from pushfn.local.contexts import FcContext
from pushfn.logs import get_logger
from pushfn.masking import scrub_cut, scrub_text
from pushfn.serve.invocations import InvocationOutcome, Invocations, message_ids
from pushfn.serve.schedules import Schedule

if TYPE_CHECKING:
    from pushfn.runtime import Runtime
    from pushfn.serve.workers import GiveBack
    from pushfn.settings import Settings

logger = get_logger("pushfn.serve")

EMULATOR = "emulator"
#: The emulator's history file in the data folder.
EMULATOR_STORE = "emulator.db"
ENDPOINT = "endpoint"
REAL = "real"

#: Receives of a queue record (or deliveries of a tick) before it goes to the dead letters: SQS's
#: ``maxReceiveCount`` (``--max-receives``).
MAX_RECEIVES = 3
#: Files in the data folder holding, between two runs, the queue records and ticks a stop handed back.
KEPT_QUEUE = "serve-queue.json"
KEPT_TICKS = "serve-ticks.json"
#: The local dead letters (in the data folder) when ``PUSHFN_DEAD_LETTER_URL`` names none.
DEAD_LETTERS = "dead-letters"
#: The demo device registered in the emulator (the same as ``pushfn demo``'s).
DEMO_DEVICE = "0123456789abcdef0123456789abcdef"
DEMO_ALIAS = "demo"
#: The sample file ``--demo`` drops (and the banner suggests), with its push content beside it.
DEMO_FILE = "welcome.csv"
#: The file function's content when ``PUSHFN_FILE_PUSH_SPEC`` is unset and a file has no sidecar.
DEFAULT_FILE_CONTENT = {
    "DeviceType": "ALL",
    "PushType": "NOTICE",
    "Title": "Hello from pushfn serve",
    "Body": "Sent from a dropped file",
}
DEMO_CONTENT = {
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Hello from a file",
    "Body": "Dropped, read, sent",
}
DEMO_PUSH = {
    "Target": "ALIAS",
    "TargetValue": DEMO_ALIAS,
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Hello from pushfn serve",
    "Body": "A signed webhook, through the HTTP function, to the emulator.",
}


@dataclass
class ServeOptions:
    """What ``pushfn serve`` was asked for (the command's flags; ports 0 = any free port)."""

    host: str = "127.0.0.1"
    http_port: int = 9000
    emulator_port: int = 9100
    bucket_dir: Path = Path("pushfn-bucket")
    config: list[Path] | None = None
    no_auth: bool = False
    demo: bool = False
    log_format: str = "text"
    verbose: bool = False
    schedules: list[Schedule] = field(default_factory=list)
    max_receives: int = MAX_RECEIVES


class Serve:
    """Everything ``pushfn serve`` runs; :meth:`start`, then :meth:`stop` (from any thread, once).

    ``settings`` are the environment's (:meth:`pushfn.settings.Settings.from_env`). Raises
    ``ConfigurationError`` (bad settings, weak kept secrets) or ``OSError`` (a port in use) from
    :meth:`start`, after stopping whatever had started.
    """

    def __init__(self, options: ServeOptions, settings: Settings, out: IO[str]) -> None:
        self.options = options
        self.base_settings = settings
        self.out = out
        self.stopping = threading.Event()
        self.invocations = Invocations()
        self.schedules = {s.name: s for s in options.schedules}
        self.bucket = options.bucket_dir.expanduser().resolve()
        self.service = EMULATOR
        self.emulator: Any = None
        self.http: Any = None
        self.queue: Any = None
        self.ticks: Any = None
        self.watcher: Any = None
        self.scheduler: Any = None
        self.auth: Any = None
        self.settings: Settings | None = None
        self.runtime: Runtime | None = None
        self.data_dir: Path | None = None

    # --- start / stop -----------------------------------------------------------------------------

    def start(self) -> Serve:
        """Start every part (see the module docstring); returns ``self``."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from pushfn.emulator import Emulator, EmulatorSettings
        from pushfn.http import create_app
        from pushfn.jobs.fanout import use_local_queue
        from pushfn.runtime import Runtime, set_runtime
        from pushfn.serve.http_server import LocalHttp
        from pushfn.serve.local_auth import data_folder, ensure_folder, load_or_create
        from pushfn.serve.workers import FolderWatcher, LocalQueue, Scheduler
        from pushfn.triggers.http import http_handler

        base = self.base_settings
        self.data_dir = data_folder(base)
        ensure_folder(self.data_dir)
        if not self.options.no_auth:
            self.auth = load_or_create(self.data_dir)
        # Its history in the data folder, like the idempotency store: MessageIds the store replays after a
        # restart stay the emulator's, and the inbox still shows them.
        with _listening("--emulator-port", self.options.emulator_port):
            self.emulator = Emulator(
                self.options.host,
                self.options.emulator_port,
                store=self.data_dir / EMULATOR_STORE,
                settings=EmulatorSettings.from_settings(base),
            ).start()
        self.emulator.register_device(DEMO_DEVICE, account="demo-user", aliases=(DEMO_ALIAS,), tags=("news",))
        try:
            self.bucket.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"--bucket-dir {self.bucket}: cannot be created ({exc.strerror or type(exc).__name__})"
            ) from None
        self.settings = self.settings_for(base)
        self.runtime = Runtime(settings=self.settings)
        set_runtime(self.runtime)
        app = create_app(runtime=self.runtime)  # ConfigurationError here: refuse to start, not 500 on every call
        handler = http_handler(app, max_body_bytes=app.settings.max_body_bytes)
        self.runtime.store  # noqa: B018 - a bad PUSHFN_IDEMPOTENCY_URL is refused now, not at the first push
        with _listening("--http-port", self.options.http_port):
            self.http = LocalHttp(self.options.host, self.options.http_port, self._http_function(handler), self.control)
        self.queue = LocalQueue(
            self.run_queue_job,
            visibility_timeout=lambda: self.lease(QUEUE_PUSH),
            max_receives=self.options.max_receives,
            dead_letter=lambda event, reason, receives: self.dead_letter(QUEUE_PUSH, event, reason, receives),
            keep=self.data_dir / KEPT_QUEUE,
        )
        self.queue.resume()
        self.queue.start()
        self.ticks = LocalQueue(
            self.redeliver_tick,
            name="pushfn-tick-redelivery",
            visibility_timeout=lambda: self.lease(SCHEDULED_PUSH),
            max_receives=self.options.max_receives,
            dead_letter=lambda event, reason, receives: self.dead_letter(SCHEDULED_PUSH, event, reason, receives),
            keep=self.data_dir / KEPT_TICKS,
        )
        self.ticks.resume()
        self.ticks.start()
        use_local_queue(self.queue.put)
        self.watcher = FolderWatcher(self.bucket, self.run_file, self.stopping)
        self.watcher.start()
        if not self.watcher.ready.wait(10):
            logger.warning(
                "the bucket folder watch is slow to start; files dropped now may be missed",
                extra={"fields": {"event": "serve.watch_slow"}},
            )
        self.scheduler = Scheduler(list(self.schedules.values()), self.fire_scheduled, self.stopping)
        self.scheduler.start()
        self.http.start()

    def settings_for(self, base: Any) -> Any:
        """``base`` with what a local run needs: the push service (see the module docstring), the bucket
        folder as ``PUSHFN_FILE_ROOT``, :data:`DEFAULT_FILE_CONTENT` as ``PUSHFN_FILE_PUSH_SPEC`` when unset and
        the push service is the emulator,
        the kept local secrets unless the environment names its own, and ``PUSHFN_HTTP_AUTH=none`` with
        ``--no-auth``."""
        changes: dict[str, Any] = {"pushfn_file_root": str(self.bucket)}
        if not base.is_set("pushfn_dead_letter_url") and self.data_dir is not None:
            # What gives up after --max-receives, and what fails for good, is kept, never only logged.
            letters = self.data_dir / DEAD_LETTERS
            letters.mkdir(mode=0o700, exist_ok=True)
            changes["pushfn_dead_letter_url"] = str(letters)
        if base.is_set("push_endpoint"):
            self.service = ENDPOINT
        elif _has_real_credentials(base) and base.push_app_key:
            self.service = REAL
        else:
            self.service = EMULATOR
            emulator = self.emulator.settings
            changes.update(
                push_endpoint=self.emulator.url,
                alibaba_cloud_access_key_id=emulator.access_key_id,
                alibaba_cloud_access_key_secret=emulator.access_key_secret,
                alibaba_cloud_security_token=None,
                push_app_key=str(emulator.app_keys[0]),
            )
            if not base.pushfn_file_push_spec:
                # A first try works without a sidecar — on the emulator only: a list of real devices dropped
                # before its sidecar is rejected with a report (as in the cloud), never sent a greeting.
                changes["pushfn_file_push_spec"] = json.dumps(DEFAULT_FILE_CONTENT)
        if self.options.no_auth:
            changes["pushfn_http_auth"] = "none"
        elif self.auth is not None:
            from pushfn.serve.local_auth import http_overrides

            changes.update(http_overrides(base, self.auth))
        return base.replace(**changes)

    def stop(self) -> None:
        """Stop every part, newest first; each lets its work in flight finish. Safe to call twice."""
        from pushfn.jobs.fanout import use_local_queue

        self.stopping.set()
        if self.http is not None:
            self.http.stop()
            self.http = None
        for thread in (self.scheduler, self.watcher):
            if thread is not None and thread.is_alive():
                thread.join()
        self.scheduler = self.watcher = None
        for name in ("ticks", "queue"):  # each hands back (keeps for the next start) what waits
            part = getattr(self, name)
            if part is not None:
                part.close()
                setattr(self, name, None)
        use_local_queue(None)
        if self.runtime is not None:
            from pushfn.runtime import reset_runtime

            reset_runtime(self.runtime)
            self.runtime.close()
            self.runtime = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    # --- the functions ------------------------------------------------------------------------------

    def _http_function(self, handler: Any) -> Any:
        def function(environ: dict[str, Any], start_response: Any) -> Any:
            method, path = str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO") or "/")
            answer: dict[str, Any] = {}

            def call(context: FcContext) -> list[bytes]:
                environ["fc.context"] = context
                environ["fc.request_uri"] = path + (
                    f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
                )

                def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                    answer["status"], answer["headers"] = status, headers
                    return start_response(status, headers, exc_info)

                return list(handler(environ, capture))

            def describe(body: list[bytes]) -> InvocationOutcome:
                status = str(answer.get("status", "500")).split(" ")[0]
                try:
                    data = json.loads(b"".join(body)) if body else None
                except ValueError:
                    data = None
                slug = ""
                if isinstance(data, dict) and isinstance(data.get("type"), str) and not status.startswith("2"):
                    slug = " " + data["type"].rsplit(":", 1)[-1]
                return InvocationOutcome(status + slug, message_ids(data) if status.startswith("2") else [])

            # The request's idempotency key when it names one (a signed webhook's id wins, as in the function).
            named = environ.get("HTTP_WEBHOOK_ID") or environ.get("HTTP_IDEMPOTENCY_KEY")
            # Masked before it is cut: a cut device id or secret is too short for the log filter to see.
            key = f"{method} {path}" + (f" {scrub_cut(str(named), 40)}" if named else "")
            return self.invocations.run(HTTP_PUSH, "http", key, call, describe)

        return function

    def fire(self, name: str, when: datetime | None = None, *, trigger: str = "fire") -> Any:
        """Run the timer function for schedule ``name`` now (or as fired at ``when``); its answer.
        Raises ``KeyError`` for an unknown name, and what the handler raises. A tick that asks to be
        retried (:class:`~pushfn.triggers.RetryLaterError`) is also handed to the tick redelivery queue,
        delivered again after the guard's in-progress lease (:meth:`lease`), as FC's async invocation and
        EventBridge Scheduler retry a failed tick; an immediate retry would only find it in progress."""
        from pushfn.serve.workers import utc_now
        from pushfn.triggers import RetryLaterError

        when = when or utc_now()
        try:
            return self._tick(name, when, trigger)
        except RetryLaterError as exc:
            if self.ticks is not None:
                self.ticks.give_back(
                    {"schedule": name, "time": when.isoformat(), "trigger": trigger}, "; ".join(exc.reasons)[:300], 1
                )
            raise

    def _tick(self, name: str, when: datetime, trigger: str) -> Any:
        from pushfn.jobs.scheduled import handle_timer_event

        event = self.schedules[name].event(when)
        return self.invocations.run(
            SCHEDULED_PUSH, trigger, name, lambda context: handle_timer_event(event, context), _describe_summary
        )

    def redeliver_tick(self, tick: Any) -> None:
        """The tick redelivery queue's worker: the timer function on a tick handed back by :meth:`fire`
        (``{"schedule", "time", "trigger"}``). A schedule no longer declared (a restart with another
        config) is logged and dropped; a RetryLaterError is raised for the queue to hand it back again."""
        name = tick.get("schedule") if isinstance(tick, dict) else None
        if name not in self.schedules:
            logger.error(
                "a tick of schedule %r was handed back but that schedule is no longer declared; not delivered",
                str(name)[:64],
                extra={"fields": {"event": "serve.tick_dropped", "schedule": str(name)[:64]}},
            )
            return None
        self._tick(name, datetime.fromisoformat(tick["time"]), "retry")
        return None

    def lease(self, function: str) -> float:
        """Seconds a redelivery of ``function``'s work waits (the local visibility timeout): the
        idempotency guard's in-progress lease for an invocation here, read from the guard's own config
        (:meth:`~pushfn.idempotency.IdempotencyConfig.in_progress_window_ms` with this server's FC
        context), so the redelivery never finds its own earlier attempt still "in progress"."""
        from pushfn.serve.invocations import new_context

        guard = self.runtime.guard(function)
        return guard.config.in_progress_window_ms(new_context(function)) / 1000

    def dead_letter(self, function: str, event: Any, reason: str, receives: int) -> str | None:
        """Write what gave up after ``receives`` deliveries to the dead letters (``PUSHFN_DEAD_LETTER_URL``,
        else ``<data folder>/dead-letters``): the body as delivered and the reason; where it went."""
        from pushfn.api_time import format_api_time
        from pushfn.jobs.dead_letter import DeadLetter
        from pushfn.triggers.queue import received_text

        sink = self.runtime.dead_letter if self.runtime is not None else None
        if sink is None:
            return None
        records = event.get("Records") if isinstance(event, dict) else None
        bodies: list[tuple[Any, Any]] = (
            [(r.get("messageId"), r.get("body")) for r in records if isinstance(r, dict)]
            if isinstance(records, list)
            else []
        )
        # An event of no records (or none readable) is written whole: a job given up on is never dropped.
        bodies = bodies or [(None, event)]
        where = None
        for raw_id, body in bodies:
            message_id = raw_id.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(raw_id, str) else None
            text, encoding = received_text(body)
            letter = DeadLetter(
                function=function,
                message_id=message_id,
                key=message_id or _job_key(event),
                source="pushfn serve",
                failure={"kind": "max_receives", "receives": receives, "reason": reason},
                body=text,
                failed_at=format_api_time(time.time()),
                body_encoding=encoding,
            )
            where = sink.write(letter)
            logger.error(
                "dead letter written: %s",
                where,
                extra={"fields": {"event": "serve.dead_letter_written", "function": function, "where": where}},
            )
        return where

    def fire_scheduled(self, schedule: Schedule, when: datetime) -> Any:
        """The timer's callback: :meth:`fire` at the scheduled time."""
        return self.fire(schedule.name, when, trigger="timer")

    def run_file(self, path: Path) -> Any:
        """Run the file function for a file in the bucket folder, as an OSS ``ObjectCreated:PutObject``
        event (ETag: the content's MD5, as OSS gives for a simple upload, so the same content dropped
        again is the same version and sends nothing twice). None, and nothing run, once the server stops."""
        from pushfn.jobs.files import handle_object_event
        from pushfn.triggers.events.objects import StoredObject, oss_event

        key = path.relative_to(self.bucket).as_posix()
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                if self.stopping.is_set():  # a stop never waits for a multi-GB hash, nor starts the file
                    logger.warning(
                        "%s not started: pushfn serve is stopping; drop it again to send it",
                        key,
                        extra={"fields": {"event": "serve.file_not_started", "key": key}},
                    )
                    return None
                digest.update(block)
        size = path.stat().st_size
        event = oss_event([StoredObject(key, etag=digest.hexdigest().upper(), size=size)], bucket="local")

        def describe(result: Any) -> InvocationOutcome:
            files = result.get("files", []) if isinstance(result, dict) else []
            status = ",".join(str(f.get("status")) for f in files) or str(result.get("status", "skipped"))
            ids: list[str] = []
            report = path.with_name(path.name + ".report.json")
            with contextlib.suppress(OSError, ValueError, AttributeError):
                ids = message_ids(json.loads(report.read_bytes()).get("chunks", {}).get("sent", []))
            return InvocationOutcome(status, ids)

        return self.invocations.run(
            FILE_PUSH, "bucket", key, lambda context: handle_object_event(event, context), describe
        )

    def enqueue(self, message: Any) -> str:
        """Put ``message`` (a JSON value: a push spec or an envelope) on the local queue as one SQS record;
        the record's messageId."""
        from pushfn.triggers.events.queue import SqsRecord, sqs_event

        record = SqsRecord(body=json.dumps(message, ensure_ascii=False), message_id=str(uuid.uuid4()))
        self.queue.put(sqs_event([record]))
        return record.message_id

    def run_queue_job(self, event: Any) -> GiveBack | None:
        """The local queue's worker: the queue function on one event (an SQS batch, or a fan-out job).
        The records its reply lists in ``batchItemFailures`` are handed back (a :class:`GiveBack` of an
        SQS batch of only those records), as SQS makes them visible again; a RetryLaterError (a fan-out
        job) is raised for the queue to hand the whole job back."""
        from pushfn.jobs.queued import handle_queue_event
        from pushfn.serve.workers import GiveBack

        label = "fanout" if isinstance(event, bytes) else "queue"
        key = _job_key(event)

        def describe(result: Any) -> InvocationOutcome:
            failures = result.get("batchItemFailures") if isinstance(result, dict) else None
            outcome = (
                f"retry {len(failures)}"
                if failures
                else str(result.get("status", "ok"))
                if isinstance(result, dict)
                else "ok"
            )
            return InvocationOutcome(outcome, message_ids(result))

        result = self.invocations.run(
            QUEUE_PUSH, label, key, lambda context: handle_queue_event(event, context), describe
        )
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures or not isinstance(event, dict):
            return None
        failed = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        records = [r for r in event.get("Records", []) if isinstance(r, dict) and r.get("messageId") in failed]
        # An identifier naming no record fails the whole batch, as Lambda's partial batch response does.
        kept = {**event, "Records": records if len(records) == len(failed) else event.get("Records", [])}
        return GiveBack(kept, f"batchItemFailures: {len(kept['Records'])} record(s)")

    # --- control ------------------------------------------------------------------------------------

    def control(self, method: str, route: str, body: bytes) -> tuple[int, Any]:
        """The ``/_serve/`` routes (:mod:`pushfn.serve.http_server`): ``(status, JSON answer)``."""
        from pushfn.json_input import JsonInputError, decode_json
        from pushfn.serve.http_server import ServeRequestError

        if route in ("", "status"):
            if method != "GET":
                raise ServeRequestError(405, "use GET")
            return 200, self.describe()
        if route.startswith("fire/"):
            if method != "POST":
                raise ServeRequestError(405, "use POST")
            name = route[len("fire/") :]
            if name not in self.schedules:
                known = ", ".join(sorted(self.schedules)) or "none are declared"
                # A config file written after the start is the usual cause: say so, or the reader is stuck.
                raise ServeRequestError(
                    404,
                    f"no schedule {name!r} (known: {known}); schedules are read when pushfn serve starts: "
                    "restart it after adding or changing pushfn.toml, template.yaml or s.yaml",
                )
            from pushfn.triggers import RetryLaterError

            try:
                return 200, self.fire(name)
            except RetryLaterError as exc:
                return 500, {
                    "error": "the tick asked to be retried; pushfn serve delivers it again after the guard's "
                    f"in-progress lease ({self.lease(SCHEDULED_PUSH):.0f} s), see its log",
                    "detail": str(exc)[:500],
                }
            except Exception as exc:
                return 500, {"error": f"the timer function raised {type(exc).__name__}", "detail": str(exc)[:500]}
        if route == "queue":
            if method != "POST":
                raise ServeRequestError(405, "use POST")
            try:
                message = decode_json(body)
            except JsonInputError as exc:
                raise ServeRequestError(400, f"the body is not JSON: {exc.detail}") from None
            return 202, {"queued": self.enqueue(message)}
        raise ServeRequestError(404, "no such control route (GET /_serve/, POST /_serve/fire/NAME, POST /_serve/queue)")

    def describe(self) -> dict[str, Any]:
        """What runs where, as ``GET /_serve/`` answers it (no secrets)."""
        return {
            "http": self.http.url if self.http else None,
            "emulator": self.emulator.url if self.emulator else None,
            "inbox": f"{self.emulator.url}/" if self.emulator else None,
            "push_service": self.service,
            "bucket": str(self.bucket),
            "data": str(self.data_dir),
            "schedules": [
                {"name": s.name, "expression": s.expression, "enabled": s.enabled, "source": s.source}
                for s in self.schedules.values()
            ],
            "invocations": self.invocations.count,
            "recent": [
                {
                    "function": line.function,
                    "trigger": line.trigger,
                    "key": line.key,
                    "outcome": line.outcome,
                    "message_ids": list(line.message_ids),
                    "ms": line.ms,
                    "platform_request_id": line.platform_request_id,
                }
                for line in self.invocations.lines[-20:]
            ],
        }

    # --- demo ---------------------------------------------------------------------------------------

    def demo_secret(self) -> str | None:
        """The webhook secret the HTTP function accepts first (the environment's, a referenced one once
        resolved, else the kept local one), which ``--demo`` signs with; None when auth is off."""
        if self.auth is None:
            return None
        settings = self.settings
        if settings.pushfn_webhook_secrets_ref and not settings.pushfn_webhook_secrets:
            from pushfn.secret_refs import resolve_references

            settings = resolve_references(settings)
        return _first_secret(settings.pushfn_webhook_secrets) or self.auth.webhook_secret

    def demo(self) -> None:
        """Send one signed webhook push through the HTTP function and drop the sample file."""
        import requests

        body = json.dumps(DEMO_PUSH).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        secret = self.demo_secret()
        if secret is not None:
            headers.update(webhook_headers(secret, body))
        with requests.Session() as session:
            session.trust_env = False  # loopback: no proxy from the environment
            session.post(f"{self.http.url}/push", data=body, headers=headers, timeout=30)
        write_demo_file(self.bucket)


def _first_secret(secrets: str | None) -> str | None:
    first = (secrets or "").split(",")[0].strip()
    return first or None


def webhook_headers(secret: str, body: bytes, *, webhook_id: str | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers signing ``body`` with ``secret`` (``whsec_…`` or text), now."""
    from pushfn.http import sign_webhook
    from pushfn.http.settings import webhook_secret_bytes

    ident = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time())
    return {
        "webhook-id": ident,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_webhook(webhook_secret_bytes(secret), ident, stamp, body),
    }


def write_demo_file(bucket: Path) -> Path:
    """Write the sample CSV (and its ``.push.json`` content first, so the run finds it); its path."""
    (bucket / f"{DEMO_FILE}.push.json").write_text(json.dumps(DEMO_CONTENT) + "\n", encoding="utf-8")
    target = bucket / DEMO_FILE
    staging = bucket / f".{DEMO_FILE}.tmp"  # hidden: the watcher ignores it until the rename
    # A new version each time (the comment line changes the ETag), so a second --demo pushes again.
    staging.write_text(f"# pushfn serve --demo, {uuid.uuid4()}\ndevice_id\n{DEMO_DEVICE}\n", encoding="utf-8")
    staging.replace(target)
    return target


#: Settings naming a source of real credentials (the profile and role ones arrive with the CLI-profile
#: and OIDC providers; read with getattr so serve works with or without them).
_REAL_CREDENTIAL_SETTINGS = (
    "alibaba_cloud_access_key_id",
    "push_access_key_id",
    "alibaba_cloud_credentials_uri",
    "alibaba_cloud_ecs_metadata",
    "alibaba_cloud_profile",
    "alibaba_cloud_role_arn",
)


@contextlib.contextmanager
def _listening(flag: str, port: int) -> Any:
    """A socket that cannot be bound becomes a :class:`ConfigurationError` naming its flag and port."""
    import errno

    try:
        yield
    except OSError as exc:
        reason = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or type(exc).__name__)
        raise ConfigurationError(f"{flag} {port}: cannot listen ({reason}); pick another port with {flag}") from None


def _has_real_credentials(settings: Settings) -> bool:
    return any(getattr(settings, name, None) for name in _REAL_CREDENTIAL_SETTINGS)


def _describe_summary(result: Any) -> InvocationOutcome:
    if not isinstance(result, dict):
        return InvocationOutcome("ok")
    key = result.get("key")
    return InvocationOutcome(
        str(result.get("status", "ok")), message_ids(result), key if isinstance(key, str) else None
    )


def _job_key(event: Any) -> str:
    """What names a queued job in the invocation log and its dead letter; never raises (it runs on the
    way to the dead letters, so a job it could not name would be handed back there forever)."""
    if isinstance(event, bytes):
        try:
            data = json.loads(event)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than json can walk
            return "job"
        key = data.get("key") if isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            return "job"
        key = key.encode("utf-8", "backslashreplace").decode("utf-8")
        if len(key) <= 60:
            return key  # whole: the log filter masks it
        # Shortened in the middle: a chunk key's end (#chunk-0007) is what tells one job from the next.
        # Masked first: a file named after a device id (file:local/<id>.txt@…) was cut inside the id,
        # and its first 14 characters, no longer shaped like one, reached the invocation line.
        key = scrub_text(key)
        return key if len(key) <= 60 else f"{key[:25]}…{key[-34:]}"
    records = event.get("Records") if isinstance(event, dict) else None
    first = records[0] if isinstance(records, list) and records else None
    message_id = first.get("messageId") if isinstance(first, dict) else None
    return message_id.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(message_id, str) else "message"


__all__ = ["DEMO_DEVICE", "DEMO_FILE", "Serve", "ServeOptions", "webhook_headers", "write_demo_file"]
