"""One translator from validation errors to field problems, one "did you mean" helper, one place for
what serves every package — checked on every input path that validates: the push models, the HTTP
bodies and the queue envelope."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pushfn
import pushfn.errors
import pushfn.http.parsing
import pushfn.problems
import pushfn.push.errors
from pushfn.errors import ConfigurationError, FieldProblem, PushfnError
from pushfn.http import schemas
from pushfn.http.problems import HttpProblem
from pushfn.problems import HINT_CUTOFF, PROBLEMS_ERROR, did_you_mean, problems_from_validation
from pushfn.push.errors import InvalidRequestError
from pushfn.push.models import parse_request
from pushfn.specs.envelope import job_from_data
from pushfn.specs.relative_time import DurationSyntaxError, parse_duration, shift

PUSH = {
    "AppKey": 23267207,
    "Target": "ALL",
    "TargetValue": "ALL",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "t",
    "Body": "b",
}
_PACKAGE_DIR = Path(pushfn.__file__).parent


# --- the three input paths, each given one unknown name -------------------------------------------


def _models(name: str) -> list[FieldProblem]:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request("Push", {**PUSH, name: 1})
    return caught.value.problems


def _http(name: str) -> list[FieldProblem]:
    with pytest.raises(HttpProblem) as caught:
        pushfn.http.parsing.validate(schemas.AliasesBody, {"aliases": ["a"], name: 1})
    assert caught.value.status == 400
    return caught.value.errors


def _envelope(name: str) -> list[FieldProblem]:
    with pytest.raises(InvalidRequestError) as caught:
        job_from_data({"kind": "push", "version": 1, "push": {}, name: 1})
    return caught.value.problems


PATHS = {"models": _models, "http": _http, "envelope": _envelope}
KNOWN = {
    "models": ["Title", "Body", "iOSBadge", "TargetValue", "DeviceType", "PushType", "Target", "AppKey"],
    "http": ["aliases"],
    "envelope": ["kind", "version", "key", "push"],
}


def _unknown(problems: list[FieldProblem]) -> FieldProblem:
    found = [p for p in problems if p.rule == "unknown_field"]
    assert len(found) == 1, problems
    return found[0]


@pytest.mark.parametrize(
    ("path", "name", "hint"),
    [
        # case and underscores folded away: always the exact name
        ("models", "IOSBadge", "iOSBadge"),
        ("models", "target_VALUE", "TargetValue"),
        ("http", "Aliases", "aliases"),
        ("envelope", "KEY", "key"),
        # a letter or two off: hinted on every path alike
        ("models", "Tilte", "Title"),
        ("models", "PushTyp", "PushType"),
        ("http", "alias", "aliases"),
        ("http", "aliass", "aliases"),
        ("envelope", "keys", "key"),
        ("envelope", "versions", "version"),
        # unrelated names: no hint (at the HTTP path's old cutoff 0.6, "Text" drew "Target")
        ("models", "Text", None),
        ("models", "Zzzzzz", None),
        ("http", "names", None),
        ("envelope", "payload", None),
    ],
)
def test_one_hint_for_one_mistake_on_every_path(path: str, name: str, hint: str | None) -> None:
    problem = _unknown(PATHS[path](name))
    assert problem.field == name
    if hint is None:
        assert "did you mean" not in problem.message
    else:
        assert problem.message.endswith(f"; did you mean {hint!r}? (names are case-sensitive)"), problem.message


def test_the_hint_cutoff_is_one_number() -> None:
    assert HINT_CUTOFF == 0.75
    assert did_you_mean("Text", ["Target"]) is None  # ratio 0.6
    assert did_you_mean("Text", ["Target"], cutoff=0.6) == "Target"
    assert did_you_mean("Tilte", ["Title", "Body"]) == "Title"  # ratio 0.8
    assert did_you_mean("ios_badge", ["iOSBadge"]) == "iOSBadge"
    assert did_you_mean("anything", []) is None


_NAME = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00", "\n", "\u202e", "_"])),
    min_size=1,
    max_size=300,
)


@pytest.mark.parametrize("path", sorted(PATHS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAME)
def test_any_unknown_name_is_one_bounded_printable_problem(path: str, name: str) -> None:
    folded = {known.replace("_", "").lower() for known in KNOWN[path]}
    if path == "models":
        # Hypothesis also draws string constants from pushfn's own source, real parameter names among
        # them (``HarmonyRenderStyle``): those are not unknown names.
        from pushfn.push.models import Push

        folded |= {n.replace("_", "").lower() for f, info in Push.model_fields.items() for n in (f, info.alias or f)}
    assume(name.replace("_", "").lower() not in folded and name not in ("app_key", "ios_badge"))
    assume(not any(name.replace("_", "").lower() == n for n in ("targetvalue", "devicetype", "pushtype")))
    if path in ("http", "envelope"):
        # HTTP bodies' and queue messages' names are text: json_input refuses lone surrogates first.
        assume(not any("\ud800" <= ch <= "\udfff" for ch in name))
    problem = _unknown(PATHS[path](name))
    # 64 characters of the name at most (then "…"), each escaped to at most 10 ("\\U0001f600").
    assert problem.field.isprintable() and len(problem.field) <= 64 * 10 + 1, problem.field
    assert problem.message.isprintable() and len(problem.message) <= 1001
    problem.message.encode("utf-8")  # no lone surrogate survives into an answer or a log
    if "did you mean" in problem.message:
        hinted = problem.message.split("did you mean ", 1)[1].split("?", 1)[0]
        assert hinted.strip("'") in KNOWN[path] or path == "models", hinted


# --- the translator's two conventions, fed duck-typed errors (no pydantic needed) -------------------


class _Errors:
    def __init__(self, *errors: dict[str, Any]) -> None:
        self._errors = list(errors)

    def errors(self, *, include_url: bool = True) -> list[dict[str, Any]]:
        return self._errors


class _Problem:
    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field, self.rule, self.message = field, rule, message


def _pairs(problems: list[FieldProblem]) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in problems]


@pytest.mark.parametrize(
    ("error", "api", "json"),
    [
        (
            {"loc": ("PushTask", 2, "Title"), "type": "string_too_long", "msg": "too long"},
            ("PushTask.3.Title", "max_length"),
            ("PushTask.3.Title", "string_too_long"),  # positions count from 1 in both conventions
        ),
        ({"loc": ("Title",), "type": "missing", "msg": "Field required"}, ("Title", "required"), ("Title", "missing")),
        ({"loc": (), "type": "model_type", "msg": "not an object"}, ("(request)", "type"), ("body", "model_type")),
        ({"loc": ("n",), "type": "greater_than_equal", "msg": "ge"}, ("n", "range"), ("n", "greater_than_equal")),
        ({"loc": ("x" * 500,), "type": "extra_forbidden", "msg": ""}, ("x" * 64 + "…", "unknown_field"),
         ("x" * 64 + "…", "unknown_field")),
    ],
)  # fmt: skip
def test_both_conventions_from_one_translator(error: dict[str, Any], api: tuple, json: tuple) -> None:
    assert _pairs(problems_from_validation(_Errors(error), api=True)) == [api]
    assert _pairs(problems_from_validation(_Errors(error))) == [json]


def test_prefix_and_whole_input_naming() -> None:
    whole = _Errors({"loc": (), "type": "dict_type", "msg": "m"})
    assert _pairs(problems_from_validation(whole, prefix="params.")) == [("params", "dict_type")]
    inner = _Errors({"loc": ("a", 0), "type": "int_type", "msg": "m"})
    assert _pairs(problems_from_validation(inner, prefix="params.")) == [("params.a.1", "int_type")]


def test_many_problems_in_one_error_are_each_reported_under_its_location() -> None:
    error = {
        "loc": ("PushTask", 0),
        "type": PROBLEMS_ERROR,
        "msg": "2 rule(s) broken",
        "ctx": {"problems": (_Problem("Title", "required", "is required"), _Problem("Body", "max_bytes", "x\x00"))},
    }
    problems = problems_from_validation(_Errors(error), api=True)
    assert [(p.field, p.rule, p.message) for p in problems] == [
        ("PushTask.1.Title", "required", "is required"),
        ("PushTask.1.Body", "max_bytes", "x\\x00"),
    ]


def test_a_discriminated_union_drops_its_tag_and_member_labels() -> None:
    errors = _Errors(
        {"loc": ("push", "push", "dict[str,any]"), "type": "dict_type", "msg": "m"},
        {"loc": ("chunk", "job", "etag"), "type": "missing", "msg": "m"},
        {"loc": ("push", "keys"), "type": "extra_forbidden", "msg": "m"},
    )

    class _Job:
        model_fields = {"key": type("F", (), {"alias": None, "annotation": str})()}

    problems = problems_from_validation(errors, union={"push": _Job})
    assert _pairs(problems) == [("push", "dict_type"), ("job.etag", "missing"), ("keys", "unknown_field")]
    assert problems[2].message.endswith("did you mean 'key'? (names are case-sensitive)")


def test_values_are_never_echoed() -> None:
    device = "e2ba19de97604f55b165576736477b74"
    with pytest.raises(InvalidRequestError) as caught:
        job_from_data({"kind": "push", "version": 1, "push": {}, "key": f"has space {device}"})
    with pytest.raises(HttpProblem) as http:
        pushfn.http.parsing.validate(schemas.AliasesBody, {"aliases": [f"{device},x"]})
    for problem in [*caught.value.problems, *http.value.errors]:
        assert device not in problem.message


# --- what serves every package lives in pushfn.errors / pushfn.problems ----------------------------


def test_shared_things_have_one_home_and_keep_their_old_import_paths() -> None:
    assert pushfn.push.errors.FieldProblem is FieldProblem
    assert pushfn.push.errors.ConfigurationError is ConfigurationError
    assert FieldProblem.__module__ == "pushfn.errors"
    assert pushfn.http.parsing.problems_from_validation is problems_from_validation
    assert pushfn.http.parsing.unknown_field is pushfn.problems.unknown_field


def test_only_pushfn_problems_translates_validation_errors_or_computes_hints() -> None:
    """No second translator (``.errors(``) or hint helper (``difflib``) can grow back elsewhere."""
    offenders = []
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        if path.name == "problems.py" and path.parent == _PACKAGE_DIR:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "errors" and isinstance(node.ctx, ast.Load):
                parent_calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.func is node and n.keywords]
                if parent_calls:
                    offenders.append(f"{path.name}: .errors(...)")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "difflib" in names:
                    offenders.append(f"{path.name}: difflib")
    assert offenders == []


@pytest.mark.parametrize("text", ["5x", "+", "-5m", "+999999999w", "1h 30", "+" + "1s" * 40])
def test_duration_errors_are_pushfn_errors_and_still_value_errors(text: str) -> None:
    with pytest.raises(PushfnError) as caught:
        parse_duration(text)
    assert isinstance(caught.value, DurationSyntaxError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [5, None, ["5m"]])
def test_a_duration_of_another_type_is_a_pushfn_error(value: Any) -> None:
    with pytest.raises(DurationSyntaxError):
        parse_duration(value)  # type: ignore[arg-type]


def test_a_shift_past_year_9999_is_a_pushfn_error() -> None:
    from datetime import datetime, timedelta, timezone

    with pytest.raises(PushfnError, match="year 9999"):
        shift(datetime(9999, 12, 31, tzinfo=timezone.utc), timedelta(days=2))


def test_the_error_modules_stay_light() -> None:
    """Importing the base module, the translator or relative times loads neither pydantic nor difflib."""
    code = (
        "import sys, pushfn.errors, pushfn.problems, pushfn.specs.relative_time;"
        "print(sorted(m for m in ('pydantic', 'difflib', 'requests') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
