"""``pushfn package``: what each zip holds, and that each runs from its unzipped folder alone.

The Function Compute zips are built for this machine's Python and run in a fresh virtual
environment with nothing installed (``--without-pip``, no system site packages, ``python -I``):
each handler is imported from the unzipped folder and invoked once against the emulator over real
HTTP, with the real SQLite idempotency store. FC provides no SDK, so these zips must be
self-contained. The Lambda zips rely on the Lambda runtime's boto3, which the clean environment does
not have: the HTTP function's zip runs there on SQLite (its path never imports boto3); all four are
built for another CPython and checked for contents, to show the wheels are the target's.
"""

from __future__ import annotations

import json
import re
import subprocess
import venv
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.deploy.conftest import CROSS_PYTHON, LOCAL_PYTHON, ROOT

from pushfn import cli
from pushfn.functions import FUNCTION_NAMES
from pushfn.packaging import (
    NEEDS,
    Build,
    PackagingError,
    dependencies,
    find_interpreter,
    find_root,
    no_interpreter_advice,
    write_zip,
)
from pushfn.triggers.events.http import apigw_v2_event, fc3_event
from pushfn.triggers.events.objects import oss_event
from pushfn.triggers.events.queue import mns_queue_batch, mns_queue_cloudevent
from pushfn.triggers.events.timer import fc_timer_event

DRIVER = Path(__file__).with_name("venv_driver.py")
#: Development-only distributions (top-level import names) no zip may carry.
DEV_ONLY = ("pytest", "_pytest", "hypothesis", "moto", "ruff", "schemathesis", "selenium", "trustme", "cfnlint")
CLOUD_SDKS = {"tablestore": "tablestore", "oss2": "oss2", "aliyun-fc2": "fc2"}


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _tops(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names}


def _tag(python: str) -> str:
    return "cpython-" + python.replace(".", "")


# --- contents --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_an_fc_zip_holds_index_pushfn_and_only_the_sdks_its_function_imports(fc_local, function):
    build, zips = fc_local
    names = _names(zips[function])
    tops = _tops(names)
    assert "index.py" in names and "pushfn/__init__.py" in names and "pushfn/jobs/files.py" in names
    assert not tops & {"tests", "bench", "functions", "shared"}
    assert not any(name.startswith("pushfn/emulator") for name in names)  # a dev tool, needs aiohttp
    assert not tops & set(DEV_ONLY) and "boto3" not in tops and "numpy" not in tops
    for distribution, module in CLOUD_SDKS.items():
        assert (module in tops) == (distribution in NEEDS[function]["fc"]), module
    # Every .pyc was compiled here for the target; none comes from a development tree.
    pycs = [name for name in names if name.endswith(".pyc")]
    assert all(_tag(build.python) in name and "/__pycache__/" in f"/{name}" for name in pycs)
    assert bool(pycs) == (build.interpreter is not None)
    assert f"__pycache__/index.{_tag(build.python)}.pyc" in names or build.interpreter is None


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_an_aws_zip_carries_the_targets_compiled_core_and_no_sdk_the_runtime_has(aws_cross, function):
    _, zips = aws_cross
    names = _names(zips[function])
    tops = _tops(names)
    assert "index.py" in names and "pushfn/__init__.py" in names
    assert not tops & {"boto3", "botocore", "tablestore", "oss2", "fc2", "numpy", "tests", "bench", *DEV_ONLY}
    [core] = [name for name in names if re.fullmatch(r"pydantic_core/_pydantic_core\..*\.so", name)]
    assert core == f"pydantic_core/_pydantic_core.{_tag(CROSS_PYTHON)}-x86_64-linux-gnu.so"
    assert not any(_tag(LOCAL_PYTHON) in name for name in names)  # nothing of this machine's Python


def test_the_dependency_table_ships_core_everywhere_and_sdks_per_platform():
    assert dependencies("http_push", "aws") == tuple(sorted(["pydantic>=2.5", "requests>=2.28"]))
    assert {d.split(">")[0] for d in dependencies("file_push", "fc")} == {
        "pydantic",
        "requests",
        "tablestore",
        "oss2",
        "aliyun-fc2",
    }
    with pytest.raises(PackagingError, match="unknown function 'mail_push'"):
        dependencies("mail_push", "aws")
    with pytest.raises(PackagingError, match="aws or fc"):
        dependencies("http_push", "gcp")


def test_the_cli_builds_for_arm64_and_prints_sizes_and_largest_parts(tmp_path, wheel_cache, monkeypatch, capsys):
    monkeypatch.setattr("pushfn.packaging.default_cache_dir", lambda: wheel_cache)
    monkeypatch.chdir(ROOT)
    target = ["--platform", "aws", "--python", "3.12", "--arch", "arm64", "--function", "http_push"]
    code = cli.main(["package", *target, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"http_push\.zip\s+\d+\.\d MB\s+\(largest: pydantic_core \d", out), out
    [core] = [n for n in _names(tmp_path / "http_push.zip") if n.startswith("pydantic_core/_pydantic_core.")]
    assert core.endswith("cpython-312-aarch64-linux-gnu.so")
    assert [p.name for p in tmp_path.iterdir()] == ["http_push.zip"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--platform", "fc", "--python", "3.11"], "fc has no python3.11 runtime (offered: 3.10, 3.12)"),
        (["--platform", "fc", "--arch", "arm64"], "x86_64 only"),
        (["--python", "3.9"], "invalid choice: '3.9'"),
        (["--function", "mail_push"], "invalid choice: 'mail_push'"),
    ],
)
def test_the_cli_refuses_a_target_that_does_not_exist(argv, message, tmp_path, capsys):
    try:
        code = cli.main(["package", "--out", str(tmp_path), *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.startswith("pushfn: package")
    assert not list(tmp_path.iterdir())


def test_outside_the_repository_the_build_says_where_it_looked(tmp_path):
    with pytest.raises(PackagingError, match=r"no functions/<name>/index.py under .* or its parents"):
        find_root(tmp_path)
    with pytest.raises(PackagingError, match="--python must be one of"):
        Build(platform="aws", python="2.7", out=tmp_path, root=ROOT)


def test_zips_are_reproducible_readable_and_refuse_a_file_from_two_folders(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    (one / "pkg").mkdir(parents=True)
    (one / "pkg" / "a.py").write_text("A = 1\n")
    two.mkdir()
    (two / "index.py").write_text("handler = None\n")
    first, second = write_zip([one, two], tmp_path / "1.zip"), write_zip([two, one], tmp_path / "2.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["index.py", "pkg/", "pkg/a.py"]
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644, 0o40755}
    (two / "pkg").mkdir()
    (two / "pkg" / "a.py").write_text("A = 2\n")
    with pytest.raises(PackagingError, match=r"pkg/a\.py comes from both"):
        write_zip([one, two], tmp_path / "3.zip")


# --- each handler from its unzipped folder, in a virtual environment with nothing installed ------------------------

DEVICE = "0123456789abcdef0123456789abcdef"
PUSH = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "Packaged", "Body": "from the zip"}


def _event(function: str, files: Path) -> bytes:
    to_device = {"Target": "DEVICE", "TargetValue": DEVICE, **PUSH}
    if function == "http_push":
        return fc3_event("POST", "/push", to_device)  # type: ignore[return-value]
    if function == "scheduled_push":
        when = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return fc_timer_event(to_device, trigger_name="packaged", trigger_time=when)  # type: ignore[return-value]
    if function == "queue_push":
        return mns_queue_batch([mns_queue_cloudevent(to_device, message_id="m1")])  # type: ignore[return-value]
    (files / "testbucket" / "in").mkdir(parents=True)
    (files / "testbucket" / "in" / "devices.txt").write_text(f"{DEVICE}\n")
    (files / "testbucket" / "in" / "devices.txt.push.json").write_text(json.dumps(PUSH))
    return oss_event(["in/devices.txt"])  # type: ignore[return-value]


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=False, system_site_packages=False, clear=True).create(folder)
    python = folder / "bin" / "python"
    modules = "import pkgutil; print(sorted(m.name for m in pkgutil.iter_modules()))"
    listing = subprocess.run([python, "-I", "-c", modules], capture_output=True, text=True, check=True).stdout
    assert "pydantic" not in listing and "pushfn" not in listing and "requests" not in listing
    return python


@pytest.mark.parametrize(
    ("platform", "function"),
    [*(("fc", f) for f in FUNCTION_NAMES), ("aws", "http_push")],
)
def test_each_handler_runs_from_its_unzipped_folder_alone(
    request, platform, function, clean_python, emulator, tmp_path
):
    """FC zips must be self-contained; the Lambda HTTP zip too, on the SQLite store (boto3, the
    runtime's, is needed only for DynamoDB, S3 and SQS, which a clean machine does not have)."""
    _, zips = request.getfixturevalue("fc_local" if platform == "fc" else "aws_local")
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(zips[function]) as archive:
        archive.extractall(folder)
    emulator.register_device(DEVICE)
    event_file = tmp_path / "event.json"
    if platform == "aws":
        to_device = {"Target": "DEVICE", "TargetValue": DEVICE, **PUSH}
        event_file.write_text(json.dumps(apigw_v2_event("POST", "/push", to_device)))
    else:
        event_file.write_bytes(_event(function, tmp_path / "files"))
    settings = emulator.settings
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PUSH_ENDPOINT": emulator.url,
        "PUSH_APP_KEY": str(settings.app_keys[0]),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": settings.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": settings.access_key_secret,
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{tmp_path / 'idempotency.db'}",
        "PUSHFN_HTTP_AUTH": "none",
        "PUSHFN_FILE_ROOT": str(tmp_path / "files" / "testbucket"),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    }
    modules = [CLOUD_SDKS[d] for d in NEEDS[function][platform]]
    shape = "dict" if platform == "aws" else "bytes"
    result = subprocess.run(
        [clean_python, "-I", str(DRIVER), str(folder), str(event_file), shape, *modules],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shown: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(shown["prefix"]).resolve() == clean_python.parent.parent.resolve()
    for name, origin in shown["origins"].items():
        assert origin.startswith(str(folder.resolve())), (name, origin)
    answer = shown["answer"]
    if function == "http_push":
        assert answer["statusCode"] == 202 and "messageId" in answer["body"], answer
    elif function == "file_push":
        assert answer["files"][0]["status"] == "complete", answer
    elif function == "queue_push":
        assert answer == {"processed": 1, "succeeded": 1, "failed_permanently": 0}
    else:
        assert answer["status"] == "ok", answer
    [push] = emulator.pushes()
    assert push["params"]["Title"] == "Packaged" and DEVICE in push["devices"]


def test_without_a_target_python_the_build_says_how_to_get_one(tmp_path, monkeypatch):
    # No python3.x on PATH and no pyenv builds under HOME: no interpreter, so no .pyc, and the advice.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    target = CROSS_PYTHON
    assert find_interpreter(target) is None
    build = Build(platform="aws", python=target, out=tmp_path / "dist", root=ROOT, cache_dir=tmp_path)
    assert build.interpreter is None
    advice = no_interpreter_advice(target)
    assert f"install CPython {target} so that python{target} is on PATH" in advice
    assert f"pyenv install {target}" in advice and advice.endswith("and re-run")
    assert "sources only" in advice
