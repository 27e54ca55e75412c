"""The repository stands alone and holds no build output (issue 14 items 1 and 2).

- Nothing the product ships (code, docstrings, comments, README, templates) points at a document outside
  the repository: a fact is stated where it is used, with its public source (a URL).
- The tests read only files inside the repository (sample events come from ``tests/fixtures/events``).
- What ``pip install .``, ``python -m build``, ``sam build`` and ``pushfn package`` write is ignored by git
  and never tracked, so a fresh checkout stays clean after the Quickstart; the package data
  ``pyproject.toml`` lists exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Where the product's text lives (tests are checked separately: they may name these patterns).
PRODUCT = ("shared", "functions", "bench", "README.md", "pyproject.toml", "s.yaml", "template.yaml", ".ci")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".txt", ".ini", ".cfg", ".html", ".js", ".css"}

#: Pointers at documents that only the team's machines have: the design notes, the reference folder
#: (``reference §3``, ``triggers.md §2.1``, ``reference ``limits.md``` …), machine paths, a sibling checkout.
OUTSIDE = re.compile(
    r"DESIGN\.md"
    r"|\breference\b[^\n]{0,12}§"
    r"|\b(?:api|limits|events|templates|triggers|fc3[_-]?schema|fc3)\.md\b"
    r"|/work/"
    r"|\.\./shared\b"
    r"|shared/reference\b",
    re.IGNORECASE,
)


def _files(*roots: str) -> list[Path]:
    found = []
    for root in roots:
        path = REPO / root
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for candidate in candidates:
            parts = set(candidate.relative_to(REPO).parts)
            text = candidate.suffix in TEXT_SUFFIXES or candidate.parent.name == ".ci"  # .ci/run: a script
            if candidate.is_file() and text and not parts & _GENERATED:
                found.append(candidate)
    return found


_GENERATED = {"__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist", ".aws-sam", "pushfn.egg-info"}


def _pointers(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [
        f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]


def test_the_pattern_catches_every_spelling_of_an_outside_pointer() -> None:
    caught = [
        "see DESIGN.md §4",
        "(reference §3)",
        "reference ``triggers.md`` §1.4",
        "(reference triggers.md §2.1; kept a little under)",
        "limits.md says 1,000",
        # Spelled in pieces, so this file holds no such pointer itself (a scan for them finds none here).
        "/work/" + "shared" + "/reference/events/fc_timer.json",
        "Path('../" + "shared" + "/reference')",
    ]
    kept = [
        "RFC 8259 §6",
        "RFC 9112 §9.3.1",
        'a template reference ``{"template": NAME}``',
        "tests/fixtures/events/README.md",
        "the STS API reference (https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts)",
    ]
    assert [line for line in caught if not OUTSIDE.search(line)] == []
    assert [line for line in kept if OUTSIDE.search(line)] == []


def test_nothing_the_product_ships_points_outside_the_repository() -> None:
    files = _files(*PRODUCT)
    assert len(files) > 100 and REPO / "shared" / "pushfn" / "jobs" / "fanout.py" in files
    assert REPO / ".ci" / "run" in files and REPO / "README.md" in files
    assert [hit for path in files for hit in _pointers(path)] == []


def test_the_tests_read_nothing_outside_the_repository() -> None:
    here = Path(__file__).resolve()
    files = [path for path in _files("tests") if path != here]
    assert REPO / "tests" / "conftest.py" in files
    assert [hit for path in files for hit in _pointers(path)] == []


def test_every_sample_event_has_its_public_source_in_the_fixtures_readme() -> None:
    folder = REPO / "tests" / "fixtures" / "events"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    samples = sorted(p.name for p in folder.iterdir() if p.name != "README.md")
    assert len(samples) >= 20
    rows = {name: line for name in samples for line in readme.splitlines() if line.startswith(f"| `{name}` |")}
    assert sorted(rows) == samples, "every sample needs its own row in tests/fixtures/events/README.md"
    unsourced = [name for name, row in rows.items() if not re.search(r"https://|\brepo\b|powertools|SAM CLI", row)]
    assert unsourced == []


def test_every_sample_event_is_read_by_a_test() -> None:
    folder = REPO / "tests" / "fixtures" / "events"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("*.py"))
    unused = sorted(p.name for p in folder.iterdir() if p.name != "README.md" and p.name not in sources)
    assert unused == [], "a sample no test reads is noise: use it or remove it (and its README row)"


# --- item 2: no build output in git -------------------------------------------------------------------

#: A file each build step writes (pip/setuptools, python -m build, SAM, pushfn package) or a local run
#: leaves in the working folder (pushfn serve's bucket).
BUILD_OUTPUT = [
    "shared/pushfn.egg-info/PKG-INFO",
    "shared/pushfn.egg-info/SOURCES.txt",
    "pushfn.egg-info/PKG-INFO",
    "build/lib/pushfn/__init__.py",
    "dist/pushfn-0.1.0-py3-none-any.whl",
    "dist/aws/http_push.zip",  # pushfn package's default --out
    "pushfn-bucket/targets.csv",  # pushfn serve's default --bucket-dir
    ".aws-sam/build/HttpPushFunction/index.py",
    ".aws-sam/build.toml",
    "shared/pushfn/__pycache__/cli.cpython-312.pyc",
]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)


def _in_a_git_checkout() -> bool:
    return shutil.which("git") is not None and _git("rev-parse", "--is-inside-work-tree").stdout.strip() == "true"


def test_build_output_is_ignored_and_never_tracked() -> None:
    ignore = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    for pattern in ("*.egg-info/", "build/", "dist/", ".aws-sam/", "__pycache__/"):
        assert pattern in ignore, f".gitignore lacks {pattern}"
    if not _in_a_git_checkout():  # an unpacked archive: the patterns above are all there is to check
        return
    assert _git("check-ignore", "--no-index", "-q", "README.md").returncode == 1  # the check itself works
    not_ignored = [path for path in BUILD_OUTPUT if _git("check-ignore", "--no-index", "-q", path).returncode != 0]
    assert not_ignored == []
    tracked = _git("ls-files").stdout.splitlines()
    assert "pyproject.toml" in tracked
    built = [p for p in tracked if re.search(r"(^|/)(\S+\.egg-info|build|dist|\.aws-sam|__pycache__)/|\.pyc$", p)]
    assert built == []


def test_every_package_data_pattern_names_files_that_exist() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = project["tool"]["setuptools"]["package-data"]
    where = project["tool"]["setuptools"]["packages"]["find"]["where"]
    assert package_data
    empty = [
        f"{package}: {pattern}"
        for package, patterns in package_data.items()
        for pattern in patterns
        if not any(path.is_file() for folder in where for path in (REPO / folder / package).glob(pattern))
    ]
    assert empty == []
