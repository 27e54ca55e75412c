"""Packages built once per session (pip is the slow part): wheels are kept in pytest's cache folder,
so a second run of the suite installs offline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pushfn.packaging import Build

ROOT = Path(__file__).resolve().parents[2]
#: This machine's CPython, the one a clean virtual environment can run.
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
#: A target that is not this machine's, to show the wheels are the target's.
CROSS_PYTHON = "3.12" if LOCAL_PYTHON != "3.12" else "3.13"


@pytest.fixture(scope="session")
def wheel_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    return Path(cache.mkdir("pushfn-wheels")) if cache is not None else tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="session")
def fc_local(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> tuple[Build, dict[str, Path]]:
    """The four Function Compute zips for this machine's Python (self-contained: FC provides no SDK)."""
    build = Build(
        platform="fc", python=LOCAL_PYTHON, out=tmp_path_factory.mktemp("fc"), root=ROOT, cache_dir=wheel_cache
    )
    return build, {path.stem: path for path in build.build()}


@pytest.fixture(scope="session")
def aws_cross(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> tuple[Build, dict[str, Path]]:
    """The four Lambda zips for another CPython than this machine's, x86_64."""
    out = tmp_path_factory.mktemp("aws")
    build = Build(platform="aws", python=CROSS_PYTHON, out=out, root=ROOT, cache_dir=wheel_cache)
    return build, {path.stem: path for path in build.build()}


@pytest.fixture(scope="session")
def aws_local(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> tuple[Build, dict[str, Path]]:
    """The Lambda HTTP function's zip for this machine's Python (boto3 is the runtime's, so not in it)."""
    out = tmp_path_factory.mktemp("aws-local")
    build = Build(platform="aws", python=LOCAL_PYTHON, out=out, root=ROOT, cache_dir=wheel_cache)
    return build, {path.stem: path for path in build.build(["http_push"])}
