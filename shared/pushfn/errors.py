"""The base class of every error pushfn raises on purpose, and what serves every package.

Each package keeps its own errors module (one per utility, as AWS Lambda Powertools does:
``push.errors``, ``idempotency.exceptions``, ``jobs.errors``…) so a caller can catch one family, or
everything with :class:`PushfnError`. What every package needs lives here: :class:`PushfnError`,
:class:`ConfigurationError` and :class:`FieldProblem` (one broken rule of an input). The one translator
from pydantic errors to field problems and the one "did you mean" helper are in :mod:`pushfn.problems`.

The tree — every class, its module, when it is raised, and how each entry point answers it.
*HTTP* is the ``http_push`` answer (status and problem type, ``pushfn.http.app.translate``); *queue*
is ``queue_push`` / ``scheduled_push``: **permanent** (reported, dead-lettered, never retried) or
**transient** (handed back to the platform, bounded by its retry limit; ``pushfn.jobs.outcomes``);
*CLI* is the exit code of ``pushfn push``/``call`` (2 bad input, 3 refused, 4 network) or of
``pushfn store`` (2 bad input, 3 store failed, 4 store unreachable). ``(+ ValueError)`` marks a second
base kept so that older ``except ValueError`` code still catches the error::

    PushfnError                          pushfn.errors: catch-all; anything else escaping is HTTP 500 internal-error
    ├── ConfigurationError               pushfn.errors: the operator's configuration is wrong (no AppKey, bad
    │   │                                  endpoint or store URL) · HTTP 500 misconfigured · queue transient
    │   │                                  (the message is not at fault) · CLI 2
    │   ├── SettingsError                pushfn.settings: an environment variable breaks its rule · as above
    │   ├── ScheduleError                pushfn.serve.schedules: a schedule expression or declaration `pushfn serve`
    │   │                                  cannot use · serve refuses to start, CLI 2
    │   ├── LocalAuthError               pushfn.serve.local_auth: the kept local secrets cannot be read or are weak
    │   │                                  · serve refuses to start, CLI 2
    │   └── IdempotencyConfigError       pushfn.idempotency.exceptions (+ IdempotencyError, ValueError): bad store
    │                                      URL or guard setting · HTTP 500 misconfigured · queue transient · CLI store 2
    ├── JsonInputError                   pushfn.json_input (+ ValueError): a JSON document breaks a decoding rule
    │                                      (depth, duplicate key, NaN…) · HTTP 400 malformed-json / invalid-request
    │                                      · queue permanent (invalid_spec) · CLI 2
    ├── RuleError                        pushfn.push.models.rules (+ ValueError): one value breaks a field rule
    │                                      · never escapes: the models turn it into InvalidRequestError problems
    ├── DurationSyntaxError              pushfn.specs.relative_time (+ ValueError): "+5m"/"24h" unreadable or out of
    │                                      range · never escapes: push_spec turns it into InvalidRequestError
    │                                      (rule relative_time) → HTTP 400 · queue permanent
    ├── PushError                        pushfn.push.errors: base of the push client's errors (retryable, maybe_sent)
    │   ├── InvalidRequestError          (+ ValueError) a request breaks a documented rule; nothing was sent
    │   │   │                              · HTTP 400 invalid-request · queue permanent (invalid_spec) · CLI 2
    │   │   └── InvalidTickError         pushfn.triggers.timer: an unusable timer tick · scheduled_push logs it,
    │   │                                  never retried (permanent)
    │   ├── CredentialsError             no usable credentials / role source failed · HTTP 500 misconfigured
    │   │                                  · queue transient · CLI 2
    │   ├── ServiceError                 CloudPush answered an error body · HTTP 400 service-rejected when the
    │   │   │                              caller's data is at fault (Invalid*/Missing*), else 502 service-refused
    │   │   │                              · queue permanent unless retryable · CLI 3
    │   │   ├── ThrottledError           Throttling.* or x-acs-retry-after · HTTP 503 throttled · queue transient
    │   │   │                              · CLI 3
    │   │   ├── ServerError              5xx / InternalError (maybe sent) · HTTP 502 service-refused · queue transient
    │   │   │                              · CLI 3
    │   │   └── AuthError                signature, timestamp, nonce or key refused · HTTP 502 service-refused
    │   │                                  · queue transient (a config slip, not the message) · CLI 3
    │   └── TransportError               the HTTP exchange failed · HTTP 502 service-unreachable · queue transient
    │       │                              · CLI 4
    │       ├── ConnectError             never connected: certainly not sent · as TransportError
    │       └── AmbiguousResponseError   sent, no answer (maybe sent) · HTTP 504 outcome-unknown · queue transient
    │                                      · CLI 4 naming the --idempotent-token that makes a retry safe
    ├── IdempotencyError                 pushfn.idempotency.exceptions: base of the guard's errors · HTTP 503
    │   │                                  idempotency-store-unavailable · queue transient · CLI store 3
    │   ├── IdempotencyKeyError          (+ ValueError) empty/too long/unprintable key or scope · HTTP 400
    │   │                                  · queue permanent (invalid_key) · CLI store 2
    │   ├── IdempotencyConfigError       (drawn under ConfigurationError above)
    │   ├── IdempotencyInProgressError   the same key is running elsewhere · HTTP 409 request-in-progress
    │   │                                  · queue transient (in_progress)
    │   ├── IdempotencyPayloadMismatchError  the key was used with another payload · HTTP 422
    │   │                                  idempotency-key-reused · queue permanent (payload_mismatch)
    │   ├── IdempotencyStoreError        the store failed or is unreachable · HTTP 503 · queue transient
    │   │   │                              · CLI store 3, or 4 when unreachable
    │   │   └── IdempotencyCorruptRecordError  a stored row pushfn did not write · as IdempotencyStoreError
    │   ├── IdempotencyRecordExistsError internal to the guard (a lost conditional put); never leaves it
    │   └── IdempotencyInconsistentStateError  the record changed under the guard twice · as IdempotencyStoreError
    ├── JobError                         pushfn.jobs.errors: base of the job processors' errors
    │   ├── DeadLetterError              a permanent failure could not be parked · the message is handed back
    │   │                                  (transient dead_letter_unavailable) rather than lost
    │   ├── FanoutError                  pushfn.jobs.fanout: a chunk job could not be queued · the file stops,
    │   │                                  partial, retried when transient
    │   └── RateWaitTooLongError         pushfn.jobs.throttle: the rate limiter's wait would outlast the run's
    │                                      stop time · the file stops between chunks, partial, retried
    ├── HttpProblem                      pushfn.http.problems: an HTTP error answer itself (status, problem type)
    │   │                                  · HTTP its own status as application/problem+json
    │   └── UninterpretableRequest       a step interpreting the caller's data broke (its cause is logged)
    │                                      · HTTP 400 invalid-request
    ├── RetryLaterError                  pushfn.triggers: raised *to* the platform (MNS, timer) so it redelivers
    │                                      · transient by design
    ├── ServeRequestError                pushfn.serve.http_server: a refused `pushfn serve` control request
    │                                      (/_serve/…) · its status with {"error": …}
    ├── UnsupportedEventError            pushfn.triggers.http: an event that is no HTTP trigger shape
    │   │                                  · HTTP 400 malformed-event
    │   └── MalformedEventError          (+ ValueError) an HTTP trigger event that cannot be read (field, rule)
    │                                      · HTTP 400 malformed-event
    ├── QueueEventError                  pushfn.triggers.queue (+ ValueError): an event of no known queue shape
    │                                      · reported as one unreadable message: permanent, dead-lettered
    ├── ObjectEventError                 pushfn.triggers.objects (+ ValueError): an event that is no OSS or S3
    │   │                                  object event · file_push logs it; never retried
    │   └── ObjectRecordError            one unusable record; never leaves the adapter (the record is skipped)
    ├── TargetFileError                  pushfn.targets.errors (+ ValueError): a file of targets cannot be read as a
    │   │                                  whole: corrupt gzip, CSV header without a target column, runaway CSV
    │   │                                  quoting (rule, line) · the file's report says rejected; never retried
    │   └── UnsupportedFormatError       the object name is no .txt/.csv/.jsonl (optionally .gz) · as TargetFileError,
    │                                      refused before a byte is read
    ├── ObjectStoreError                 pushfn.targets.errors: reading or writing an object failed (reason,
    │   │                                  transient) · file_push: retried only when transient
    │   └── ObjectNameError              (+ ValueError) an object name the local reader refuses (.., absolute,
    │                                      NUL) · permanent
    ├── LocalInputError                  pushfn.local.errors (+ ValueError): input ``pushfn invoke``/``event`` cannot
    │                                      use (field, rule): an unreadable event file, a bad option · CLI 2
    ├── PackagingError                   pushfn.packaging: ``pushfn package`` could not build a zip (no functions/,
    │                                      pip refused a dependency, a source-only one needs a C compiler) · CLI 2
    └── EmulatorError                    pushfn.emulator.errors: the emulator (a dev tool) refuses control-API input
        │                                  or misuse · control API 400 {"error"} · CLI ``pushfn emulator devices`` 3
        ├── ApiError                     a CloudPush error answer the emulator sends (Code, Message, HTTP status);
        │                                  reaches a client as a ServiceError subclass, never as itself
        └── ControlError                 a control-API request refused with its own status (bad page
                                           arguments 400, body too large 413) · JSON {"error"}

``FieldProblem`` is not an exception: it is one ``(field, rule, message)`` carried by
InvalidRequestError, HttpProblem and the queue's failure reports.
"""

from __future__ import annotations


class PushfnError(Exception):
    """Base class of every error pushfn raises on purpose (the tree is in this module's docstring)."""


class ConfigurationError(PushfnError):
    """The operator's configuration is wrong (a bad setting, no AppKey, a malformed endpoint or store URL).

    Not the caller's mistake and not transient: the HTTP function answers the ``misconfigured``
    problem, queue functions retry (the message is not at fault), the CLI exits 2.
    """


class FieldProblem:
    """One broken rule of an input: ``field`` names where (an API parameter such as ``iOSBadge`` or
    ``PushTask.3.Title``, or a JSON path such as ``aliases.0``), ``rule`` is a stable machine id
    (``required``, ``max_bytes``, ``unknown_field``…), ``message`` says it for a person.

    Every input path reports its mistakes as these: HTTP ``errors[]``, the queue's dead letters, the CLI.
    Immutable, compared and hashed by its three fields (a plain class: this module is on every cold-start
    path, and ``dataclasses`` pulls in ``inspect``).
    """

    __slots__ = ("field", "message", "rule")
    __match_args__ = ("field", "rule", "message")
    field: str
    rule: str
    message: str

    def __init__(self, field: str, rule: str, message: str) -> None:
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "message", message)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FieldProblem is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldProblem):
            return NotImplemented
        return (self.field, self.rule, self.message) == (other.field, other.rule, other.message)

    def __hash__(self) -> int:
        return hash((self.field, self.rule, self.message))

    def __repr__(self) -> str:
        return f"FieldProblem(field={self.field!r}, rule={self.rule!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """``{"field", "rule", "message"}``, the shape of one HTTP ``errors[]`` entry."""
        return {"field": self.field, "rule": self.rule, "message": self.message}


__all__ = ["ConfigurationError", "FieldProblem", "PushfnError"]
