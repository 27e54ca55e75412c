"""Safe by default: the local routes' rules (peer, Host, Origin, Content-Type), bad payloads, inbox files, CLI."""

from __future__ import annotations

import http.client
import json
import socket

import pytest
from emulator_support import notice

from pushfn.cli import main
from pushfn.emulator import Emulator, EmulatorError
from pushfn.emulator.server import LOOPBACK_NAMES, check_local_request, host_name


def _raw(emu: Emulator, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", "[::2]:1", "", "a:b"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/_emulator/pushes"), ("GET", "/"), ("GET", "/_emulator/calls")])
def test_foreign_host_is_refused_with_421(emu, host, method, path) -> None:
    status, headers, body = _raw(emu, method, path, Host=host)
    assert status == 421 and headers["Content-Type"].startswith("application/json") and json.loads(body)["error"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:1234", "LOCALHOST", "[::1]:9100"])
def test_loopback_host_names_are_accepted(emu, host) -> None:
    assert _raw(emu, "GET", "/_emulator/health", Host=host)[0] == 200


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://127.0.0.1", "http://127.0.0.1:1", "http://localhost.evil.com"]
)
def test_foreign_origin_is_refused_with_403(emu, origin) -> None:
    emu.register_device("d1")
    body = b'{"keep_devices": false}'
    status, _, answer = _raw(emu, "POST", "/_emulator/reset", body, Content_Type="application/json", Origin=origin)
    assert status == 403 and "Origin" in json.loads(answer)["error"]
    assert _raw(emu, "GET", "/_emulator/pushes", Origin=origin)[0] == 403
    assert emu.devices() != []  # nothing was reset


def test_same_origin_is_accepted(emu) -> None:
    status, _, _ = _raw(
        emu, "POST", "/_emulator/reset", b"{}", Content_Type="application/json", Origin=f"http://127.0.0.1:{emu.port}"
    )
    assert status == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
@pytest.mark.parametrize(
    ("method", "route"), [("POST", "reset"), ("POST", "devices"), ("POST", "faults"), ("DELETE", "faults")]
)
def test_state_changing_control_requests_need_json(emu, content_type, method, route) -> None:
    emu.register_device("keep-me")
    headers = {"Content_Type": content_type} if content_type else {}
    status, _, answer = _raw(emu, method, f"/_emulator/{route}", b'{"kind": "drop"}', **headers)
    assert status == 415 and "application/json" in json.loads(answer)["error"]
    assert emu.devices() != [] and emu.state.faults.list() == []


@pytest.mark.parametrize(
    ("peer", "refused"),
    [("127.0.0.1", False), ("::1", False), ("::ffff:127.0.0.1", False), ("192.0.2.7", True), ("fd00::1", True),
     ("::ffff:10.0.0.1", True), (None, True), ("garbage", True)],
)  # fmt: skip
def test_non_loopback_peer_is_refused(peer, refused) -> None:
    # Function level: this machine has no non-loopback peer the suite may use.
    refusal = check_local_request(peer, "GET", "127.0.0.1:9100", None, None, LOOPBACK_NAMES, 9100)
    assert (refusal is not None) is refused
    if refused:
        assert refusal.status == 403 and "loopback" in refusal.error


def test_rules_apply_in_order_and_the_configured_host_counts() -> None:
    allowed = LOOPBACK_NAMES | {"192.0.2.1"}
    assert check_local_request("127.0.0.1", "POST", "192.0.2.1:9100", None, "application/json", allowed, 9100) is None
    assert check_local_request("127.0.0.1", "POST", "evil", "http://evil", "text/plain", allowed, 9100).status == 421
    assert (
        check_local_request("127.0.0.1", "POST", "localhost", "http://evil", "text/plain", allowed, 9100).status == 403
    )
    refusal = check_local_request("127.0.0.1", "POST", "localhost", None, "application/json; charset=utf-8", allowed, 1)
    assert refusal is None
    assert host_name("[::1]:80") == "::1" and host_name("[::1") is None and host_name("Example.COM:8") == "example.com"


@pytest.mark.parametrize(
    "body",
    [
        b'{"device_id": "d", "app_key": 1e999}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"device_id": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}",
        b'{"device_id": 5}',
        b'{"device_id": "d", "app_key": "23267207"}',
        b'{"device_id": "d", "app_key": true}',
        b'{"device_id": "d", "aliases": 7}',
        b'{"device_id": "d", "aliases": [1, 2]}',
        b'{"device_id": "d", "online": "yes"}',
        b'{"device_id": "d", "account": ["a"]}',
        b'"just a string"',
        b"\xff\xfe",
        b'{"device_id": "\\ud800"}',
        b"{nope",
        b"[1, 2]",
    ],
)
def test_bad_device_payloads_are_json_400(emu, body) -> None:
    status, headers, answer = _raw(emu, "POST", "/_emulator/devices", body, Content_Type="application/json")
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert json.loads(answer)["error"]
    assert emu.devices() == []


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("faults", b'{"kind": "latency", "latency_ms": 1e999}'),
        ("faults", b'{"kind": "drop", "count": true}'),
        ("faults", b'{"kind": "drop", "count": "3"}'),
        ("faults", b'{"kind": "drop", "rate": "1"}'),
        ("faults", b'{"kind": "drop", "actions": [1]}'),
        ("faults", b'{"kind": 7}'),
        ("faults", b'{"kind": "drop", "rate": 2}'),
        ("faults", b"[]"),
        ("reset", b'{"keep_devices": "yes"}'),
        ("reset", b'{"keep": true}'),
        ("reset", b"[]"),
    ],
)
def test_bad_fault_and_reset_payloads_are_json_400(emu, route, body) -> None:
    emu.register_device("d1")
    status, _, answer = _raw(emu, "POST", f"/_emulator/{route}", body, Content_Type="application/json")
    assert status == 400 and json.loads(answer)["error"]
    assert emu.state.faults.list() == [] and len(emu.devices()) == 1


@pytest.mark.parametrize(
    "actions",
    [["push"], ["Nope"], [], [""], "Push,Nope", "", ["Push", "Push2"], ["Push", 7]],
)  # fmt: skip
def test_a_fault_for_an_action_never_answered_is_json_400(emu, actions) -> None:
    # Such a fault would never fire: a silent no-op the developer would take for a passing test.
    body = json.dumps({"kind": "drop", "actions": actions}).encode()
    status, _, answer = _raw(emu, "POST", "/_emulator/faults", body, Content_Type="application/json")
    assert status == 400 and "action" in json.loads(answer)["error"] and emu.state.faults.list() == []
    with pytest.raises(EmulatorError, match="action"):
        emu.add_fault("drop", actions=actions)


def test_fault_actions_may_be_one_comma_separated_string(emu) -> None:
    body = b'{"kind": "drop", "actions": "Push, MassPush"}'
    status, _, answer = _raw(emu, "POST", "/_emulator/faults", body, Content_Type="application/json")
    assert status == 200 and json.loads(answer)["fault"]["actions"] == ["MassPush", "Push"]


def test_two_origin_headers_are_refused(emu) -> None:
    same = f"http://127.0.0.1:{emu.port}"
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.putrequest("POST", "/_emulator/faults")
        for name, value in (("Origin", same), ("Origin", "http://evil.example"), ("Content-Type", "application/json")):
            connection.putheader(name, value)
        connection.putheader("Content-Length", "16")
        connection.endheaders(b'{"kind": "drop"}')
        response = connection.getresponse()
        assert response.status == 403 and "Origin" in json.loads(response.read())["error"]
    finally:
        connection.close()
    assert emu.state.faults.list() == []


@pytest.mark.parametrize("device_id", [" d1", "d1 ", "a,b", "   ", "\t"])
def test_a_device_id_no_push_could_name_is_json_400(emu, device_id) -> None:
    # TargetValue separates ids with commas and trims each one: such a device could never be reached.
    body = json.dumps({"device_id": device_id}).encode()
    status, _, answer = _raw(emu, "POST", "/_emulator/devices", body, Content_Type="application/json")
    assert status == 400 and "device_id" in json.loads(answer)["error"] and emu.devices() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", " bob"),
        ("account", "bob\n"),
        ("account", "a,b"),
        ("account", " "),
        ("account", "\u2028"),
        ("aliases", ["a,b"]),
        ("tags", ["t" * 129]),
        ("account", "a" * 65),
        ("account", "账" * 22),  # 66 bytes of UTF-8
        ("aliases", ["a" * 129]),
    ],
)
def test_an_account_alias_or_tag_no_push_could_name_is_json_400(emu, field, value) -> None:
    # The device_id rule's kind: ACCOUNT/ALIAS TargetValues are trimmed comma lists and a TAG names at
    # most 128 characters, so such a registration was accepted and then never reached by any push.
    body = json.dumps({"device_id": "d1", field: value}).encode()
    status, _, answer = _raw(emu, "POST", "/_emulator/devices", body, Content_Type="application/json")
    assert status == 400 and field in json.loads(answer)["error"] and emu.devices() == []
    with pytest.raises(EmulatorError, match=field):
        emu.register_device("d1", **{field: value})
    assert emu.devices() == []


def test_a_nameable_account_alias_and_tag_are_registered_and_reached(emu, api) -> None:
    emu.register_device("d1", account="b" * 64, aliases=["x y", "a" * 128], tags=["t" * 128])
    for target, value in (("ACCOUNT", "b" * 64), ("ALIAS", "x y"), ("ALIAS", "a" * 128), ("TAG", "t" * 128)):
        assert api.v2("Push", notice(Target=target, TargetValue=value)).status_code == 200
    assert [p["devices"] for p in emu.pushes()] == [["d1"]] * 4


@pytest.mark.parametrize(
    "names",
    [
        {"device_id": "d\ud800"},
        {"device_id": "d", "account": "\udfff"},
        {"device_id": "d", "aliases": ["a\ud800"]},
        {"device_id": "d", "tags": "t,\ud800"},
    ],
)
def test_python_api_refuses_names_that_are_not_text(emu, names) -> None:
    # A lone surrogate could never be answered as JSON (GET /_emulator/devices would then fail for everyone).
    with pytest.raises(EmulatorError, match="surrogate"):
        emu.register_device(**names)
    assert emu.devices() == [] and _raw(emu, "GET", "/_emulator/devices")[0] == 200


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("log_requests", [True, False])
def test_a_body_that_cannot_be_decoded_is_json_400_and_no_traceback(capsys, log_requests) -> None:
    head = b"Host: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Encoding: gzip\r\n"
    with Emulator(log_requests=log_requests) as emu:
        for path in (b"/_emulator/devices", b"/?Action=Push"):
            answer = _exchange(emu.port, b"POST " + path + b" HTTP/1.1\r\n" + head + b"Content-Length: 5\r\n\r\nabcde")
            status_line, _, body = answer.partition(b"\r\n")
            assert status_line.endswith(b" 400 Bad Request") and b"application/json" in answer
            assert "gzip" in json.loads(body.split(b"\r\n\r\n", 1)[1])["error"]
        # Malformed framing is aiohttp's own 400 (before any route): still an answer, and no traceback.
        bad_chunk = b"POST /_emulator/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        assert _exchange(emu.port, bad_chunk).startswith(b"HTTP/1.0 400")
        assert emu.devices() == []
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if log_requests:
        assert err and all(line.startswith("emulator: ") for line in err.splitlines())
    else:
        assert err == ""


@pytest.mark.parametrize("query", ["app_key=abc", "app_key=-1", "app_key=1", "app_key=%FF", "appkey=1"])
def test_bad_control_query_is_json_400(emu, query) -> None:
    status, _, answer = _raw(emu, "GET", f"/_emulator/devices?{query}")
    assert status == 400 and json.loads(answer)["error"]


@pytest.mark.parametrize(
    ("route", "query"),
    [("pushes", "devcie=d1"), ("pushes", "since=1&offset=2"), ("calls", "text=x"), ("events", "last=3"),
     ("health", "x"), ("faults", "kind=drop")],
)  # fmt: skip
def test_an_unknown_query_name_is_json_400_not_ignored(emu, route, query) -> None:
    # Ignored, a typo would answer every entry as if it had filtered them.
    status, _, answer = _raw(emu, "GET", f"/_emulator/{route}?{query}")
    assert status == 400 and "unknown query parameters" in json.loads(answer)["error"]


@pytest.mark.parametrize(
    ("route", "query", "named"),
    [("pushes", "device=a&device=b", "device"), ("calls", "limit=1&limit=2", "limit"),
     ("calls", "status=sent&q=x&status=refused", "status"), ("events", "since=1&since=2", "since"),
     ("devices", "app_key=1&app_key=", "app_key")],
)  # fmt: skip
def test_a_query_name_given_twice_is_json_400_not_the_last_one_silently(emu, route, query, named) -> None:
    # ?device=a&device=b answered the pushes of b alone, as if a had never been asked for.
    status, _, answer = _raw(emu, "GET", f"/_emulator/{route}?{query}")
    error = json.loads(answer)["error"]
    assert status == 400 and f"['{named}']" in error and "more than once" in error


def test_index_and_static_files_have_their_types(emu) -> None:
    status, headers, body = _raw(emu, "GET", "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8" and b"<html" in body.lower()
    assert headers["X-Content-Type-Options"] == "nosniff"
    from pushfn.emulator.server import STATIC_DIR, STATIC_TYPES

    for path in sorted(STATIC_DIR.iterdir()):
        status, headers, body = _raw(emu, "GET", f"/static/{path.name}")
        assert status == 200 and headers["Content-Type"] == STATIC_TYPES[path.suffix] and body == path.read_bytes()
    for missing in (
        "/static/nope.js",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/.hidden.js",
        "/static/x.py",
    ):
        status, headers, _ = _raw(emu, "GET", missing)
        assert status == 404 and headers["Content-Type"].startswith("application/json"), missing


def test_inbox_and_static_answer_only_loopback_hosts(emu) -> None:
    assert _raw(emu, "GET", "/", Host="attacker.example")[0] == 421
    assert _raw(emu, "GET", "/static/index.html", Host="attacker.example")[0] == 421
    assert _raw(emu, "GET", "/static/index.html", Origin="http://attacker.example")[0] == 403


def test_api_is_not_subject_to_the_local_rules(api, emu) -> None:
    # The API is signed: a foreign Host (a real client may use a name) is still served.
    response = api.v2("Push", notice())
    assert response.status_code == 200
    status, _, _ = _raw(emu, "POST", "/?Action=Push", b"", Host="push.example")
    assert status == 400  # reached the API (a missing Version), not a 421


def test_non_loopback_bind_needs_allow_remote() -> None:
    for host in ("0.0.0.0", "", "::", "192.0.2.7"):
        with pytest.raises(EmulatorError, match="--allow-remote"):
            Emulator(host=host)
    Emulator(host="0.0.0.0", allow_remote=True)  # constructed, never started: the suite stays on loopback
    Emulator(host="localhost")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pushfn: "), err
    return lines[0]


def test_cli_port_in_use_is_one_line_exit_2(capsys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["emulator", "--port", str(s.getsockname()[1])]) == 2
    assert "--port" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("port", ["65536", "-1", "99999999999999999999", "http"])
def test_cli_port_out_of_range_is_one_line_exit_2(capsys, port) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["emulator", f"--port={port}"])
    assert exit_info.value.code == 2
    assert "port" in _one_error_line(capsys.readouterr().err)


def test_cli_remote_host_without_allow_remote_is_one_line_exit_2(capsys) -> None:
    assert main(["emulator", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("value", ["0", "x", "-5"])
def test_cli_bad_ring_size_is_one_line_exit_2(capsys, value) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["emulator", f"--ring-size={value}"])
    assert exit_info.value.code == 2 and "ring-size" in _one_error_line(capsys.readouterr().err)


def test_cli_unusable_store_is_one_line_exit_2(capsys, tmp_path) -> None:
    assert main(["emulator", "--port", "0", "--store", str(tmp_path / "no" / "such" / "dir.sqlite")]) == 2
    assert "--store" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("host", ["127.1", "0x7f.1", "2130706433", "127.0.0.2", "LocalHost", "::ffff:127.0.0.1"])
def test_loopback_in_any_spelling_needs_no_allow_remote_and_serves(host) -> None:
    """``Emulator(host="127.1")`` binds 127.0.0.1 but was refused as reachable from the network (so was
    every IPv4 shorthand the resolver takes, and ``::ffff:127.0.0.1``, which the peer check already called
    loopback): whether a host is loopback is what it resolves to."""
    from pushfn.emulator.app import remote_warning

    assert remote_warning(host) is None
    with Emulator(host=host) as emu:
        emu.register_device("d1")
        with emu.client() as client:
            client.push(notice(Target="DEVICE", TargetValue="d1"))
        connection = http.client.HTTPConnection(host, emu.port, timeout=10)
        connection.request("GET", "/_emulator/pushes")
        answer = connection.getresponse()
        assert answer.status == 200 and len(json.loads(answer.read())["pushes"]) == 1
        connection.close()


def test_a_host_that_does_not_resolve_is_a_bind_error_not_a_remote_one() -> None:
    emulator = Emulator(host="locahost")  # a typo: no address of any machine, so no --allow-remote question
    with pytest.raises(OSError):
        emulator.start()


def test_an_https_emulator_accepts_its_own_pages_origin_and_no_http_one(tmp_path) -> None:
    """Serving TLS, the inbox's own POSTs (Origin: https://127.0.0.1:<port>) were refused as cross-origin,
    so its registry form and clear button failed, while Origin: http://… on that port (no page of
    this server) was let through."""
    import ssl

    import requests
    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with Emulator(ssl_context=context) as emu, requests.Session() as session:
        session.verify = str(tmp_path / "ca.pem")
        session.trust_env = False
        own = session.post(f"{emu.url}/_emulator/devices", json={"device_id": "d1"}, headers={"Origin": emu.url})
        assert own.status_code == 200 and [d["device_id"] for d in emu.devices()] == ["d1"]
        for origin in (emu.url.replace("https://", "http://"), "https://127.0.0.1", "https://evil.example"):
            answer = session.post(f"{emu.url}/_emulator/reset", json={}, headers={"Origin": origin})
            assert answer.status_code == 403 and "Origin" in answer.json()["error"], origin
        assert len(emu.devices()) == 1
    assert (
        check_local_request("127.0.0.1", "GET", "localhost", "https://localhost", None, LOOPBACK_NAMES, 443, "https")
        is None
    )


@pytest.mark.parametrize(
    "odd",
    [{"aliases": 5}, {"tags": 5.5}, {"aliases": {"a": 1}}, {"account": 5}, {"online": "no"}, {"online": None},
     {"app_key": "x"}, {"app_key": True}, {"app_key": 23267207.0}],
)  # fmt: skip
def test_python_api_register_device_refuses_wrong_types_as_the_control_api_does(emu, odd) -> None:
    # online="no" registered an online device (bool("no")), app_key=23267207.0 and True were int()-ed,
    # aliases=5 and account=5 escaped as TypeError, app_key="x" as ValueError.
    with pytest.raises(EmulatorError, match=next(iter(odd))):
        emu.register_device("d1", **odd)
    assert emu.devices() == []


@pytest.mark.parametrize(
    "odd", [{"count": True}, {"rate": "0.5"}, {"rate": True}, {"latency_ms": True}, {"count": False}]
)  # fmt: skip
def test_python_api_add_fault_refuses_bools_and_strings_for_numbers(emu, odd) -> None:
    # count=True became a fault "remaining": true, rate="0.5" and True were float()-ed, latency_ms=True kept.
    with pytest.raises(EmulatorError, match=next(iter(odd))):
        emu.add_fault("latency", **odd)
    assert emu.state.faults.list() == []


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"access_key_secret": "s\udcff"}, "access_key_secret"),
        ({"access_key_id": "k\udcff"}, "access_key_id"),
        ({"access_key_id": 5}, "access_key_id"),
        ({"access_key_secret": b"testsecret"}, "access_key_secret"),
        ({"access_key_id": "id\n"}, "access_key_id"),
        ({"security_tokens": {"sts": ("sec\udcff", "tok")}}, "secret of security_tokens"),
        ({"security_tokens": {"sts": ("sec", "t\udcff")}}, "token of security_tokens"),
        ({"security_tokens": {"sts": ("sec", None)}}, "token of security_tokens"),
        ({"security_tokens": {"sts": "ab"}}, "pair"),
        ({"security_tokens": {"testid": ("sec", "tok")}}, "permanent"),
        ({"security_tokens": [("sts", "sec", "tok")]}, "security_tokens"),
    ],
)
def test_python_api_refuses_keys_no_request_could_use(keywords, named) -> None:
    # A lone surrogate in a secret or token made every request signed with it a 500 (UnicodeEncodeError);
    # 5 or b"…" made a key no request matches; "ab" was unpacked as secret "a", token "b".
    with pytest.raises(EmulatorError, match=named) as raised:
        Emulator(**keywords)
    assert "sec" not in str(raised.value).replace("security_tokens", "").replace("secret", "")
    assert "tok" not in str(raised.value).replace("token", "").replace("security_tokens", "")
