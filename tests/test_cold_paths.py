"""Cold paths: a fresh process that sends one push loads no pydantic (nor any other heavy library).

pydantic stays the explainer of refused requests (loaded on demand, the same errors as ever); the
happy path of ``pushfn push``, of the client, and of the HTTP, timer and queue functions' first invocation
checks requests with the pydantic-free fast checker. Each case runs in a fresh interpreter against the
emulator over real HTTP; the functions run their real ``index.py`` handler, as
``bench/bench_cold_start.py`` times them (one definition of each case: ``bench/_functions.py``).
"""

from __future__ import annotations

import ast
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


@pytest.mark.parametrize(
    "refused",
    [
        {**PUSH, "iOSBadge": 100000},
        {**PUSH, "Titel": "x"},
        {**PUSH, "TargetValue": "a,,b", "AndroidExtParameters": "{bad"},
        {key: value for key, value in PUSH.items() if key != "Title"},
    ],
    ids=["range", "unknown_field", "two_problems", "required"],
)
def test_a_refused_push_in_a_fresh_http_function_is_explained_exactly_as_pydantic_explains_it(
    emulator: Any, tmp_path: Path, refused: dict[str, Any]
) -> None:
    """The fast checker refuses, pydantic loads and words the 400: the same problems, in the same order,
    as :func:`~pushfn.push.models.parse_request` gives for that body in this process."""
    from pushfn.push.errors import InvalidRequestError
    from pushfn.push.models import parse_request

    result = first_invocation("http_push", emulator.url, tmp_path, push=refused)
    assert "pydantic" in result["modules"]
    answer = ast.literal_eval(result["answer"])  # the handler's dict, as repr() printed it
    assert answer["statusCode"] == 400 and emulator.pushes() == []
    with pytest.raises(InvalidRequestError) as expected:
        parse_request("Push", refused, app_key=23267207)
    errors = json.loads(answer["body"])["errors"]
    assert errors == [{"field": p.field, "rule": p.rule, "message": p.message} for p in expected.value.problems]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "mass_push", "version": 1, "key": "k-1", "mass_push": {"PushTask": [PUSH, PUSH]}},
        {"PushTask": [PUSH]},
        {"kind": "push", "version": 1, "key": "k-2", "push": [PUSH, PUSH]},
        {"kind": "chunk", "version": 1, "job": {"source": "b/k", "etag": "e", "chunk": 0}, "params": PUSH},
    ],
    ids=["mass_push", "bare_mass_push", "push_list", "chunk"],
)
def test_every_envelope_the_queue_function_reads_is_pushed_without_pydantic(
    emulator: Any, tmp_path: Path, body: dict[str, Any]
) -> None:
    result = first_invocation("queue_push", emulator.url, tmp_path, push=body)
    assert set(result["modules"]) & HEAVY == set() and result["answer"] == "{'batchItemFailures': []}"
    assert emulator.pushes() != []
