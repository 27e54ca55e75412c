"""The HTTP package's structure: imports form layers without a cycle, handlers get what they need as
arguments, and the idempotency step takes exactly the arguments it names."""

from __future__ import annotations

import ast
import importlib
import json
import logging
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from http_support import HttpEnv, bearer, encode, push_body

import pushfn.http
from pushfn.http import HttpSettings, create_app
from pushfn.http.auth import Principal
from pushfn.http.call import Call, Deps, Route, interpret
from pushfn.http.idempotency import REPLAYED, fingerprint, once
from pushfn.http.problems import HttpProblem
from pushfn.http.routes import ROUTES
from pushfn.idempotency import IdempotencyGuard
from pushfn.idempotency.stores.memory import MemoryStore
from pushfn.logs import mask
from pushfn.push.errors import ConfigurationError
from pushfn.runtime import Runtime
from pushfn.triggers.http import Headers, HttpRequest, HttpResponse

PACKAGE = "pushfn.http"


def _http_modules() -> dict[str, Path]:
    """Every module of the package (``__init__`` included), imported, by short name → source file."""
    modules = {"__init__": Path(pushfn.http.__file__)}
    for info in pkgutil.iter_modules(pushfn.http.__path__):
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        modules[info.name] = Path(module.__file__ or "")
    return modules


def _imports(source: Path, names: set[str]) -> set[str]:
    """The package modules ``source`` imports anywhere: top level, in functions, under TYPE_CHECKING."""
    found: set[str] = set()
    is_package = source.name == "__init__.py"
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against pushfn.http
                base = PACKAGE if (node.level == 1) else PACKAGE.rsplit(".", node.level - 1)[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # ``from pushfn.http import schemas`` imports the submodule, not the package.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}".removeprefix(f"{PACKAGE}.") in names
                       else base for alias in node.names]  # fmt: skip
        else:
            continue
        for target in targets:
            if target == PACKAGE:
                found.add("__init__")
            elif target.startswith(PACKAGE + "."):
                found.add(target.removeprefix(PACKAGE + ".").split(".")[0])
    if is_package:
        found.discard("__init__")
    return found


def _graph() -> dict[str, set[str]]:
    modules = _http_modules()
    names = set(modules)
    return {name: _imports(path, names) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, …, a]``, or ``None`` when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_http_module_imports_and_their_imports_have_no_cycle() -> None:
    graph = _graph()
    assert {"app", "routes", "openapi", "call", "idempotency"} <= set(graph)
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"
    assert "app" not in graph["routes"] and "app" not in graph["openapi"]
    assert "routes" not in graph["openapi"]  # the document describes the table it is given


def test_cycle_finder_finds_cycles_of_every_length() -> None:
    # The check above is only as good as this finder: it must see direct, indirect and self loops.
    assert _cycle({"a": {"a"}}) == ["a", "a"]
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"b"}}) == ["b", "c", "d", "b"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_import_finder_sees_type_checking_and_lazy_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from pushfn.http import problems\n"
        "if TYPE_CHECKING:\n    from pushfn.http.app import HttpApp\n"
        "def f():\n    import pushfn.http.routes\n    from . import openapi\n    from .call import Call\n"
    )
    assert _imports(source, {"problems", "app", "routes", "openapi", "call"}) == {
        "problems",
        "app",
        "routes",
        "openapi",
        "call",
    }


def _drawn_layers() -> list[list[str]]:
    """The layers drawn in ``pushfn.http``'s docstring, top (lowest) first."""
    doc = pushfn.http.__doc__ or ""
    block = doc.split("no cycle", 1)[1].split("::", 1)[1]
    layers = []
    for line in block.strip("\n").splitlines():
        if not line.strip():
            break
        layers.append([name.strip() for name in line.split("--")[0].split(",")])
    return layers


def test_the_drawn_module_order_is_the_real_one() -> None:
    graph = _graph()
    layers = _drawn_layers()
    level = {name: index for index, layer in enumerate(layers) for name in layer}
    assert set(level) == set(graph), "every module is drawn, and only those"
    for module, targets in graph.items():
        for target in targets:
            assert level[target] < level[module], f"{module} imports {target}, which is not drawn above it"


# --- handlers get their inputs ----------------------------------------------------------------------


def _request(method: str, path: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpRequest:
    return HttpRequest(method, path, headers=Headers(headers or []), body=body)


def _json_headers() -> list[tuple[str, str]]:
    return list(bearer().items())  # Authorization and Content-Type: application/json


def test_a_handler_gets_decoded_params_parsed_body_and_caller(http_env: HttpEnv) -> None:
    seen: dict[str, Any] = {}

    def handler(call: Call, deps: Deps) -> HttpResponse:
        seen.update(params=dict(call.params), body=call.body, tenant=call.principal.tenant, deps=deps)
        return HttpResponse.json(200, {"ok": True})

    route = Route("POST", "/things/{tagName}", handler, "thing", "Test route", body="Thing")
    app = create_app(HttpSettings.from_env(), routes=[route])
    response = app(_request("POST", "/things/a%20b", encode({"x": [1, 2]}), _json_headers()))
    assert response.status == 200, response.body
    assert seen["params"] == {"tagName": "a b"} and seen["body"] == {"x": [1, 2]}
    assert seen["tenant"] == "tenant-a"
    assert seen["deps"].settings is app.settings


def test_the_route_table_is_data_a_custom_table_serves_only_its_routes(http_env: HttpEnv) -> None:
    def ping(call: Call, deps: Deps) -> HttpResponse:
        return HttpResponse.json(200, {"pong": True})

    route = Route("GET", "/ping", ping, "ping", "Ping", public=True)
    app = create_app(HttpSettings.from_env(), routes=[route])
    assert app(_request("GET", "/ping")).status == 200
    for path in ("/health", "/push", "/tags"):
        assert app(_request("GET", path)).status == 404


def test_health_and_openapi_build_no_client_and_no_store(http_env: HttpEnv, monkeypatch) -> None:
    # No credentials and a store that cannot open: reading either would make these a 500.
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", raising=False)
    monkeypatch.setenv("PUSHFN_IDEMPOTENCY_URL", "nope://x")
    app = create_app(HttpSettings.from_env(), runtime=Runtime())
    assert app(_request("GET", "/health")).status == 200
    document = app(_request("GET", "/openapi.json"))
    assert document.status == 200 and "/push" in json.loads(document.body)["paths"]
    failed = app(_request("POST", "/push", encode(push_body()), _json_headers()))
    assert failed.status == 500 and json.loads(failed.body)["type"].endswith("misconfigured")


@pytest.mark.parametrize(
    "step", [lambda: int("x"), lambda: [][1], lambda: {}["k"], lambda: 10.0**400, lambda: bytes(-1)]
)
def test_a_step_interpreting_caller_data_that_breaks_is_400_and_logged(
    http_env: HttpEnv, caplog: pytest.LogCaptureFixture, step: Any
) -> None:
    caplog.set_level(logging.INFO, logger="pushfn.http")

    def handler(call: Call, deps: Deps) -> HttpResponse:
        interpret(step)
        return HttpResponse.json(200, {})

    app = create_app(HttpSettings.from_env(), routes=[Route("POST", "/x", handler, "x", "X", body="X")])
    response = app(_request("POST", "/x", b"{}", _json_headers()))
    data = json.loads(response.body)
    assert response.status == 400 and data["type"].endswith("invalid-request")
    assert data["errors"] == [
        {"field": "body", "rule": "unprocessable", "message": "the request could not be interpreted; check its values"}
    ]
    cause = next(r for r in caplog.records if "could not be interpreted" in r.getMessage())
    assert cause.fields["route"] == "/x"  # type: ignore[attr-defined]
    line = next(r for r in caplog.records if r.getMessage().startswith("http POST /x"))
    assert line.fields["error"] == cause.fields["error"] != ""  # type: ignore[attr-defined]
    assert line.fields["status"] == 400  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [(ConfigurationError("PUSH_APP_KEY is not set"), 500, "misconfigured"), (RecursionError(), 400, "invalid-request")],
)
def test_interpret_keeps_pushfn_errors_and_turns_others_into_400(
    http_env: HttpEnv, error: Exception, status: int, slug: str
) -> None:
    def handler(call: Call, deps: Deps) -> HttpResponse:
        def step() -> None:
            raise error

        interpret(step)
        return HttpResponse.json(200, {})

    app = create_app(HttpSettings.from_env(), routes=[Route("GET", "/x", handler, "x", "X")])
    response = app(_request("GET", "/x", headers=list(bearer().items())))
    assert response.status == status and json.loads(response.body)["type"].endswith(slug)


# --- the idempotency step: a plain function with named arguments ---------------------------------------


def _once_inputs(key: str | None, canonical: dict[str, Any], store: MemoryStore, dedupe: int = 60) -> tuple:
    headers = [("Idempotency-Key", key)] if key is not None else []
    call = Call(_request("POST", "/push", headers=headers), {}, Principal("tenant-a", "api-key"), {}, {})
    guard = IdempotencyGuard(store, function_name="http_push")
    settings = HttpSettings(dedupe_seconds=dedupe)
    deps = Deps(
        settings,
        client=_unused,
        app_key=_unused,
        guard=lambda: guard,
        templates=_unused,
    )
    return call, deps


def _unused() -> Any:
    raise AssertionError("the idempotency step reads only the settings and the guard")


@pytest.mark.parametrize("key", ["order-42", '"quoted key"', None])
def test_once_sends_once_and_replays_the_stored_answer(key: str | None) -> None:
    store, sent = MemoryStore(), []

    def send(token: str | None) -> dict[str, Any]:
        sent.append(token)
        return {"status": 202, "body": {"messageId": f"m{len(sent)}"}}

    answers = []
    for _ in range(3):
        call, deps = _once_inputs(key, {"Title": "Hi"}, store)
        answers.append(once(call, deps, {"Title": "Hi"}, send))
        expected = fingerprint({"Title": "Hi"}) if key is None else key.strip('"')
        assert call.log == {"key": mask(expected), "replayed": bool(answers[1:])}
    assert len(sent) == 1 and sent[0]  # the guard's token, for CloudPush to dedupe on
    assert [a.status for a in answers] == [202, 202, 202]
    assert [REPLAYED in a.headers for a in answers] == [False, True, True]
    assert len({a.body for a in answers}) == 1


def test_once_with_a_reused_key_and_another_request_is_422() -> None:
    store = MemoryStore()
    call, deps = _once_inputs("k1", {"Title": "Hi"}, store)
    once(call, deps, {"Title": "Hi"}, lambda token: {"status": 202, "body": {}})
    call, deps = _once_inputs("k1", {"Title": "Other"}, store)
    with pytest.raises(HttpProblem) as exc:
        once(call, deps, {"Title": "Other"}, lambda token: {"status": 202, "body": {}})
    assert (exc.value.status, exc.value.slug) == (422, "idempotency-key-reused")


def test_once_without_key_or_dedupe_window_never_builds_the_guard() -> None:
    call, _ = _once_inputs(None, {}, MemoryStore())
    deps = Deps(HttpSettings(dedupe_seconds=0), client=_unused, app_key=_unused, guard=_unused, templates=_unused)
    answer = once(call, deps, {"Title": "Hi"}, lambda token: {"status": 202, "body": {"token": token}})
    assert (answer.status, json.loads(answer.body)) == (202, {"token": None})


@pytest.mark.parametrize("keyword", ["replay", "scope", "expires_after_seconds", "idempotency_key", "_"])
def test_once_refuses_keywords_it_does_not_name(keyword: str) -> None:
    call, deps = _once_inputs("k", {}, MemoryStore())
    with pytest.raises(TypeError, match=keyword):
        once(call, deps, {}, lambda token: {"status": 202, "body": {}}, **{keyword: 1})


def test_push_routes_are_in_the_table_with_their_handlers() -> None:
    by_id = {route.operation_id: route for route in ROUTES}
    assert by_id["push"].body == "PushBody" and by_id["massPush"].body == "MassPush"
    assert by_id["health"].public and by_id["openapi"].public
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", name) for name in by_id)
