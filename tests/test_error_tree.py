"""Every error pushfn defines derives from PushfnError and is drawn, where it belongs, in the tree of
``pushfn.errors``'s docstring — so neither the hierarchy nor its drawing can drift."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pushfn
import pushfn.errors
from pushfn.errors import PushfnError

#: Cloud SDKs pushfn loads lazily; a module that needs one at import (none does today) is read from
#: its source instead, so a clone without them still checks every class it defines.
OPTIONAL_SDKS = {"boto3", "botocore", "tablestore", "alibabacloud_credentials", "oss2"}

_PACKAGE_DIR = Path(pushfn.__file__).parent
_BRANCH = "── "
_DRAWN = re.compile(r"(?P<name>[A-Z]\w+)\s+(?P<text>.*)$")
#: The module a line names: first in its text, after an optional "(+ ValueError)" note.
_MODULE = re.compile(r"^(?:\(.*?\)\s*)?(pushfn(?:\.\w+)*)[:\s(]")


def _modules() -> tuple[list[object], list[str]]:
    """Every module under ``pushfn`` imported, and the names of those that need a missing optional SDK."""
    imported, unavailable = [], []
    for info in pkgutil.walk_packages(pushfn.__path__, "pushfn."):
        try:
            imported.append(importlib.import_module(info.name))
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in OPTIONAL_SDKS:
                raise
            unavailable.append(info.name)
    return imported, unavailable


def _defined_errors() -> dict[str, type[BaseException]]:
    modules, _ = _modules()
    found: dict[str, type[BaseException]] = {}
    for module in modules:
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[obj.__qualname__] = obj
    return found


def _tree() -> dict[str, list[tuple[str | None, str]]]:
    """The docstring's drawing: class name -> [(drawn parent, module)] for every place it is drawn.

    A line draws a class when it starts the block (the root) or holds a branch (``├── Name``); its
    depth is where the branch starts. A line without a module inherits its drawn parent's.
    """
    doc = pushfn.errors.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    drawn: dict[str, list[tuple[str | None, str]]] = {}
    stack: list[tuple[int, str, str]] = []  # (depth, name, module) of the open ancestors
    for number, line in enumerate(block.splitlines()):
        depth = line.find(_BRANCH)
        if depth < 0 and number > 0:
            continue  # a continuation line of the text above
        match = _DRAWN.match(line[depth + len(_BRANCH) :] if depth >= 0 else line.strip())
        assert match is not None, f"unreadable tree line: {line!r}"
        while stack and stack[-1][0] >= depth:
            stack.pop()
        named = _MODULE.match(match["text"])
        module = named[1] if named else stack[-1][2]
        drawn.setdefault(match["name"], []).append((stack[-1][1] if stack else None, module))
        stack.append((depth, match["name"], module))
    return drawn


def test_every_module_imports_and_any_it_cannot_still_has_its_errors_drawn() -> None:
    modules, unavailable = _modules()
    assert len(modules) + len(unavailable) == len(list(pkgutil.walk_packages(pushfn.__path__, "pushfn.")))
    drawn = _tree()
    for name in unavailable:  # read from source: at least their names must be in the tree
        path = _PACKAGE_DIR.joinpath(*name.split(".")[1:]).with_suffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Exception")):
                assert node.name in drawn, f"{name}.{node.name} is not in the tree"


def test_every_error_derives_from_pushfn_error() -> None:
    errors = _defined_errors()
    assert len(errors) >= 30, sorted(errors)
    outside = sorted(name for name, cls in errors.items() if not issubclass(cls, PushfnError))
    assert outside == [], f"not under PushfnError: {outside}"


def test_every_error_is_drawn_in_the_tree_under_its_bases_with_its_module() -> None:
    errors = _defined_errors()
    drawn = _tree()
    missing = sorted(set(errors) - set(drawn))
    assert missing == [], f"add these to the tree in pushfn/errors.py's docstring: {missing}"
    for name, cls in errors.items():
        for parent, module in drawn[name]:
            direct = [base.__name__ for base in cls.__bases__]
            assert parent is None or parent in direct, f"{name} is drawn under {parent}; its bases are {direct}"
            assert module == cls.__module__, f"{name} is drawn in {module}, defined in {cls.__module__}"


def test_the_tree_draws_no_class_that_does_not_exist() -> None:
    gone = sorted(set(_tree()) - set(_defined_errors()))
    assert gone == [], f"remove these from the tree in pushfn/errors.py's docstring: {gone}"


def test_no_error_class_hides_where_imports_cannot_see_it() -> None:
    """Error classes are defined at module level (a class inside a function escapes the checks above)."""
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {node for node in tree.body if isinstance(node, ast.ClassDef)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node not in top_level:
                assert not node.name.endswith(("Error", "Exception")), f"{path}: nested {node.name}"
