"""``pushfn deploy-check`` and the ``s.yaml`` pre-deploy action that runs it.

Each case runs the command in a fresh process with an environment made here (nothing inherited but
``PATH``), as Serverless Devs runs an action: through a shell, in the action's ``path``, with the
deploying shell's variables. Exit 0 and a count on stdout means ready; exit 2 and one ``pushfn:`` line
on stderr naming the variable and the rule (never the value) means the deploy stops.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.deploy.conftest import ROOT

import pushfn
from pushfn.deploy_check import CHECKED
from pushfn.http.settings import MIN_SECRET_BYTES, hash_api_key
from pushfn.settings import Settings

S_YAML = ROOT / "s.yaml"
PACKAGE_ROOT = str(Path(pushfn.__file__).resolve().parents[1])
GOOD_SECRET = "whsec_" + base64.b64encode(b"k" * MIN_SECRET_BYTES).decode()
GOOD_KEYS = "tenant-a:" + hash_api_key("a-key-of-at-least-24-bytes!")
NEITHER = "set PUSHFN_WEBHOOK_SECRETS or PUSHFN_API_KEYS"


@pytest.fixture(scope="module")
def bindir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ``pushfn`` runs this checkout's CLI with this interpreter (the installed script's stand-in)."""
    folder = tmp_path_factory.mktemp("bin")
    (folder / "pushfn").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pushfn.cli "$@"\n')
    (folder / "pushfn").chmod(0o755)
    return folder


def _run(bindir: Path, variables: dict[str, str], command: str = "pushfn deploy-check", cwd: Path = ROOT):
    env = {
        "PATH": f"{bindir}{os.pathsep}/usr/bin:/bin",
        "PYTHONPATH": PACKAGE_ROOT,
        "HOME": str(bindir),
        "LANG": "C.UTF-8",
        **variables,
    }
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"PUSHFN_WEBHOOK_SECRETS": "", "PUSHFN_API_KEYS": ""},  # s.yaml's ${env(...)} of unset variables
        {"PUSHFN_WEBHOOK_SECRETS": "  ", "PUSHFN_API_KEYS": "\t"},
        {"PUSHFN_HTTP_AUTH": "none"},  # s.yaml does not deploy it: the function will still require auth
    ],
    ids=["unset", "empty", "blank", "auth-none-in-shell"],
)
def test_neither_secrets_nor_keys_stops_the_deploy_naming_both_variables(bindir: Path, variables: dict) -> None:
    result = _run(bindir, variables)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"pushfn: deploy-check: {NEITHER}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variables", "rule"),
    [
        (
            {"PUSHFN_WEBHOOK_SECRETS": "x" * (MIN_SECRET_BYTES - 1)},
            f"PUSHFN_WEBHOOK_SECRETS entry 1: the secret is {MIN_SECRET_BYTES - 1} bytes; at least {MIN_SECRET_BYTES}",
        ),
        (
            {"PUSHFN_WEBHOOK_SECRETS": "whsec_" + base64.b64encode(b"k" * (MIN_SECRET_BYTES - 1)).decode()},
            f"PUSHFN_WEBHOOK_SECRETS entry 1: the secret is {MIN_SECRET_BYTES - 1} bytes",
        ),
        ({"PUSHFN_WEBHOOK_SECRETS": "whsec_not*base64*at*all*!!"}, "must be base64 after 'whsec_'"),
        # A weak secret among good ones (rotation) is refused all the same.
        ({"PUSHFN_WEBHOOK_SECRETS": f"{GOOD_SECRET},tiny-secret"}, "PUSHFN_WEBHOOK_SECRETS entry 2: the secret is 11"),
        ({"PUSHFN_WEBHOOK_SECRETS": f"{GOOD_SECRET},"}, "PUSHFN_WEBHOOK_SECRETS entry 2 is empty"),
        # The raw key pasted where its hash belongs: refused, and never echoed.
        ({"PUSHFN_API_KEYS": "a-key-of-at-least-24-bytes!"}, "PUSHFN_API_KEYS entry 1 must be 'tenant:<64 lowercase"),
        ({"PUSHFN_API_KEYS": GOOD_KEYS.upper()}, "PUSHFN_API_KEYS entry 1 must be"),
        # Good webhook secrets do not excuse a malformed key entry.
        ({"PUSHFN_WEBHOOK_SECRETS": GOOD_SECRET, "PUSHFN_API_KEYS": f"{GOOD_KEYS},oops"}, "PUSHFN_API_KEYS entry 2"),
    ],
    ids=[
        "short-raw",
        "short-whsec",
        "whsec-not-base64",
        "weak-in-rotation",
        "stray-comma",
        "raw-key",
        "hex-case",
        "bad-key",
    ],
)
def test_a_weak_or_malformed_value_stops_the_deploy_naming_the_rule_never_the_value(
    bindir: Path, variables: dict[str, str], rule: str
) -> None:
    result = _run(bindir, variables)
    assert result.returncode == 2
    assert result.stderr.startswith("pushfn: deploy-check: ") and rule in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for value in variables.values():
        for item in value.split(","):
            if len(item) > 8 and item != GOOD_SECRET:
                assert item not in result.stderr


@pytest.mark.parametrize(
    ("variables", "counts"),
    [
        ({"PUSHFN_WEBHOOK_SECRETS": "x" * MIN_SECRET_BYTES}, (1, 0)),  # exactly the minimum, as raw UTF-8
        ({"PUSHFN_WEBHOOK_SECRETS": GOOD_SECRET, "PUSHFN_API_KEYS": ""}, (1, 0)),
        ({"PUSHFN_API_KEYS": GOOD_KEYS}, (0, 1)),
        ({"PUSHFN_WEBHOOK_SECRETS": f"{GOOD_SECRET}, {'y' * 30}", "PUSHFN_API_KEYS": GOOD_KEYS}, (2, 1)),
        # A setting the check does not judge never stops the deploy (s.yaml does not take it from the shell).
        ({"PUSHFN_API_KEYS": GOOD_KEYS, "PUSHFN_WEBHOOK_TOLERANCE": "soon", "PUSH_TIMEOUT": "-1"}, (0, 1)),
    ],
    ids=["minimum", "webhook-only", "keys-only", "both", "unrelated-bad-setting"],
)
def test_usable_credentials_let_the_deploy_go_on(bindir: Path, variables: dict[str, str], counts) -> None:
    result = _run(bindir, variables)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    secrets, keys = counts
    assert result.stdout == (
        f"deploy-check: the HTTP function will accept {secrets} webhook secret(s) and {keys} API key(s)\n"
    )


# --- s.yaml ---------------------------------------------------------------------------------------------------------


def _resources() -> dict[str, Any]:
    return yaml.safe_load(S_YAML.read_text())["resources"]


def test_the_http_function_alone_has_a_pre_deploy_action_running_the_check() -> None:
    with_actions = {name: r["actions"] for name, r in _resources().items() if "actions" in r}
    assert list(with_actions) == ["pushfn-http"]
    assert with_actions["pushfn-http"] == {"pre-deploy": [{"run": "pushfn deploy-check", "path": "./"}]}
    # Serverless Devs runs an action only in a folder that exists (relative to s.yaml).
    assert (S_YAML.parent / with_actions["pushfn-http"]["pre-deploy"][0]["path"]).is_dir()


def test_the_action_names_the_installed_pushfn_script_and_an_existing_command() -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    (action,) = _resources()["pushfn-http"]["actions"]["pre-deploy"]
    program, *argv = shlex.split(action["run"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[program] == "pushfn.cli:main"
    from pushfn.cli import build_parser

    assert build_parser(argv[0]).parse_args(argv).run.__module__ == "pushfn.deploy_check"


@pytest.mark.parametrize(("variables", "code"), [({}, 2), ({"PUSHFN_WEBHOOK_SECRETS": GOOD_SECRET}, 0)])
def test_the_action_run_as_serverless_devs_runs_it_passes_or_stops(bindir: Path, variables: dict, code: int) -> None:
    (action,) = _resources()["pushfn-http"]["actions"]["pre-deploy"]
    result = _run(bindir, variables, command=action["run"], cwd=S_YAML.parent / action["path"])
    assert result.returncode == code, result.stderr


def test_the_check_judges_exactly_the_variables_s_yaml_takes_from_the_shell() -> None:
    taken = set(re.findall(r"\$\{env\('([A-Z0-9_]+)'\)\}", S_YAML.read_text()))
    http_env = _resources()["pushfn-http"]["props"]["environmentVariables"]
    assert taken == set(CHECKED)
    assert {name: http_env[name] for name in CHECKED} == {name: f"${{env('{name}')}}" for name in CHECKED}


def test_settings_read_only_the_named_variables_and_refuse_an_unknown_name() -> None:
    env = {"PUSHFN_API_KEYS": GOOD_KEYS, "PUSHFN_WEBHOOK_TOLERANCE": "soon"}
    settings = Settings.from_env(env, only=CHECKED)
    assert settings.pushfn_api_keys == GOOD_KEYS and not settings.is_set("pushfn_webhook_tolerance")
    with pytest.raises(KeyError):
        Settings.from_env(env, only=("PUSHFN_API_KEY",))
