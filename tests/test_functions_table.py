"""One table of the four functions (``pushfn.functions``): packaging, ``pushfn invoke``, ``pushfn serve``
and each handler's own name all derive from it."""

from __future__ import annotations

import importlib

from pushfn.cli import build_parser
from pushfn.functions import FUNCTION_NAMES, HANDLERS
from pushfn.packaging import NEEDS


def _choices(command: str) -> tuple[str, ...]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for action in sub.choices[command]._actions:  # type: ignore[index]
        if action.dest in ("function",) and action.choices:
            return tuple(action.choices)
    raise AssertionError(f"{command} names no function")


def test_every_tool_names_the_same_four_functions() -> None:
    assert FUNCTION_NAMES == ("http_push", "scheduled_push", "queue_push", "file_push")
    assert set(NEEDS) == set(FUNCTION_NAMES)
    assert _choices("invoke") == FUNCTION_NAMES
    assert _choices("package") == FUNCTION_NAMES


def test_each_handler_keys_its_work_under_its_own_name() -> None:
    for name, target in HANDLERS.items():
        module = importlib.import_module(target.partition(":")[0].replace("pushfn.http", "pushfn.http.app"))
        assert name == module.FUNCTION_NAME
