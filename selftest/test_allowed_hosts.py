"""The stub judges the Host of a handshake as the real Starlette's TrustedHostMiddleware does, and as the contract's
host_allowed rule says: both services run with the same allowed hosts and get the same handshakes."""

import base64
import os
import secrets
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ws_gate.contract import load_contract
from ws_gate.stacks.local_stack import STUB_SCRIPT, running_service

STARLETTE_SERVICE = Path(__file__).parent / "backends" / "starlette_service.py"
ALLOWED = ("localhost", "127.0.0.1", "*.example.org")
ACCEPTED = ["localhost", "localhost:8001", "127.0.0.1:8001", "a.example.org", "deep.a.example.org:443"]
REFUSED = ["trade.example.com", "example.org", "localhost.example.com", "127.0.0.2", "aexample.org"]
# What each service sends for a Host it refuses on a handshake: the stub as the team's service (Starlette 0.27 on
# uvicorn 0.24) answers, the self-test backend as the installed Starlette does; on a plain GET both say 400.
STUB_REFUSAL = (500, b"Internal Server Error")
STARLETTE_REFUSAL = (400, b"Invalid host header")
PLAIN_GET_REFUSAL = (400, b"Invalid host header")


def handshake(address: str, host: str, upgrade: bool = True) -> tuple[int, bytes]:
    """The status and body a WebSocket handshake for /ws/realtime with Host `host` gets (`upgrade` False: a plain
    GET of that path)."""
    name, port = address.rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade_headers = (
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        if upgrade
        else "Connection: close\r\n"
    )
    request = f"GET /ws/realtime HTTP/1.1\r\nHost: {host}\r\n{upgrade_headers}\r\n"
    with socket.create_connection((name, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        answer = b""
        # A refusal ends with the connection; an upgrade goes on after its head.
        while not (answer.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in answer):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """The stub and the Starlette service, both accepting ALLOWED."""
    workdir = tmp_path_factory.mktemp("allowed-hosts")
    contract = replace(load_contract(), allowed_hosts=ALLOWED)
    secret = secrets.token_urlsafe(48)
    stub_env = {"STUB_PORT": "0", "JWT_SECRET": secret, "STUB_CONTRACT": contract.to_json()}
    starlette_env = {"PORT": "0", "JWT_SECRET": secret, "ALLOWED_HOSTS": ",".join(ALLOWED)}
    with (
        running_service([sys.executable, str(STUB_SCRIPT)], stub_env, workdir / "stub.log", "the stub") as stub,
        running_service(
            [sys.executable, str(STARLETTE_SERVICE)], starlette_env, workdir / "starlette.log", "the Starlette service"
        ) as starlette,
    ):
        yield contract, stub, starlette


@pytest.mark.parametrize("host", ACCEPTED + REFUSED)
def test_stub_and_starlette_judge_the_host_alike(services, host):
    """Both upgrade a Host the list allows and refuse the others; the contract's rule says the same."""
    contract, stub, starlette = services
    expected = host in ACCEPTED
    assert contract.host_allowed(host) is expected
    stub_status, stub_body = handshake(stub, host)
    starlette_status, starlette_body = handshake(starlette, host)
    if expected:
        assert (stub_status, starlette_status) == (101, 101)
    else:
        assert (stub_status, stub_body) == STUB_REFUSAL
        assert (starlette_status, starlette_body) == STARLETTE_REFUSAL


@pytest.mark.parametrize("host", REFUSED[:2])
def test_a_plain_get_with_a_refused_host_gets_400_from_both(services, host):
    """Over plain HTTP the middleware's own answer comes through: 400 Invalid host header."""
    _, stub, starlette = services
    assert handshake(stub, host, upgrade=False) == PLAIN_GET_REFUSAL
    assert handshake(starlette, host, upgrade=False) == PLAIN_GET_REFUSAL


def test_stub_without_allowed_hosts_accepts_any_host(tmp_path):
    """The default contract sets no allowed_hosts: the stub upgrades whatever Host comes."""
    env = {"STUB_PORT": "0", "JWT_SECRET": secrets.token_urlsafe(48), "STUB_CONTRACT": load_contract().to_json()}
    with running_service([sys.executable, str(STUB_SCRIPT)], env, tmp_path / "stub.log", "the stub") as stub:
        assert handshake(stub, "trade.example.com")[0] == 101
