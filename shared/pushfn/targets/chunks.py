"""Chunking: valid, de-duplicated targets grouped to the API's limits, in a deterministic order.

- **Same content for every row** (the content has no placeholders): ``Push`` calls of at most
  :data:`PUSH_TARGETS` targets of one type (``Target`` = ``DEVICE``/``ACCOUNT``/``ALIAS``,
  ``TargetValue`` comma-joined). A JSON-lines file mixing types fills one chunk per type.
- **Personalised rows** (the content is a template with placeholders): ``MassPush`` calls of at most
  :data:`MASS_PUSH_TASKS` tasks, each task the template rendered with the row's variables by
  :func:`pushfn.specs.templates.render_template` (the HTTP function's safe rendering), its target set
  by override. A row that does not render (a missing, unknown or non-scalar variable), or whose task
  ``check_task`` refuses (the file function's :func:`~pushfn.jobs.files.task_problems`: a value breaking a
  field rule), is a line problem (rule ``template.<rule>``); so is a row with variables when the content
  has no placeholders.

A target seen earlier in the file (same type, same value, after trimming) is counted as a duplicate and
sent once, with the first valid row's variables. Chunks are numbered from 0 in the order they fill, and
leftovers are flushed at the end in the order DEVICE, ACCOUNT, ALIAS: reading the same file again gives
the same chunks with the same indices, which is what lets a restarted run skip the chunks it sent
(:func:`chunk_key`).

Memory: one open chunk per target type, plus the set of targets seen (needed to drop duplicates
across the whole file). Measured with ``bench/bench_targets.py`` on 1,000,000 random device ids, a set of
the id strings peaked at 158.5 MB RSS (over the issue's 150 MB budget; ~120 bytes per id); lowercase-hex
device ids (what CloudPush issues) are therefore remembered as their exact 128-bit number (~80 bytes per
id with the set's slot), any other target as its text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pushfn.errors import FieldProblem
from pushfn.idempotency.keys import MAX_KEY_LENGTH, fit_key
from pushfn.push.errors import InvalidRequestError
from pushfn.specs.envelope import MAX_JOB_KEY_CHARS
from pushfn.specs.templates import Template, compile_template, render_template
from pushfn.targets.errors import TargetFileError
from pushfn.targets.formats import TargetRows
from pushfn.targets.report import ChunkPlan, LineProblem, Report
from pushfn.targets.rules import TARGET_TYPES

#: Most targets of one ``Push`` call (``TargetValue`` of DEVICE, ACCOUNT or ALIAS).
PUSH_TARGETS = 1000
#: Most tasks of one ``MassPush`` call.
MASS_PUSH_TASKS = 100
#: Name under which a plain push spec (no template) is compiled for rendering.
CONTENT_NAME = "file"

#: An optional check of one rendered MassPush task: the problems that would make CloudPush refuse it.
TaskCheck = Callable[[Mapping[str, Any]], Sequence[FieldProblem]]


@dataclass(slots=True)
class Chunk:
    """One call to make: ``index`` (0-based, deterministic), ``action`` (``Push`` or ``MassPush``),
    ``target_type`` (every chunk holds one type, MassPush too), ``targets`` (the values, in file
    order), ``params`` (the request's parameters without AppKey and IdempotentToken: Push parameters
    with ``Target``/``TargetValue``, or ``{"PushTask": [...]}``), and the physical lines of its first
    and last target."""

    index: int
    action: str
    target_type: str
    targets: list[str]
    params: dict[str, Any]
    first_line: int
    last_line: int

    @property
    def count(self) -> int:
        """Number of targets (one per task for MassPush)."""
        return len(self.targets)

    @property
    def key_part(self) -> str:
        """``chunk-0007``: the chunk's part of its idempotency key and of log lines."""
        return chunk_part(self.index)

    def plan(self) -> ChunkPlan:
        """What the report lists about this chunk."""
        return ChunkPlan(
            self.index, self.key_part, self.action, self.target_type, self.count, self.first_line, self.last_line
        )


def chunk_part(index: int) -> str:
    """``chunk-0007`` for index 7 (at least four digits, so keys sort in order up to 9,999 chunks)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"a chunk index is an integer >= 0, not {index!r}")
    return f"chunk-{index:04d}"


def chunk_key(bucket: str, object_key: str, version: str, index: int) -> str:
    """The idempotency key of chunk ``index`` of one version (ETag or version id) of ``bucket/object_key``.

    ``file:<bucket>/<key>@<version>#chunk-0007``, percent-encoded to visible ASCII, so it is valid both
    for the idempotency guard (:func:`pushfn.idempotency.keys.validate_key`) and as the ``key`` of a
    ``chunk`` queue envelope (at most :data:`~pushfn.specs.envelope.MAX_JOB_KEY_CHARS`, no spaces). A
    source too long for that becomes ``sha256:<hex>`` through :func:`~pushfn.idempotency.keys.fit_key`,
    the chunk part still readable after it. The same inputs always give the same key; a new version of
    the object gives new keys.
    """
    part = chunk_part(index)
    source = quote(f"file:{bucket}/{object_key}@{version}", safe="/@:", errors="surrogatepass")
    room = min(MAX_KEY_LENGTH, MAX_JOB_KEY_CHARS) - len(part) - 1
    return f"{fit_key(source, reserve=MAX_KEY_LENGTH - room)}#{part}"


def campaign_key(bucket: str, object_key: str, version: str) -> str:
    """The idempotency key of the continuous-mode campaign (its ``Push`` with ``Target=TBD``) of one
    version of ``bucket/object_key``: :func:`chunk_key`'s source with ``#campaign`` instead of a chunk part."""
    part = "campaign"
    source = quote(f"file:{bucket}/{object_key}@{version}", safe="/@:", errors="surrogatepass")
    room = min(MAX_KEY_LENGTH, MAX_JOB_KEY_CHARS) - len(part) - 1
    return f"{fit_key(source, reserve=MAX_KEY_LENGTH - room)}#{part}"


def content_template(content: Template | Mapping[str, Any]) -> Template:
    """The content as a :class:`Template`: a plain push spec (without targets) compiles to one without
    placeholders. Raises :class:`~pushfn.errors.ConfigurationError` for content that is not one."""
    if isinstance(content, Template):
        return content
    return compile_template(CONTENT_NAME, content)


def plan_chunks(
    rows: TargetRows | Iterable[Any],
    content: Template | Mapping[str, Any],
    report: Report,
    *,
    push_targets: int = PUSH_TARGETS,
    mass_push_tasks: int = MASS_PUSH_TASKS,
    check_task: TaskCheck | None = None,
) -> Iterator[Chunk]:
    """Chunks of ``rows`` (a :class:`TargetRows`, or any iterable of its rows and problems) with ``content``.

    Fills ``report`` as it goes: lines read, valid/invalid/duplicate targets, each chunk planned
    (before the chunk is yielded), planning time. A file that turns unreadable part-way
    (:class:`TargetFileError`) ends the chunks: the targets read before it are still flushed as chunks
    (so every valid target is in exactly one chunk), and ``report.rejected`` says where and why. The
    sizes are parameters for tests only; the API's limits are the defaults.
    """
    if not 1 <= push_targets <= PUSH_TARGETS or not 1 <= mass_push_tasks <= MASS_PUSH_TASKS:
        raise ValueError(f"chunk sizes are 1..{PUSH_TARGETS} targets per Push, 1..{MASS_PUSH_TASKS} tasks per MassPush")
    template = content_template(content)
    planner = _Planner(template, report, push_targets, mass_push_tasks, check_task)
    resumed = time.perf_counter()
    spent = 0.0
    try:
        for chunk in planner.run(rows):
            report.add_planned(chunk.plan())
            spent += time.perf_counter() - resumed
            yield chunk
            resumed = time.perf_counter()
    finally:
        report.lines_read = getattr(rows, "lines_read", report.lines_read)
        report.plan_seconds = spent + time.perf_counter() - resumed


class _Planner:
    def __init__(
        self, template: Template, report: Report, push_targets: int, mass_push_tasks: int, check: TaskCheck | None
    ) -> None:
        self.template = template
        self.templates = {template.name: template}
        self.report = report
        self.personalised = bool(template.slots)
        self.size = mass_push_tasks if self.personalised else push_targets
        self.check = check
        self.index = 0
        # Per target type: values seen, and the open chunk (values, tasks, first and last line).
        self.seen: dict[str, set[Any]] = {target_type: set() for target_type in TARGET_TYPES}
        self.open: dict[str, list[Any]] = {}

    def run(self, rows: Iterable[Any]) -> Iterator[Chunk]:
        report = self.report
        seen = self.seen
        size = self.size
        personalised = self.personalised
        # The one-content path is the hot loop (a million device ids): locals only, no call per row.
        opened: dict[str, list[str]] = {t: [] for t in TARGET_TYPES}
        lines: dict[str, list[int]] = {t: [0, 0] for t in TARGET_TYPES}
        valid = 0
        try:
            for row in rows:
                if row.__class__ is not tuple:
                    report.add_invalid(row)
                    continue
                line, target_type, value, variables = row
                if personalised:
                    task = self._render(line, target_type, value, variables)
                    if task is None:
                        continue
                elif variables:
                    names = ", ".join(sorted(variables))[:200]
                    report.add_invalid(
                        LineProblem(
                            line, "template.unknown", f"the push content has no placeholders for the variables {names}"
                        )
                    )
                    continue
                # A lowercase-hex device id is remembered as its 128-bit number: exact (ids are exactly
                # 32 characters, so no two share a number; "0x…" is excluded, as int() would read it as
                # a prefix), and 48 bytes instead of an 81-byte string. Any other target stays text.
                seen_as: Any = value
                if target_type == "DEVICE" and value[1] != "x" and (value.islower() or value.isdigit()):
                    try:  # noqa: SIM105 - a with-block per line costs more than the try
                        seen_as = int(value, 16)
                    except ValueError:
                        pass  # letters beyond f: kept as text (int and str keys never compare equal)
                known = seen[target_type]
                if seen_as in known:
                    report.add_duplicate(line)
                    continue
                known.add(seen_as)
                valid += 1
                values = opened[target_type]
                if not values:
                    lines[target_type][0] = line
                values.append(task if personalised else value)
                lines[target_type][1] = line
                if len(values) == size:
                    yield self._chunk(target_type, values, lines[target_type])
                    opened[target_type] = []
        except TargetFileError as exc:
            if exc.line is None:
                exc = TargetFileError(exc.rule, exc.detail, getattr(rows, "lines_read", 0) + 1)
            report.rejected = exc.to_dict()
        finally:
            report.valid += valid
        for target_type in TARGET_TYPES:  # leftovers, in a fixed order
            if opened[target_type]:
                yield self._chunk(target_type, opened[target_type], lines[target_type])

    def _render(self, line: int, target_type: str, value: str, variables: Mapping[str, Any] | None) -> Any:
        try:
            task = render_template(
                self.templates,
                self.template.name,
                variables or {},
                overrides={"Target": target_type, "TargetValue": value},
            )
        except InvalidRequestError as exc:
            self._problem(line, exc.problems)
            return None
        if self.check is not None:
            problems = list(self.check(task))
            if problems:
                self._problem(line, problems)
                return None
        return task

    def _problem(self, line: int, problems: Sequence[FieldProblem]) -> None:
        message = "; ".join(str(problem) for problem in problems)[:500]
        rule = f"template.{problems[0].rule}" if problems else "template"
        self.report.add_invalid(LineProblem(line, rule, message))

    def _chunk(self, target_type: str, items: list[Any], lines: list[int]) -> Chunk:
        index = self.index
        self.index += 1
        if self.personalised:
            targets = [task["TargetValue"] for task in items]
            return Chunk(index, "MassPush", target_type, targets, {"PushTask": items}, lines[0], lines[1])
        params = render_template(
            self.templates, self.template.name, {}, overrides={"Target": target_type, "TargetValue": ",".join(items)}
        )
        return Chunk(index, "Push", target_type, items, params, lines[0], lines[1])


__all__ = [
    "CONTENT_NAME",
    "MASS_PUSH_TASKS",
    "PUSH_TARGETS",
    "Chunk",
    "campaign_key",
    "chunk_key",
    "chunk_part",
    "content_template",
    "plan_chunks",
]
