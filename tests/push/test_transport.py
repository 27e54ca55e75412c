"""The transports over real loopback sockets: keep-alive reuse, reopening only what was certainly not sent,
timeouts, TLS with a CA bundle from the settings, proxies, the ``requests`` alternative, and a light import.

TLS certificates come from a throwaway CA made by ``trustme``; the proxy and the relay are the
TEST-ONLY stand-ins of ``net_support`` (labelled there).
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st
from tests.support import fresh_python

from pushfn.emulator import Emulator
from pushfn.push import (
    NO_RETRY,
    AmbiguousResponseError,
    ConfigurationError,
    ConnectError,
    PushClient,
    StaticCredentials,
    Timeout,
    signing,
)
from pushfn.push.transport import RequestsTransport, StdlibTransport, transport_from_settings
from pushfn.settings import Settings, SettingsError

from .net_support import MiniProxy, TcpRelay

DEVICE = "e2ba19de97604f55b165576736477b74"
NOTICE = {
    "Target": "DEVICE",
    "TargetValue": DEVICE,
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Hello",
    "Body": "From the transport tests",
}
ROOT = Path(__file__).resolve().parents[2]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ssl.SSLContext]:
    """(CA bundle path, server TLS context for 127.0.0.1 signed by that CA)."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca_path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    return str(ca_path), server


@pytest.fixture(scope="module")
def _tls_emulator(tls_files: tuple[str, ssl.SSLContext]) -> Iterator[Emulator]:
    with Emulator(host="127.0.0.1", port=0, ssl_context=tls_files[1]) as emulator:
        yield emulator


@pytest.fixture
def tls_emulator(_tls_emulator: Emulator) -> Emulator:
    _tls_emulator.reset()
    return _tls_emulator


def _client(emulator: Emulator, settings: Settings | None = None, **overrides: object) -> PushClient:
    kwargs: dict[str, object] = {
        "endpoint": emulator.url,
        "app_key": emulator.settings.app_keys[0],
        "credentials": StaticCredentials(emulator.settings.access_key_id, emulator.settings.access_key_secret),
        "timeout": Timeout(connect=2.0, read=5.0),
        "retry": NO_RETRY,
        **overrides,
    }
    # No INI file: only what the test gives counts.
    settings = (settings or Settings()).replace(pushfn_config_file=str(ROOT / "no-such-config.ini"))
    return PushClient.from_settings(settings, **kwargs)


def _port_with_nothing_listening() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the default and keep-alive ---------------------------------------------------------------


def test_the_default_transport_is_the_stdlib_one(emulator) -> None:
    with _client(emulator) as client:
        assert isinstance(client._transport, StdlibTransport)
        assert client.push(NOTICE).message_id
    assert len(emulator.pushes()) == 1


def test_keep_alive_reuses_one_connection(emulator) -> None:
    relay = TcpRelay(emulator.port)
    try:
        with _client(emulator, endpoint=f"http://127.0.0.1:{relay.port}") as client:
            for _ in range(5):
                client.push(NOTICE)
        assert relay.connections == 1
        assert len(emulator.pushes()) == 5
    finally:
        relay.stop()


def test_threads_each_get_a_connection_and_share_them_after(emulator) -> None:
    relay = TcpRelay(emulator.port)
    try:
        with _client(emulator, endpoint=f"http://127.0.0.1:{relay.port}") as client:
            errors: list[BaseException] = []

            def work() -> None:
                try:
                    for _ in range(5):
                        client.push(NOTICE)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=work) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            opened = relay.connections
            assert 0 < opened <= 8  # never more connections than concurrent requests
            client.push(NOTICE)
            assert relay.connections == opened  # an idle pooled connection was reused
        assert len(emulator.pushes()) == 41
    finally:
        relay.stop()


def test_a_connection_the_server_closed_while_idle_is_reopened_and_pushes_once(emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="pushfn.push.transport")
    relay = TcpRelay(emulator.port)
    try:
        # No token and no retries: only the transport itself could send the push again.
        with _client(emulator, endpoint=f"http://127.0.0.1:{relay.port}", auto_idempotent_token=False) as client:
            client.push(NOTICE)
            relay.close_client_connections()  # the server's keep-alive timeout
            result = client.push(NOTICE)
        assert relay.connections == 2
        pushes = emulator.pushes()
        assert len(pushes) == 2 and pushes[1]["message_id"] == result.message_id
    finally:
        relay.stop()
    assert "closed by the server" in caplog.text
    assert DEVICE not in caplog.text and "?" not in caplog.text  # the origin only, never the query


def test_a_reused_connection_that_fails_while_writing_is_resent_once_on_a_fresh_one(emulator) -> None:
    relay = TcpRelay(emulator.port)
    try:
        with _client(emulator, endpoint=f"http://127.0.0.1:{relay.port}", auto_idempotent_token=False) as client:
            client.push(NOTICE)
            transport = client._transport
            (idle,) = [c for conns in transport._idle.values() for c in conns]
            # Our own side can no longer write, yet nothing is readable: the liveness check passes and
            # the write fails, so the request never left whole.
            idle.sock.shutdown(socket.SHUT_WR)
            client.push(NOTICE)
        assert relay.connections == 2
        assert len(emulator.pushes()) == 2  # exactly one push per call
    finally:
        relay.stop()


class _AnswersOnceThenHangsUp(BaseHTTPRequestHandler):
    """Answers the first request of the server; reads every later one whole and closes without answering."""

    protocol_version = "HTTP/1.1"
    requests_seen = 0

    def do_POST(self) -> None:
        type(self).requests_seen += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if type(self).requests_seen > 1:
            self.close_connection = True
            return
        body = json.dumps({"RequestId": "r1", "MessageId": "1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_hang_up_after_the_request_was_written_is_ambiguous_and_never_resent() -> None:
    handler = type("Handler", (_AnswersOnceThenHangsUp,), {"requests_seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = PushClient(
            endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            app_key=1,
            credentials=StaticCredentials("a", "b"),
            retry=NO_RETRY,
            auto_idempotent_token=False,
        )
        assert client.push(NOTICE).message_id == "1"
        with pytest.raises(AmbiguousResponseError) as info:
            client.push(NOTICE)  # on the reused connection: written whole, then the server hung up
        assert info.value.maybe_sent and info.value.retryable
        assert handler.requests_seen == 2  # the transport did not send it again
        client.close()
    finally:
        server.shutdown()
        server.server_close()


# --- failures ---------------------------------------------------------------------------------


def test_read_timeout_is_ambiguous_and_maybe_sent(emulator) -> None:
    emulator.add_fault("latency", count=1, latency_ms=1500)
    with (
        _client(emulator, timeout=Timeout(connect=2.0, read=0.3), auto_idempotent_token=False) as client,
        pytest.raises(AmbiguousResponseError, match=r"no answer within 0\.3 s") as info,
    ):
        client.push(NOTICE)
    assert info.value.maybe_sent


def test_connection_refused_is_a_connect_error_never_sent() -> None:
    from pushfn.push import PreparedRequest

    transport = StdlibTransport()
    request = PreparedRequest("POST", f"http://127.0.0.1:{_port_with_nothing_listening()}/?a=b", {}, b"", "Push")
    with pytest.raises(ConnectError, match="could not connect") as info:
        transport.send(request, Timeout(connect=1.0, read=1.0))
    assert not info.value.maybe_sent and info.value.retryable


# --- TLS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["ssl_cert_file", "requests_ca_bundle"])
@pytest.mark.parametrize("transport", ["stdlib", "requests"])
def test_https_with_the_ca_bundle_from_the_settings(tls_emulator, tls_files, variable: str, transport: str) -> None:
    assert tls_emulator.url.startswith("https://")
    env = {variable.upper(): tls_files[0], "PUSH_TRANSPORT": transport}
    with _client(tls_emulator, Settings.from_env(env), signature_version="v3") as client:
        assert client.push(NOTICE).message_id
        assert client.push(NOTICE).message_id
    assert len(tls_emulator.pushes()) == 2


def test_https_without_the_ca_is_a_connect_error_and_nothing_is_pushed(tls_emulator) -> None:
    with _client(tls_emulator) as client, pytest.raises(ConnectError, match="TLS handshake failed") as info:
        client.push(NOTICE)
    assert "SSLCertVerificationError: unable to get local issuer certificate" in str(info.value)
    assert not info.value.maybe_sent
    assert tls_emulator.pushes() == []


def test_a_ca_bundle_replaces_the_system_cas_and_without_one_the_system_store_is_trusted(tls_files) -> None:
    """With ``SSL_CERT_FILE`` the one TLS context trusts exactly the bundle's CAs — the system store is
    not loaded as well (as ``requests`` with ``verify=``; loading its ~140 CAs would cost memory and
    time on every cold start); without it, the system's default CAs, as ``ssl`` loads them."""
    bundle = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    bundle.load_verify_locations(tls_files[0])
    with_bundle = transport_from_settings(Settings.from_env({"SSL_CERT_FILE": tls_files[0]}))._context()
    assert with_bundle.get_ca_certs() == bundle.get_ca_certs() and len(bundle.get_ca_certs()) == 1
    assert with_bundle.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 1}
    assert with_bundle.verify_mode == ssl.CERT_REQUIRED and with_bundle.check_hostname
    system = transport_from_settings(Settings.from_env({}))._context()
    assert system.cert_store_stats() == ssl.create_default_context().cert_store_stats()
    assert bundle.get_ca_certs()[0] not in system.get_ca_certs()
    assert system.verify_mode == ssl.CERT_REQUIRED and system.check_hostname


def test_a_missing_ca_bundle_is_a_configuration_error_naming_the_setting(tls_emulator, tmp_path) -> None:
    settings = Settings.from_env({"SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    with _client(tls_emulator, settings) as client, pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        client.push(NOTICE)


# --- proxies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["stdlib", "requests"])
def test_https_goes_through_the_proxy_as_a_connect_tunnel(tls_emulator, tls_files, transport: str) -> None:
    proxy = MiniProxy("pushfn", "p@ss word")
    try:
        settings = Settings.from_env(
            {
                "HTTPS_PROXY": f"http://pushfn:p%40ss%20word@127.0.0.1:{proxy.port}",
                "SSL_CERT_FILE": tls_files[0],
                "PUSH_TRANSPORT": transport,
            }
        )
        with _client(tls_emulator, settings) as client:
            client.push(NOTICE)
            client.push(NOTICE)
        (line,) = proxy.requests  # one tunnel, kept alive for both pushes
        assert line.startswith(f"CONNECT 127.0.0.1:{tls_emulator.port} HTTP/1.")
        assert len(tls_emulator.pushes()) == 2
    finally:
        proxy.stop()


def test_a_proxy_refusing_the_credentials_is_a_connect_error(tls_emulator, tls_files) -> None:
    proxy = MiniProxy("pushfn", "right")
    try:
        settings = Settings.from_env(
            {"HTTPS_PROXY": f"http://pushfn:wrong@127.0.0.1:{proxy.port}", "SSL_CERT_FILE": tls_files[0]}
        )
        with _client(tls_emulator, settings) as client, pytest.raises(ConnectError, match="407") as info:
            client.push(NOTICE)
        assert not info.value.maybe_sent and "wrong" not in str(info.value)
        assert tls_emulator.pushes() == []
    finally:
        proxy.stop()


def test_plain_http_goes_through_the_http_proxy(emulator) -> None:
    proxy = MiniProxy()
    try:
        with _client(emulator, Settings.from_env({"HTTP_PROXY": f"127.0.0.1:{proxy.port}"})) as client:
            client.push(NOTICE)
        (line,) = proxy.requests
        assert line.startswith(f"POST http://127.0.0.1:{emulator.port}/?") and line.endswith(" HTTP/1.1")
        assert len(emulator.pushes()) == 1
    finally:
        proxy.stop()


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.1", "127.0.0.1:{port}"])
def test_no_proxy_hosts_are_reached_directly(emulator, no_proxy: str) -> None:
    proxy = MiniProxy()
    try:
        env = {"HTTP_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": no_proxy.format(port=emulator.port)}
        with _client(emulator, Settings.from_env(env)) as client:
            client.push(NOTICE)
        assert proxy.requests == []
        assert len(emulator.pushes()) == 1
    finally:
        proxy.stop()


@pytest.mark.parametrize("value", ["https://proxy:3128", "socks5://proxy:1080", "http://proxy:99999", "http://:80"])
def test_unsupported_proxy_urls_are_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="HTTPS_PROXY") as info:
        Settings.from_env({"HTTPS_PROXY": value})
    assert "proxy" in str(info.value).lower()


def test_proxy_credentials_never_show_in_settings_repr() -> None:
    settings = Settings.from_env({"HTTPS_PROXY": "http://user:secret@127.0.0.1:3128"})
    assert "secret" not in repr(settings)


# --- requests stays selectable --------------------------------------------------------------------


def test_push_transport_requests_selects_requests(emulator) -> None:
    with _client(emulator, Settings.from_env({"PUSH_TRANSPORT": "requests"})) as client:
        assert isinstance(client._transport, RequestsTransport)
        assert client.push(NOTICE).message_id
    assert len(emulator.pushes()) == 1


def test_push_transport_rejects_other_values() -> None:
    with pytest.raises(SettingsError, match="PUSH_TRANSPORT"):
        Settings.from_env({"PUSH_TRANSPORT": "httpx"})


# --- signing: one encoding pass ---------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@given(st.dictionaries(_TEXT.filter(bool), _TEXT, max_size=8))
def test_the_one_pass_string_to_sign_equals_the_two_pass_definition(params: dict[str, str]) -> None:
    canonical = signing.canonical_query(params)
    assert signing.rpc_string_to_sign_canonical("POST", canonical) == (f"POST&%2F&{signing.percent_encode(canonical)}")


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_the_signed_url_query_decodes_to_the_signed_parameters(version: str) -> None:
    client = PushClient(
        endpoint="http://127.0.0.1:1", app_key=1, credentials=StaticCredentials("id", "sec"), signature_version=version
    )
    prepared = client.prepare("Push", {**NOTICE, "Title": "a b*c~d/e+f & ü=%"})
    params = {k: v[0] for k, v in parse_qs(urlsplit(prepared.url).query, keep_blank_values=True).items()}
    assert params["Title"] == "a b*c~d/e+f & ü=%"
    if version == "v2":
        assert signing.sign_rpc_v2("POST", params, "sec") == params["Signature"]


# --- cold import ------------------------------------------------------------------------------------


def test_importing_the_client_loads_no_http_library_nor_heavy_modules() -> None:
    heavy = (
        "requests",
        "urllib3",
        "pydantic",
        "pydantic_core",
        "pushfn.push.models",
        "http.client",
        "ssl",
        "dataclasses",
        "inspect",
        "typing",
        "uuid",
        "platform",
        "random",
        "configparser",
    )
    code = f"import sys, pushfn.push.client; print([m for m in {heavy!r} if m in sys.modules])"
    assert fresh_python(code).strip() == "[]"
