"""``pushfn package`` regressions found by review 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.deploy.conftest import ROOT

from pushfn import cli
from pushfn.packaging import package_source


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_an_out_folder_that_cannot_be_made_is_refused_by_name(tmp_path, monkeypatch, capsys, kind):
    blocker = tmp_path / "dist"
    blocker.write_text("not a folder")
    out = blocker if kind == "a file" else blocker / "aws"
    monkeypatch.chdir(ROOT)
    code = cli.main(["package", "--out", str(out), "--function", "http_push"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("pushfn: package") and str(out) in err and "Traceback" not in err


def test_the_package_is_the_repositorys_source_not_a_stale_install(tmp_path: Path) -> None:
    # After `pip install .` (not -e), editing shared/pushfn and packaging again must ship the edit.
    assert package_source(ROOT) == ROOT / "shared" / "pushfn"
    assert package_source(tmp_path) == Path(__import__("pushfn").__file__).parent
