"""Loopback network helpers for the transport tests: a counting TCP relay and a minimal proxy.

Both are TEST-ONLY stand-ins built on the standard library's ``socketserver`` (no proxy package is a
dependency): :class:`TcpRelay` forwards bytes to one loopback target and counts the connections it
accepts (and can close every idle client connection, as a server's keep-alive timeout does);
:class:`MiniProxy` is a minimal HTTP proxy — ``CONNECT`` tunnels and absolute-form plain-HTTP
requests, optional Basic ``Proxy-Authorization`` — that only ever dials 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import socketserver
import threading


def _pipe(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes (or ``stop`` is set)."""
    sockets = [a, b]
    try:
        while not stop.is_set():
            readable, _, _ = select.select(sockets, [], [], 0.05)
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (b if source is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in sockets:
            with contextlib.suppress(OSError):
                s.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TcpRelay:
    """``127.0.0.1:<port>`` → ``127.0.0.1:<target_port>``, counting accepted connections."""

    def __init__(self, target_port: int) -> None:
        relay = self
        self.connections = 0
        self._clients: list[socket.socket] = []
        self._stop = threading.Event()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with relay._lock:
                    relay.connections += 1
                    relay._clients.append(self.request)
                upstream = socket.create_connection(("127.0.0.1", target_port))
                _pipe(self.request, upstream, relay._stop)

        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close_client_connections(self) -> None:
        """Close every accepted client connection, as a server closing idle keep-alive connections."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Stop accepting and end every relayed connection."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


class MiniProxy:
    """A minimal HTTP proxy on loopback (see the module docstring); records what it was asked."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        proxy = self
        self.requests: list[str] = []  # the request lines, as received
        self._stop = threading.Event()
        expected = None
        if user is not None:
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

        class Handler(socketserver.StreamRequestHandler):
            rbufsize = 0  # unbuffered: nothing past the head is read ahead, so piping loses no byte

            def handle(self) -> None:
                line = self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")
                headers: list[str] = []
                while True:
                    header = self.rfile.readline(65537).decode("latin-1")
                    if header in ("\r\n", "\n", ""):
                        break
                    headers.append(header)
                proxy.requests.append(line)
                auth = [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("proxy-authorization:")]
                if expected is not None and auth != [expected]:
                    self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                    return
                method, target, version = line.split(" ")
                if method == "CONNECT":
                    host, port = target.rsplit(":", 1)
                    assert host in ("127.0.0.1", "localhost"), host  # loopback only
                    upstream = socket.create_connection(("127.0.0.1", int(port)))
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    _pipe(self.connection, upstream, proxy._stop)
                    return
                # Absolute form: http://127.0.0.1:PORT/path?query → origin form to the target.
                rest = target.split("://", 1)[1]
                hostport, _, path = rest.partition("/")
                port = int(hostport.rsplit(":", 1)[1])
                upstream = socket.create_connection(("127.0.0.1", port))
                kept = [h for h in headers if not h.lower().startswith("proxy-authorization:")]
                upstream.sendall(f"{method} /{path} {version}\r\n{''.join(kept)}\r\n".encode("latin-1"))
                _pipe(self.connection, upstream, proxy._stop)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        """Stop accepting and end every proxied connection."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
