"""Every shell example in README.md runs, in order, from a clean start against a real emulator.

The README's ```sh blocks are found with a Markdown parser and run by bash in one session (so an
``export`` carries over, as for a reader following along), in a temporary directory with a clean
environment: no keys, no config file, no store. Nothing is substituted but the servers' ports. The
two lines that start a server in the foreground are started as real subprocesses on free ports
instead, with the README's own arguments: the Quickstart's ``pip install . && pushfn serve --demo``
(``pushfn serve``, in the folder where the README's ``pushfn.toml`` block is written; ``--fire`` is
pointed at its port) and ``pushfn emulator --port 9100 …``. Each command's ``127.0.0.1:PORT`` names
the server started last before it.

Only the commands in :data:`SKIPPED` are not run, each for the reason given; the test fails if an
entry stops matching, so the list cannot grow stale. Any new example is run by default.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

import pushfn

README = Path(__file__).resolve().parents[1] / "README.md"

#: Commands that cannot run here, by a regex on the command: each needs the network, a new
#: environment, or would run this very suite. Keep it this small.
SKIPPED: dict[str, str] = {
    r"^python3 -m venv ": "creates and activates a virtualenv: the test already runs in one",
    r"^pip install ": "installs from PyPI: the test runs this checkout instead",
    r"^python -m pytest$": "runs the whole suite, this test included",
    r"^sam build ": "builds and deploys to AWS",
    r"^pushfn package ": "downloads wheels from PyPI (tests/deploy/test_packaging.py builds and runs the zips)",
    r"^aws ssm ": "writes parameters in an AWS account",
    r"^s deploy$": "deploys to Function Compute",
    r'^curl .*"\$PUSHFN_URL/push"': "calls a deployed function",
}
#: The foreground emulator: started as a subprocess on a free port instead of through bash.
SERVER_START = re.compile(r"^pushfn emulator --port 9100\b(?!.*\bdevices\b)")
DOC_PORT = "9100"
#: The Quickstart's ``pushfn serve``: started as a subprocess on free ports (HTTP function, emulator).
SERVE_START = re.compile(r"^pip install \. && (pushfn serve\b.*)$")
SERVE_DOC_PORTS = ("9000", "9100")
SHELL_INFOS = {"sh", "bash", "shell", "console", "zsh"}
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


@dataclass
class Command:
    block: int
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


#: A ```python block runs as this one shell command, in its place among the shell examples.
PYTHON_RUN = "python - <<'PYTHON'\n{code}PYTHON\n"


def shell_blocks(markdown: str) -> list[str]:
    """The content of every fenced block whose info string is ``sh``, and every ```python block as a
    ``python -`` heredoc, in README order; any other shell info is an error."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "fence":
            continue
        info = token.info.strip().split(" ")[0]
        assert info == "sh" or info not in SHELL_INFOS, f"use ```sh for shell examples, not ```{info}"
        if info == "sh":
            blocks.append(token.content)
        elif info == "python":
            assert "\nPYTHON\n" not in token.content
            blocks.append(PYTHON_RUN.format(code=token.content))
    return blocks


def commands(block: str, index: int) -> list[Command]:
    """Split a block into commands: ``\\``-continued lines joined, heredoc bodies kept with theirs."""
    found: list[Command] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = [line]
        while text[-1].endswith("\\") and i < len(lines):
            text.append(lines[i])
            i += 1
        match = HEREDOC.search(" ".join(text))
        if match:
            while i < len(lines):
                text.append(lines[i])
                i += 1
                if text[-1].strip() == match.group(2):
                    break
            else:
                raise AssertionError(f"unterminated heredoc in README block {index}: {line}")
        found.append(Command(index, "\n".join(text)))
    return found


def _strip_comment(line: str) -> list[str]:
    return shlex.split(line, comments=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_parsing_finds_the_examples() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    all_commands = [c for n, b in enumerate(blocks) for c in commands(b, n)]
    assert len(all_commands) >= 15
    heredocs = [c for c in all_commands if "<<" in c.text]
    assert heredocs and heredocs[0].text.splitlines()[-1] == "EOF"
    # Every skip entry is used (stale entries fail), and only these few commands are skipped.
    used = {pattern for pattern in SKIPPED for c in all_commands if re.search(pattern, c.first_line)}
    assert used == set(SKIPPED)
    # Five set-up commands, and six deploy ones (package ×2, a secret, sam, s, the smoke test) that need a cloud.
    assert sum(1 for c in all_commands if any(re.search(p, c.first_line) for p in SKIPPED)) <= 11
    assert sum(1 for c in all_commands if SERVER_START.search(c.first_line)) == 1
    assert sum(1 for c in all_commands if SERVE_START.search(c.first_line)) == 1


def test_python_examples_run_in_readme_order() -> None:
    markdown = "```sh\necho 1\n```\n\n```python\nprint(2)\n```\n\n```json\n{}\n```\n"
    blocks = shell_blocks(markdown)
    assert [c.text for n, b in enumerate(blocks) for c in commands(b, n)] == [
        "echo 1",
        "python - <<'PYTHON'\nprint(2)\nPYTHON",
    ]
    readme = [c for n, b in enumerate(shell_blocks(README.read_text("utf-8"))) for c in commands(b, n)]
    assert any(c.first_line.startswith("python - <<") and "PushClient.from_env()" in c.text for c in readme)


def test_commands_split_continuations_and_heredocs() -> None:
    block = "a \\\n  b\n# comment\n\ncat > f <<'EOF'\n{\"x\": 1}\nEOF\nc  # trailing\n"
    assert [c.text for c in commands(block, 0)] == ["a \\\n  b", "cat > f <<'EOF'\n{\"x\": 1}\nEOF", "c  # trailing"]


@pytest.fixture
def serve_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The ``pushfn serve`` the README starts, stopped at the end whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_every_shell_example_in_the_readme_runs(tmp_path: Path, serve_processes: list[subprocess.Popen[bytes]]) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    port = str(_free_port())
    home = tmp_path / "home"
    work = tmp_path / "work"
    bindir = tmp_path / "bin"
    for d in (home, work, bindir):
        d.mkdir()
    # `pushfn` is this checkout's package, whatever is installed in the environment.
    package_root = str(Path(pushfn.__file__).resolve().parents[1])
    (bindir / "pushfn").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pushfn.cli "$@"\n')
    (bindir / "pushfn").chmod(0o755)
    # `python` is the interpreter of the reader's virtualenv (the README's Python examples run in it).
    (bindir / "python").symlink_to(sys.executable)
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": package_root,
        "TMPDIR": str(tmp_path),
    }

    script = ["set -euo pipefail"]
    run: list[Command] = []
    server: subprocess.Popen[bytes] | None = None
    serve: subprocess.Popen[bytes] | None = None
    serve_ports = {doc: str(_free_port()) for doc in SERVE_DOC_PORTS}
    ports: dict[str, str] = {}  # the doc ports of the server started last → its real ports
    try:
        for n, block in enumerate(blocks):
            for command in commands(block, n):
                started = SERVE_START.search(command.first_line)
                if started:
                    assert serve is None, "the README starts pushfn serve twice"
                    serve = _start_serve(started.group(1), serve_ports, env, work, tmp_path)
                    serve_processes.append(serve)
                    ports = serve_ports
                    continue
                if any(re.search(p, command.first_line) for p in SKIPPED):
                    continue
                text = command.text
                for doc, real in ports.items():
                    text = text.replace(f"127.0.0.1:{doc}", f"127.0.0.1:{real}")
                if text.startswith("pushfn serve --fire"):
                    text += f" --http-port {serve_ports['9000']}"
                if SERVER_START.search(command.first_line):
                    ports = {DOC_PORT: port}
                    assert server is None, "the README starts the emulator twice"
                    argv = _strip_comment(text.replace(f"--port {DOC_PORT}", f"--port {port}"))
                    log = tmp_path / "emulator.log"
                    # A file, not a pipe: the emulator logs every request, and a full pipe would block it.
                    with log.open("w") as sink:
                        server = subprocess.Popen(
                            [sys.executable, "-m", "pushfn.cli", *argv[1:]],
                            env=env,
                            cwd=work,
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        )
                    _wait_for_banner(server, log)
                    continue
                marker = f"::readme-command {len(run)}"
                script += [f"echo '{marker}'", f"echo '{marker}' >&2", text]
                run.append(command)
        assert server is not None, "the README never starts the emulator"
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=110,
        )
        outputs = _split(result.stdout, len(run))
        errors = _split(result.stderr, len(run))
        failed = len([o for o in outputs if o is not None]) - 1
        assert result.returncode == 0, (
            f"README command failed (exit {result.returncode}):\n{run[failed].text}\n"
            f"stdout:\n{outputs[failed]}\nstderr:\n{errors[failed]}"
        )
        for command, out, err in zip(run, outputs, errors, strict=True):
            assert "Traceback" not in (err or "") and "pushfn:" not in (err or ""), (command.text, err)
            _check_output(command.text, out or "")
        pushes = json.loads(_get(port, "pushes"))["pushes"]
        assert serve is not None, "the README never starts pushfn serve"
        # The tour's pushes, at serve's own emulator: --demo's webhook and file, the curl, the dropped
        # file (handled as it lands, so waited for) and the fired schedule.
        serve_pushes = _wait_for_pushes(serve_ports["9100"], 5)
        assert {p["params"]["Title"] for p in serve_pushes} >= {"Hi", "Good morning"}
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=10) == 0
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    sent = [
        c
        for c in run
        if (c.first_line.startswith("pushfn push") and "--dry-run" not in c.text)
        or "pushfn invoke" in c.first_line
        or (c.first_line.startswith("python - <<") and ".push(" in c.text)
    ]
    assert len(pushes) == len(sent) >= 4
    assert all(push["devices"] for push in pushes), "every README push reaches a registered device"


def _start_serve(
    command: str, ports: dict[str, str], env: dict[str, str], work: Path, tmp_path: Path
) -> subprocess.Popen[bytes]:
    """``pushfn serve`` as the README starts it, on free ports, with the README's ``pushfn.toml`` in ``work``."""
    import time

    tomls = [token.content for token in MarkdownIt("commonmark").parse(README.read_text("utf-8"))
             if token.type == "fence" and token.info.strip() == "toml"]  # fmt: skip
    assert len(tomls) == 1, "the README's tour shows one pushfn.toml"
    (work / "pushfn.toml").write_text(tomls[0])
    argv = _strip_comment(command)
    argv += ["--http-port", ports["9000"], "--emulator-port", ports["9100"]]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushfn.cli", *argv[1:]], env=env, cwd=work, stdout=sink, stderr=subprocess.STDOUT
        )
    while "Try:" not in log.read_text():
        assert process.poll() is None, f"the README's pushfn serve exited: {log.read_text()}"
        time.sleep(0.05)
    return process


def _wait_for_pushes(port: str, count: int) -> list[dict[str, Any]]:
    import time

    deadline = time.monotonic() + 30
    while True:
        pushes = json.loads(_get(port, "pushes"))["pushes"]
        if len(pushes) >= count or time.monotonic() > deadline:
            assert len(pushes) >= count, pushes
            return pushes
        time.sleep(0.1)


def _wait_for_banner(server: subprocess.Popen[bytes], log: Path) -> None:
    """Until the emulator prints where it listens (it does so once the socket is bound)."""
    import time

    while "CloudPush emulator on" not in log.read_text():
        assert server.poll() is None, f"the README's emulator command exited: {log.read_text()}"
        time.sleep(0.05)


def _split(text: str, count: int) -> list[str | None]:
    parts: list[str | None] = [None] * count
    chunks = re.split(r"^::readme-command (\d+)\n", text, flags=re.M)
    for number, chunk in zip(chunks[1::2], chunks[2::2], strict=True):
        parts[int(number)] = chunk
    return parts


def _check_output(command: str, out: str) -> None:
    """What each kind of command should print."""
    if command.startswith("pushfn push") and "--dry-run" in command:
        shown = json.loads(out)
        assert shown["query"]["Action"] == "Push" and shown["query"]["Signature"]
    elif command.startswith("pushfn push"):
        assert json.loads(out)["MessageId"]
    elif command.startswith("python - <<"):  # the Python example prints MessageId and RequestId
        assert re.fullmatch(r"\d+ [0-9A-F-]{36}\n", out), out
    elif command.startswith("pushfn call QueryAliases"):
        assert "alice" in out
    elif command.startswith("pushfn call"):
        assert json.loads(out)["RequestId"]
    elif command.startswith("pushfn demo"):
        assert out.startswith("MessageId: ")
    elif command.startswith("pushfn serve --fire"):
        assert json.loads(out)["status"] == "ok"
    elif command.startswith("pushfn emulator devices"):
        assert all(json.loads(line)["device_id"] for line in out.splitlines()) and out
    elif command.startswith("pushfn store init"):
        assert "ready" in out
    elif "pushfn invoke" in command:  # the handler's answer
        assert json.loads(out)
    elif command.startswith("pushfn event"):  # redirected into a file, or piped into invoke above
        assert out == ""
    elif command.startswith("pushfn deploy-check"):  # the README's generated secret passes the function's rules
        assert out.startswith("deploy-check: the HTTP function will accept 1 webhook secret(s)")
    elif command.startswith("pushfn store list"):
        assert out.split()[:2] == ["KEY", "STATUS"]
    elif command.startswith("pushfn"):
        pytest.fail(f"no expected output declared for README command {command!r}: add it to _check_output")


def _get(port: str, route: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/{route}", timeout=10) as resp:
        return resp.read().decode()
