"""Docstrings where a user reads: every public module, class, function and method of the package has one.

A method that overrides a documented one (a store's ``get``, a sink's ``write``) inherits its base's
docstring, as ``help()`` shows it; a class needs its own (a dataclass's generated signature is not one).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

import pytest

import pushfn


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(pushfn.__path__, "pushfn."))


def _own_doc(cls: type) -> str | None:
    doc = vars(cls).get("__doc__")
    generated = f"{cls.__name__}("  # dataclasses write their signature when a class has no docstring
    return None if not doc or doc.startswith(generated) else doc


def _function_of(value: object) -> object:
    """The function behind a class attribute: a property's getter, a cached property's function, a
    static or class method's function, else the value itself."""
    if isinstance(value, property):
        return value.fget
    if isinstance(value, functools.cached_property):
        return value.func
    return getattr(value, "__func__", value)


def _undocumented(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing = [] if (module.__doc__ or "").strip() else ["(module)"]
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj) and not inspect.getdoc(obj):
            missing.append(name)
        elif inspect.isclass(obj):
            if not _own_doc(obj):
                missing.append(name)
            for attribute, value in vars(obj).items():
                if attribute.startswith("_"):
                    continue
                function = _function_of(value)
                if inspect.isfunction(function) and not (function.__doc__ or inspect.getdoc(getattr(obj, attribute))):
                    missing.append(f"{name}.{attribute}")
    return missing


@pytest.mark.parametrize("module_name", _modules())
def test_every_public_definition_has_a_docstring(module_name: str) -> None:
    assert _undocumented(module_name) == []


def test_the_check_sees_every_kind_of_method() -> None:
    import types

    class Sample:
        """Documented."""

        @property
        def shown(self) -> int:
            return 1

        @functools.cached_property
        def cached(self) -> int:
            return 1

        @staticmethod
        def static() -> None:
            pass

        @classmethod
        def factory(cls) -> None:
            pass

        def method(self) -> None:
            pass

    module = types.ModuleType("pushfn_docstring_sample", "A sample module.")
    Sample.__module__ = module.__name__
    module.Sample = Sample  # type: ignore[attr-defined]
    import sys

    sys.modules[module.__name__] = module
    try:
        missing = _undocumented(module.__name__)
    finally:
        del sys.modules[module.__name__]
    assert sorted(missing) == ["Sample.cached", "Sample.factory", "Sample.method", "Sample.shown", "Sample.static"]
