"""Push specs: what a schedule or a queued message says to send, resolved into validated requests.

A spec is one of:

- one Push request, API names or snake_case (``{"Target": "ACCOUNT", "TargetValue": "u1", ...}``);
- a list of them (at most :data:`MAX_ITEMS`), sent in order;
- a template reference ``{"template": NAME, "params": {...}, <any Push parameter as an override>}``
  (templates come from :mod:`pushfn.specs.templates`); list items may be template references too.

Times may be relative, and are resolved against a *reference* instant chosen by the caller (the
scheduled time of a tick, the send time of a message), never the wall clock, so a late or repeated
run computes the same request:

- ``push_time: "+5m"`` / ``expire_time: "+24h"`` — offsets from the reference;
- ``expire_after: "24h"`` — offset from the push time (the reference when the push is immediate),
  written out as ``ExpireTime``; it cannot be combined with an explicit expire time.

A *relative* push time that has already passed when the push is finally sent (a tick retried long
after its scheduled time) is dropped at send time, so the push goes out at once instead of being
refused as "in the past"; see :meth:`PlannedPush.request_at`. An absolute past push time is the
writer's mistake and stays an error.

Every problem is reported at once as an :class:`~pushfn.push.errors.InvalidRequestError` whose
fields are prefixed with the list position (``[1].Title``) when the spec is a list. An item that
fails to resolve in any other way (an ``OverflowError`` from a date no model can hold, ...) is
reported the same way, with the rule ``unreadable``; only a
:class:`~pushfn.push.errors.ConfigurationError` (templates that cannot be loaded) passes through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pushfn.api_time import as_utc, format_api_time
from pushfn.errors import ConfigurationError, FieldProblem
from pushfn.problems import fold_name
from pushfn.push.errors import InvalidRequestError
from pushfn.specs.relative_time import DurationSyntaxError, is_relative, parse_duration, shift

#: Most pushes one spec may expand to: a schedule is not a bulk sender (the file function is).
MAX_ITEMS = 100

#: Keys of a template reference that are not Push parameters.
_TEMPLATE_KEY = "template"
_PARAMS_KEY = "params"

#: A zero-argument loader of the named templates (e.g. :meth:`pushfn.runtime.Runtime.templates`).
TemplateSource = Callable[[], Mapping[str, Any]]
#: Templates for template references: a mapping of name to template, or a :data:`TemplateSource`.
Templates = Mapping[str, Any] | TemplateSource


@dataclass(frozen=True)
class PlannedPush:
    """One request ready to send: ``index`` is the list position (None for a single spec),
    ``source`` the item as written (hashed by the idempotency guard), ``request`` the accepted request
    (a :class:`~pushfn.push.models.ValidRequest`: the client sends it checking only its time rules)."""

    index: int | None
    source: Any
    action: str
    request: Any  # pushfn.push.models.ValidRequest: validated once, sent without validating again
    relative_push_time: bool = False

    def request_at(self, now: datetime) -> Any:
        """The request to send at ``now``: a relative PushTime already passed becomes "send now"."""
        push_time = self.request.push_time
        if self.relative_push_time and push_time is not None and push_time <= as_utc(now):
            return self.request.without_push_time()
        return self.request


def resolve_push_spec(
    spec: object,
    *,
    reference: datetime,
    app_key: int | None = None,
    templates: Templates | None = None,
) -> list[PlannedPush]:
    """Expand, resolve and validate ``spec``; raise :class:`InvalidRequestError` listing every problem.

    ``templates`` is a mapping or a zero-argument loader (e.g. :meth:`pushfn.runtime.Runtime.templates`),
    called only when the spec refers to one (a broken template file must not block specs that do not
    use it); ``None`` means no templates.
    """
    loader = _template_loader(templates)
    if isinstance(spec, list):
        if not spec:
            raise InvalidRequestError([FieldProblem("spec", "empty", "the list of pushes is empty")], "Push")
        if len(spec) > MAX_ITEMS:
            raise InvalidRequestError(
                [FieldProblem("spec", "too_many", f"{len(spec)} pushes in one spec; at most {MAX_ITEMS}")],
                "Push",
            )
        items: list[tuple[int | None, Any]] = list(enumerate(spec))
    else:
        items = [(None, spec)]

    planned: list[PlannedPush] = []
    problems: list[FieldProblem] = []
    for index, item in items:
        prefix = "" if index is None else f"[{index}]."
        try:
            params_as_written = _expand_item(item, loader)
            params = resolve_times(params_as_written, reference)
            request = build_request("Push", params, app_key=app_key, now=reference)
        except InvalidRequestError as exc:
            problems.extend(_prefixed(exc.problems, prefix))
            continue
        except ConfigurationError:
            raise  # the templates, not this spec: the caller decides (see pushfn.jobs.outcomes)
        except Exception as exc:  # reading a spec: any failure is the spec's fault
            # e.g. an OverflowError from a date the models cannot represent: report it like a rule.
            problems.append(FieldProblem(f"{prefix}spec", "unreadable", f"{type(exc).__name__}: {exc}"[:300]))
            continue
        relative = any(fold_name(k) == "pushtime" and is_relative(v) for k, v in params_as_written.items())
        planned.append(
            PlannedPush(index=index, source=item, action="Push", request=request, relative_push_time=relative)
        )
    if problems:
        raise InvalidRequestError(problems, "Push")
    return planned


def resolve_mass_push(params: object, *, reference: datetime, app_key: int | None = None) -> PlannedPush:
    """A MassPush request (``PushTask`` list of tasks), relative times resolved in every task."""
    if not isinstance(params, Mapping):
        raise InvalidRequestError(
            [FieldProblem("mass_push", "type", "a MassPush spec must be a JSON object")], "MassPush"
        )
    resolved = dict(params)
    for key, tasks in params.items():
        if fold_name(key) in ("pushtask", "pushtasks") and isinstance(tasks, list):
            resolved[key] = [
                resolve_times(task, reference, field_prefix=f"PushTask.{n}.") if isinstance(task, Mapping) else task
                for n, task in enumerate(tasks, start=1)
            ]
    request = build_request("MassPush", resolved, app_key=app_key, now=reference)
    return PlannedPush(index=None, source=params, action="MassPush", request=request)


def build_request(action: str, params: Mapping[str, Any], *, app_key: int | None, now: datetime) -> Any:
    """Validate with :func:`pushfn.push.models.check_request` against the reference time: the fast
    checker, pydantic loaded only to explain a refusal. The client sends the result as it is,
    checking only its time rules again at send time.

    Imported here rather than at module level so parsing a trigger event does not pay for the
    field table until a push is actually planned.
    """
    from pushfn.push.models.fast import check_request

    return check_request(action, dict(params), app_key=app_key, now=now)


def resolve_times(params: Mapping[str, Any], reference: datetime, *, field_prefix: str = "") -> dict[str, Any]:
    """Replace relative ``PushTime``/``ExpireTime`` and ``expire_after`` with absolute UTC times."""
    reference = as_utc(reference)
    out = dict(params)
    problems: list[FieldProblem] = []

    push_at = reference
    push_key = _find(out, "pushtime")
    if push_key is not None and is_relative(out[push_key]):
        try:
            push_at = shift(reference, parse_duration(out[push_key]))
            out[push_key] = format_api_time(push_at)
        except DurationSyntaxError as exc:
            problems.append(FieldProblem(field_prefix + push_key, "relative_time", str(exc)))
    elif push_key is not None and isinstance(out[push_key], str):
        push_at = _absolute_or(out[push_key], reference)

    expire_key = _find(out, "expiretime")
    after_key = _find(out, "expireafter")
    if expire_key is not None and is_relative(out[expire_key]):
        try:
            out[expire_key] = format_api_time(shift(reference, parse_duration(out[expire_key])))
        except DurationSyntaxError as exc:
            problems.append(FieldProblem(field_prefix + expire_key, "relative_time", str(exc)))
    if after_key is not None:
        after = out.pop(after_key)
        if expire_key is not None:
            problems.append(
                FieldProblem(
                    field_prefix + after_key, "exclusive", f"give either {after_key} or {expire_key}, not both"
                )
            )
        elif not isinstance(after, str):
            problems.append(FieldProblem(field_prefix + after_key, "type", "must be a duration string such as '24h'"))
        else:
            try:
                out["ExpireTime"] = format_api_time(shift(push_at, parse_duration(after)))
            except DurationSyntaxError as exc:
                problems.append(FieldProblem(field_prefix + after_key, "relative_time", str(exc)))
    if problems:
        raise InvalidRequestError(problems, "Push")
    return out


# --- internals ---------------------------------------------------------------------------------


def _expand_item(item: object, loader: TemplateSource) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            [FieldProblem("spec", "type", f"a push spec must be a JSON object, not {_json_type(item)}")], "Push"
        )
    if _TEMPLATE_KEY not in item:
        return dict(item)
    from pushfn.specs.templates import render_template

    overrides = {k: v for k, v in item.items() if k not in (_TEMPLATE_KEY, _PARAMS_KEY)}
    # expire_after is ours, not a Push parameter: keep it away from the renderer, re-apply after.
    times = {k: overrides.pop(k) for k in list(overrides) if fold_name(k) == "expireafter"}
    rendered = render_template(loader(), item[_TEMPLATE_KEY], item.get(_PARAMS_KEY), overrides=overrides)
    if times and _find(rendered, "expiretime") is not None and _find(overrides, "expiretime") is None:
        # The caller's expire_after wins over the template's own expire time.
        del rendered[_find(rendered, "expiretime")]  # type: ignore[arg-type]
    rendered.update(times)
    return rendered


def _template_loader(templates: Templates | None) -> TemplateSource:
    if templates is None:
        return dict  # no templates given: a reference names an unknown template
    if isinstance(templates, Mapping):
        return lambda: templates
    return templates


def _absolute_or(text: str, fallback: datetime) -> datetime:
    from pushfn.specs.relative_time import parse_instant

    try:
        return parse_instant(text)
    except ValueError:
        return fallback  # the model reports the malformed time; expire_after just needs a base


def _find(params: Mapping[str, Any], folded: str) -> str | None:
    for key in params:
        if isinstance(key, str) and fold_name(key) == folded:
            return key
    return None


def _prefixed(problems: list[FieldProblem], prefix: str) -> list[FieldProblem]:
    if not prefix:
        return list(problems)
    return [FieldProblem(prefix + p.field, p.rule, p.message) for p in problems]


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), type(value).__name__
    )
