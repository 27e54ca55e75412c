"""Only pushfn/settings.py reads the process environment; every other module receives values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "shared" / "pushfn"
#: The deployed entry points are product too: a handler file must not read the environment either.
FUNCTIONS = REPO / "functions"
#: ``os`` under its platform names (``posix.environ`` is the same mapping).
_OS_MODULES = {"os", "posix", "nt"}
READER = PACKAGE / "settings.py"


def _environment_reads(tree: ast.AST) -> list[str]:
    """``os.environ`` / ``os.getenv`` / ``os.putenv`` / ``os.environb`` in any form, and the names
    imported from ``os`` that are those. A WSGI ``environ`` parameter (a plain name) is not one."""
    found = []
    aliases = set(_OS_MODULES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name in _OS_MODULES and a.asname}
        if isinstance(node, ast.ImportFrom) and node.module in _OS_MODULES:
            found += [f"from os import {a.name}" for a in node.names if a.name in _NAMES]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _NAMES:
            base = node.value
            if isinstance(base, ast.Name) and base.id in aliases:
                found.append(f"line {node.lineno}: {base.id}.{node.attr}")
    return found


_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _modules() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *FUNCTIONS.rglob("*.py")])


def test_the_scan_sees_every_module_and_catches_every_spelling():
    assert READER in _modules() and len(_modules()) > 50
    assert FUNCTIONS / "http_push" / "index.py" in _modules()
    platform = "import posix\nimport nt as n\nfrom posix import environ\nposix.environ['D']\nn.getenv('E')\n"
    assert len(_environment_reads(ast.parse(platform))) == 3
    sample = "import os\nimport os as o\nfrom os import getenv\nos.environ.get('A')\no.getenv('B')\nos.environ['C']\n"
    assert len(_environment_reads(ast.parse(sample))) == 4
    wsgi = "def app(environ, start_response):\n    return environ.get('PATH_INFO')\n"
    assert _environment_reads(ast.parse(wsgi)) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_but_settings_reads_the_environment(path: Path):
    reads = _environment_reads(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    if path == READER:
        assert reads, "settings.py is the reader: the scan must see it"
    else:
        assert reads == [], f"{path.relative_to(REPO)} reads the environment: {reads}; take a Settings value instead"
