"""Shared pieces of the benchmarks: the emulator they push to and the two clients compared.

Both sides send the same Push (same parameters, V2 HMAC-SHA1, to the emulator on loopback — over
plain HTTP, or over HTTPS with a throwaway CA made by ``trustme``), so the ratios compare the clients,
not the network. pushfn trusts the CA through ``SSL_CERT_FILE`` (its setting); the official SDK
through its own ``verify`` argument.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

APP_KEY = 23267207
PUSH = {
    "Target": "DEVICE",
    "TargetValue": "e2ba19de97604f55b165576736477b74",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Title": "Benchmark",
    "Body": "Hello from the benchmark",
}


def free_port() -> int:
    """A TCP port free on loopback right now (bound, then released for a child to take)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_child(code: str, port: int, what: str) -> subprocess.Popen:
    """``python -c code`` with this environment, returned once it accepts connections on ``port``;
    ``RuntimeError`` naming ``what`` (the child stopped) when it does not within 10 s."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, env={**os.environ})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    proc.wait(timeout=10)
    raise RuntimeError(f"{what} did not start")


def tls_files(folder: Path) -> tuple[str, str]:
    """A throwaway CA (``ca.pem``) and a certificate for 127.0.0.1 signed by it (``server.pem``: key + chain)."""
    import trustme

    ca = trustme.CA()
    ca_path, server_path = folder / "ca.pem", folder / "server.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_path))
    return str(ca_path), str(server_path)


def server_context(server_pem: str):
    """A server-side TLS context holding ``server_pem`` (key and chain)."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_pem)
    return context


def start_emulator(server_pem: str | None = None):
    """The emulator in this process, over HTTPS when ``server_pem`` is given."""
    from pushfn.emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0, ssl_context=server_context(server_pem) if server_pem else None)
    emulator.start()
    return emulator


def ours_client(url: str):
    from pushfn.push import PushClient, StaticCredentials

    return PushClient(endpoint=url, app_key=APP_KEY, credentials=StaticCredentials("testid", "testsecret"))


def ours_push(client) -> str:
    return client.push(PUSH).message_id


def official_client(ca_file: str | None = None):
    from aliyunsdkcore.client import AcsClient

    return AcsClient("testid", "testsecret", "cn-hangzhou", verify=ca_file)


def official_push(client, host_port: str, scheme: str = "http") -> str:
    import json

    from aliyunsdkcore.acs_exception.exceptions import ClientException  # noqa: F401 - same import cost as users pay
    from aliyunsdkcore.http import protocol_type
    from aliyunsdkpush.request.v20160801.PushRequest import PushRequest

    request = PushRequest()
    request.set_endpoint(host_port)
    # The SDK compares the protocol by identity (`protocol is PT.HTTPS`): pass its own constants.
    request.set_protocol_type(protocol_type.HTTPS if scheme == "https" else protocol_type.HTTP)
    request.set_AppKey(APP_KEY)
    request.set_Target(PUSH["Target"])
    request.set_TargetValue(PUSH["TargetValue"])
    request.set_DeviceType(PUSH["DeviceType"])
    request.set_PushType(PUSH["PushType"])
    request.set_Title(PUSH["Title"])
    request.set_Body(PUSH["Body"])
    return json.loads(client.do_action_with_exception(request))["MessageId"]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):8.2f}  min {min(values):8.2f}  max {max(values):8.2f}"
