"""One name for one thing: each fact is spelled in one place, and no two modules use one name for two things."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

PACKAGE = Path(__file__).resolve().parents[1] / "shared" / "pushfn"

#: Public names that several modules define on purpose: the API action handlers of the HTTP routes and
#: of the emulator are named after the same CloudPush actions, each platform adapter has a
#: ``platform_reply``, and each command-line entry point a ``main``.
SAME_ROLE_IN_EACH = {
    "list_tags",
    "mass_push",
    "push",
    "query_aliases",
    "query_tags",
    "remove_tag",
    "platform_reply",
    "main",
}


def _modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(PACKAGE)), path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_the_api_time_format_is_spelled_once():
    spelled = [name for name, text in _modules() if "%Y-%m-%dT%H:%M:%SZ" in text]
    assert spelled == ["api_time.py"]


def test_parameter_names_are_folded_in_one_place():
    # iOSBadge / ios_badge / IOSBadge: the "same parameter" rule is problems.fold_name, not a copy of it.
    folding = [name for name, text in _modules() if '.replace("_", "").lower()' in text]
    assert folding == ["problems.py"]


def test_the_key_length_limit_is_stated_once():
    stated = [name for name, text in _modules() if re.search(r"\b255\b", text) and "MAX_KEY_LENGTH =" in text]
    assert stated == ["idempotency/keys.py"]
    restated = [name for name, text in _modules() if re.search(r"len\([^)]*\)\s*[<>]=?\s*2[0-9]{2}\b", text)]
    assert restated == []


def test_no_module_gives_the_key_limit_a_second_name():
    aliased = [name for name, text in _modules() if re.search(r"^\w+\s*=\s*(keys\.)?MAX_KEY_LENGTH\b", text, re.M)]
    assert aliased == []


def test_module_loggers_are_called_logger():
    made = re.compile(r"^(?P<name>_?\w+)\s*=\s*(?:get_logger|LazyLogger|logging\.getLogger)\(", re.M)
    found = {(name, m["name"]) for name, text in _modules() for m in made.finditer(text)}
    assert len(found) > 10 and ("push/transport.py", "logger") in found
    assert {(name, variable) for name, variable in found if variable != "logger"} == set()


def test_no_two_modules_define_one_public_name_for_two_things():
    defined: dict[str, list[str]] = defaultdict(list)
    for name, text in _modules():
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                defined[node.name].append(name)
    twice = {k: v for k, v in defined.items() if len(v) > 1 and k not in SAME_ROLE_IN_EACH}
    assert twice == {}


def test_value_objects_say_to_dict():
    for name, text in _modules():
        assert "def as_dict(" not in text, name


def test_the_utc_z_suffix_is_read_in_one_place():
    """Writing the UTC format is :func:`format_api_time`'s; reading an ISO time with its ``Z`` is
    :func:`parse_iso_time`'s (the push rules and the relative times had a copy each)."""
    reading = [name for name, text in _modules() if '"+00:00"' in text or "'+00:00'" in text]
    assert reading == ["api_time.py"]
    writing = [name for name, text in _modules() if re.search(r"\.isoformat\(\)(?!\.replace)", text)]
    assert writing == ["serve/schedules.py", "serve/server.py"]  # serve's own round trip of a tick's time


_ISO_INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(timezone.utc)
)


@given(
    instant=_ISO_INSTANTS,
    suffix=st.sampled_from(["Z", "z", "+00:00"]),
    blanks=st.sampled_from(["", " ", "\t"]),
    shift=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_every_iso_reader_reads_one_instant_alike(instant: datetime, suffix: str, blanks: str, shift: int) -> None:
    from pushfn.api_time import parse_iso_time
    from pushfn.push.models.rules import parse_utc
    from pushfn.specs.relative_time import parse_instant

    utc_text = instant.replace(tzinfo=None).isoformat() + suffix
    zoned_text = instant.astimezone(timezone(timedelta(minutes=shift))).isoformat()
    for text in (utc_text, zoned_text):
        padded = blanks + text + blanks
        assert parse_iso_time(padded) == instant
        assert parse_instant(padded) == instant
        assert parse_utc(padded) == instant.replace(microsecond=0)


@pytest.mark.parametrize(
    "text",
    ["", "Z", "2024-01-15T08:30:00ZZ", "2024-02-30T00:00:00Z", "2024-01-15T08:30:00Z" + "0" * 50, "yesterday"],
)
def test_every_iso_reader_refuses_one_text_alike(text: str) -> None:
    from pushfn.api_time import parse_iso_time
    from pushfn.push.models.rules import RuleError, parse_utc
    from pushfn.specs.relative_time import parse_instant

    with pytest.raises(ValueError):
        parse_iso_time(text)
    with pytest.raises(ValueError):
        parse_instant(text)
    with pytest.raises(RuleError):
        parse_utc(text)


def test_the_shared_error_vocabulary_is_imported_from_its_home():
    """``ConfigurationError`` and ``FieldProblem`` serve every package and live in :mod:`pushfn.errors`;
    ``pushfn.push.errors`` re-exports them for the client's users only, so no other package reaches for
    them through the push package (issue 14 item 4)."""
    shared = {"ConfigurationError", "FieldProblem"}
    through_push = []
    for name, text in _modules():
        if name.startswith("push/"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module in ("pushfn.push", "pushfn.push.errors"):
                through_push += [f"{name}:{node.lineno} {a.name}" for a in node.names if a.name in shared]
    assert through_push == []
