"""Typed seams (issue 14 item 7): what a function is handed — the guard, the push client, the settings,
the credential chain, the runtime — is typed by what it must do (a Protocol such as
:class:`~pushfn.idempotency.guard.Guard`, :class:`~pushfn.push.client.PushSender`,
:class:`~pushfn.push.credentials.CredentialsProvider`) or by the one class pushfn has (``Settings``,
``Runtime``), never ``Any``; and the parts pushfn ships satisfy the Protocols they are passed as.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "shared" / "pushfn"

#: Parameter names that are seams between pushfn's own parts.
SEAMS = {"guard", "client", "settings", "credentials", "runtime", "templates", "limiter", "sink", "reader", "fanout"}

#: A cloud SDK's own client object (boto3, tablestore), injectable by tests: its type is the SDK's, loaded
#: lazily, so ``Any`` is the honest annotation there.
SDK_CLIENTS = {
    ("jobs/dead_letter.py", "SqsSink.__init__", "client"),
    ("jobs/fanout.py", "SqsFanout.__init__", "client"),
    ("targets/readers.py", "S3Reader.__init__", "client"),
    ("idempotency/stores/tablestore.py", "TablestoreStore.__init__", "client"),
    ("idempotency/stores/dynamodb.py", "DynamoDBStore.__init__", "client"),
}


def _alternatives(annotation: ast.expr | None) -> set[str]:
    """The members of an annotation's top-level union (``Any | None`` → {Any, None}); a missing one is
    ``Any``. ``Mapping[str, Any]`` is a Mapping: what it holds is not the seam."""
    if annotation is None:
        return {"Any"}
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _alternatives(ast.parse(annotation.value, mode="eval").body)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _alternatives(annotation.left) | _alternatives(annotation.right)
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in {"Optional", "typing.Optional"}:
        return {"None"} | _alternatives(annotation.slice)
    return {ast.unparse(annotation)}


def _untyped_seams(tree: ast.Module, module: str) -> list[tuple[str, str, str]]:
    found = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args
                for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                    if arg.arg in SEAMS and "Any" in _alternatives(arg.annotation):
                        found.append((module, f"{prefix}{node.name}", arg.arg))
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_scan_finds_an_any_seam_wherever_it_is() -> None:
    sample = (
        "def f(guard: Any, client: PushSender, *, settings: Any | None = None, runtime=None): ...\n"
        "class C:\n    def m(self, credentials: 'Optional[Any]', templates: Mapping[str, Any], x: Any) -> Any: ...\n"
    )
    assert _untyped_seams(ast.parse(sample), "m.py") == [
        ("m.py", "f", "guard"),
        ("m.py", "f", "settings"),
        ("m.py", "f", "runtime"),
        ("m.py", "C.m", "credentials"),
    ]


def test_no_seam_between_pushfn_parts_is_typed_any() -> None:
    found = []
    for path in _modules():
        module = str(path.relative_to(PACKAGE))
        found += _untyped_seams(ast.parse(path.read_text(encoding="utf-8")), module)
    assert len(_modules()) > 50
    assert sorted(set(found) - SDK_CLIENTS) == []
    assert set(found) >= SDK_CLIENTS  # the allowance names real parameters, not stale ones


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("pushfn.jobs.runner", "run_planned"),
        ("pushfn.jobs.files", "process_object"),
        ("pushfn.http.idempotency", "once"),
    ],
)
def test_the_issues_seams_name_their_protocols(module: str, function: str) -> None:
    import importlib

    signature = inspect.signature(getattr(importlib.import_module(module), function))
    annotations = {name: str(p.annotation) for name, p in signature.parameters.items()}
    if "guard" in annotations:
        assert annotations["guard"] in {"Guard", "Guard | None"}
    if "client" in annotations:
        assert annotations["client"] == "PushSender"


def test_the_parts_pushfn_ships_satisfy_the_protocols_they_are_passed_as(tmp_path: Path) -> None:
    """Each Protocol's methods exist on the real part with the same parameters (a renamed keyword
    would break a caller typed against the Protocol)."""
    from pushfn.idempotency.guard import Guard, IdempotencyGuard
    from pushfn.push.client import PushClient, PushSender
    from pushfn.push.credentials import ChainProvider, CredentialsProvider, StaticCredentials
    from pushfn.push.transport import StdlibTransport, Transport

    pairs = [
        (Guard, IdempotencyGuard),
        (PushSender, PushClient),
        (CredentialsProvider, ChainProvider),
        (CredentialsProvider, StaticCredentials),
        (Transport, StdlibTransport),
    ]
    for protocol, real in pairs:
        wanted = [n for n, v in vars(protocol).items() if inspect.isfunction(v) and not n.startswith("_")]
        assert wanted, protocol
        for name in wanted:
            expected = inspect.signature(getattr(protocol, name)).parameters
            actual = inspect.signature(getattr(real, name)).parameters
            missing = [p for p in expected if p not in actual]
            assert missing == [], f"{real.__name__}.{name} lacks {missing} of {protocol.__name__}"
