"""One name for one thing: each fact is spelled in one place, and no two modules use one name for two things."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

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


def test_the_key_length_limit_is_stated_once():
    stated = [name for name, text in _modules() if re.search(r"\b255\b", text) and "MAX_KEY_LENGTH =" in text]
    assert stated == ["idempotency/keys.py"]
    restated = [name for name, text in _modules() if re.search(r"len\([^)]*\)\s*[<>]=?\s*2[0-9]{2}\b", text)]
    assert restated == []


def test_module_loggers_are_called_logger():
    for name, text in _modules():
        assert not re.search(r"^log\s*=\s*(get_logger|logging\.getLogger)", text, re.M), name


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
