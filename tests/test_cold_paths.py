"""Cold paths: a fresh process that sends one push loads no pydantic (nor any other heavy library).

pydantic stays the explainer of refused requests (loaded on demand, the same errors as ever); the
happy path of ``pushfn push``, of the client, and of the HTTP, timer and queue functions' first invocation
checks requests with the pydantic-free fast checker. Each case runs in a fresh interpreter against the
emulator over real HTTP; the functions run their real ``index.py`` handler, as
``bench/bench_cold_start.py`` times them (one definition of each case: ``bench/_functions.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from tests.support import fresh_python  # noqa: E402

from _functions import PUSH, first_invocation  # noqa: E402

#: The modules of the other commands (store, serve, invoke/event, package): ``pushfn push`` needs none.
OTHER_COMMANDS = ("pushfn.idempotency", "pushfn.serve", "pushfn.packaging", "pushfn.local")
#: Loaded by nothing on a happy path (the request libraries stay selectable, the cloud SDKs belong to
#: other stores and triggers).
HEAVY = {"pydantic", "pydantic_core", "annotated_types", "requests", "urllib3", "boto3", "oss2", "tablestore"}


def _fresh(code: str, env: dict[str, str] | None = None) -> list[str]:
    return fresh_python(code, env).strip().splitlines()


def _loaded(heavy: set[str]) -> str:
    return f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(heavy)!r})))"


@pytest.mark.parametrize("function", ["http_push", "scheduled_push", "queue_push"])
def test_a_functions_first_invocation_pushes_without_pydantic(emulator: Any, tmp_path: Path, function: str) -> None:
    result = first_invocation(function, emulator.url, tmp_path)
    assert set(result["modules"]) & HEAVY == set()
    # The emulator's MessageId came back (the queue function answers with no failed item).
    assert "500000" in result["answer"] or result["answer"] == "{'batchItemFailures': []}"
    (push,) = [p for p in emulator.pushes() if p.get("action") == "Push"]
    assert push["params"]["Title"] == PUSH["Title"]


def test_the_client_pushes_without_pydantic_and_explains_a_refusal_with_it(emulator: Any) -> None:
    code = (
        "import sys\n"
        "from pushfn.push import PushClient, StaticCredentials, InvalidRequestError\n"
        "credentials = StaticCredentials('testid', 'testsecret')\n"
        f"client = PushClient(endpoint={emulator.url!r}, app_key=23267207, credentials=credentials)\n"
        f"print(client.push({PUSH!r}).message_id)\n"
        f"{_loaded(HEAVY)}\n"
        "try:\n"
        f"    client.push({{**{PUSH!r}, 'iOSBadge': 100000}})\n"
        "except InvalidRequestError as exc:\n"
        "    print(exc)\n"
        "print('pydantic' in sys.modules)\n"
    )
    message_id, loaded, error, pydantic_loaded = _fresh(code)
    assert message_id.startswith("5") and loaded == "[]"
    assert error == "Push: iOSBadge: must be between 0 and 99999; got 100000" and pydantic_loaded == "True"


def test_pushfn_push_sends_without_pydantic(emulator: Any) -> None:
    code = (
        "import sys\n"
        "from pushfn.cli import main\n"
        "code = main(['push', '--target', 'DEVICE', '--target-value', 'e2ba19de97604f55b165576736477b74',"
        " '--device-type', 'ANDROID', '--push-type', 'NOTICE', '--title', 'T', '--body', 'B'])\n"
        "print(code)\n"
        f"{_loaded(HEAVY)}\n"
        f"print(sorted(m for m in sys.modules if m.startswith({OTHER_COMMANDS!r})))\n"
    )
    env = {
        "PUSH_ENDPOINT": emulator.url,
        "PUSH_APP_KEY": "23267207",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "testid",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret",
        "HOME": str(ROOT / "nonexistent-home"),
    }
    lines = _fresh(code, env)
    assert lines[-3:] == ["0", "[]", "[]"]  # sent; no heavy library, no other command's modules
    assert json.loads(lines[0])["MessageId"].startswith("5")
