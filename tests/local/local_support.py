"""Helpers of the ``pushfn invoke`` / ``pushfn event`` tests: the settings, the CLI run in process,
the bucket folder."""

from __future__ import annotations

import base64
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pushfn.cli import main

SECRET = "whsec_" + base64.b64encode(b"pushfn-local-invoke-secret-32-by").decode()
DEVICES = ("e2ba19de97604f55b165576736477b74", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
#: What the EventBridge rule sample ("my-scheduled-rule") finds in PUSHFN_SCHEDULES.
RULE_SPEC = {"Target": "ALIAS", "TargetValue": "demo", "DeviceType": "ALL", "PushType": "NOTICE",
             "Title": "From the schedules table", "Body": "b"}  # fmt: skip
#: The sidecar of every target file the tests drop into the bucket folder.
FILE_CONTENT = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Title": "From a file", "Body": "b"}


@dataclass
class Ran:
    """One ``pushfn`` run in process: exit code, stdout (bytes and text), stderr."""

    code: int
    raw: bytes
    err: str

    @property
    def out(self) -> str:
        return self.raw.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.raw)

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines on stderr (the summary and error lines start with ``pushfn:``)."""
        return [json.loads(line) for line in self.err.splitlines() if line.startswith("{")]


@dataclass
class LocalEnv:
    emulator: Any
    bucket: Path
    capsys: pytest.CaptureFixture[bytes]
    monkeypatch: pytest.MonkeyPatch

    def run(self, *args: str, stdin: bytes = b"") -> Ran:
        """``pushfn ARGS`` in this process, ``stdin`` as its standard input."""
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse refusals
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return Ran(code, captured.out, captured.err.decode("utf-8"))

    def pipe(self, event_args: list[str], invoke_args: list[str]) -> tuple[Ran, Ran]:
        """``pushfn event …`` then ``pushfn invoke … --event -`` fed with what the first printed."""
        printed = self.run("event", *event_args)
        assert printed.code == 0, printed.err
        return printed, self.run("invoke", *invoke_args, "--event", "-", stdin=printed.raw)

    def pushes(self) -> list[dict[str, Any]]:
        return [p for p in self.emulator.pushes() if p.get("action") == "Push"]

    def drop(self, key: str, lines: str = "device_id\n" + "\n".join(DEVICES) + "\n") -> None:
        """Put a target file and its sidecar into the bucket folder."""
        path = self.bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lines, encoding="utf-8")
        (self.bucket / f"{key}.push.json").write_text(json.dumps(FILE_CONTENT), encoding="utf-8")


def environment(emulator: Any, tmp_path: Path) -> dict[str, str]:
    """The settings a developer would export to run the functions against the emulator."""
    return {
        "PUSH_ENDPOINT": emulator.url,
        "PUSH_APP_KEY": str(emulator.settings.app_keys[0]),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": emulator.settings.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emulator.settings.access_key_secret,
        "PUSH_MAX_ATTEMPTS": "1",
        "PUSHFN_IDEMPOTENCY_URL": f"sqlite:///{tmp_path / 'idempotency.db'}",
        "PUSHFN_DATA_DIR": str(tmp_path / "data"),  # where `pushfn serve` would keep its secrets: none yet
        "PUSHFN_WEBHOOK_SECRETS": SECRET,
        "PUSHFN_SCHEDULES": json.dumps({"my-scheduled-rule": RULE_SPEC}),
        "PUSHFN_FILE_ROOT": str(tmp_path / "bucket"),
        "PUSHFN_FILE_CONCURRENCY": "1",
    }
