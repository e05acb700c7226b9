"""Nginx proxies the upgrade: 101 with a valid accept, the right headers upstream, frames and close
codes passed through intact and unbuffered, and an idle timeout long enough for a trading session."""

import asyncio
import base64
import hashlib
import itertools
import json
import statistics
import time

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode

from fixtures.options import parametrize_from_contract
from fixtures.overlap import Probe, starts_early
from ws_gate.client.wsclient import Exchange
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault, upgrade_fault
from ws_gate.nginx import snippets
from ws_gate.timeouts import SHORT

pytestmark = pytest.mark.fault("proxy-upgrade")

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
PUSH_COUNT, PUSH_INTERVAL = 5, 0.1

# What the backend may see of each header Nginx forwards, given the client's request headers, the address Nginx
# sees it at and the scheme it used. A header the contract names that is not here must merely arrive (None: any
# value).
HEADER_RULES = {
    "upgrade": lambda client, address, scheme: {"websocket"},
    "connection": lambda client, address, scheme: {"upgrade"},
    "host": lambda client, address, scheme: {client["Host"], client["Host"].rsplit(":", 1)[0]},
    "x-real-ip": lambda client, address, scheme: {address},
    "x-forwarded-for": lambda client, address, scheme: {address},
    "x-forwarded-proto": lambda client, address, scheme: {scheme},
}  # header names ignore case
FORWARDING_LINES = {"upgrade": snippets.UPGRADE, "connection": snippets.connection()}


def _any_value(client, address, scheme) -> None:
    """The rule of a header the contract names that HEADER_RULES does not: it must merely arrive."""


def forwarded_headers(contract) -> list:
    """Upgrade and Connection always (no WebSocket without them), then the headers the contract's service needs,
    each with the line that forwards it."""
    return [
        pytest.param(
            header,
            HEADER_RULES.get(header.lower(), _any_value),
            FORWARDING_LINES.get(header.lower()) or snippets.forwarded_header(header),
            id=header.lower(),
        )
        for header in dict.fromkeys(["Upgrade", "Connection", *contract.required_headers])
    ]


def backend_closes(contract) -> list:
    """What makes the stub close with each of the contract's close codes: a bad first message, a bad token."""
    return [
        pytest.param(json.dumps({"type": "authenticate"}), None, contract.close_bad_message, id="4001"),
        pytest.param(None, "wrong-aud", contract.close_bad_token, id="4003"),
    ]


def crossing_bytes(contract) -> int:
    """The largest message the contract lets the gate expect an answer to, up to 1 MiB (64 KiB with no limit set)."""
    return min(1024 * 1024, contract.max_message_bytes or 64 * 1024)


def _expected_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def test_upgrade_answers_101_with_a_valid_accept(handshake, stack, gate_options, site_findings):
    """Through Nginx the handshake answers 101, Upgrade: websocket and the RFC 6455 accept value."""
    ex = handshake
    if failure := upgrade_fault(ex, stack, gate_options, site_findings):
        raise failure
    answer = {name.lower(): value for name, value in ex.headers.items()}
    expected = ("websocket", _expected_accept(ex.request_headers["Sec-WebSocket-Key"]))
    if (answer.get("upgrade", "").lower(), answer.get("sec-websocket-accept")) != expected:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            "the 101 answer is not a valid WebSocket upgrade",
            "let Nginx pass the backend's 101 through",
        )


@parametrize_from_contract(("header", "accepted", "fix"), forwarded_headers)
async def test_backend_receives_the_forwarded_header(
    exchange, stack, ws_url, mint, contract, requires_stub, header, accepted, fix
):
    """The trading-service sees each header Nginx must forward (the upgrade's, and those the contract's
    required_headers names), with the client's values; the advised ones are the static check's advice."""
    ex = await exchange(ws_url, auth_message(contract, mint()), until=(contract.auth_success_type,))
    seen = {name.lower(): value for name, value in stack.handshakes(ex.probe)[-1]["headers"]}
    scheme = "https" if stack.secure else "http"
    value = seen.get(header.lower(), "")
    if header == "X-Forwarded-For":
        value = value.split(",")[-1].strip()
    expected = accepted(ex.request_headers, stack.client_address, scheme)
    arrived = value != "" if expected is None else value.lower() in {v.lower() for v in expected}
    if not arrived:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"the trading-service saw {header}: {seen.get(header.lower())!r}",
            f"add {fix!r} to the location",
        )


async def test_backend_receives_http_1_1(exchange, stack, ws_url, mint, contract, requires_stub):
    """Nginx speaks HTTP/1.1 to the trading-service, the only version that can upgrade."""
    ex = await exchange(ws_url, auth_message(contract, mint()), until=(contract.auth_success_type,))
    records = stack.handshakes(ex.probe)
    if [record["protocol"] for record in records] != ["HTTP/1.1"]:
        raise exchange_fault(
            "proxy-upgrade", ex, f"the trading-service saw {records}", f'add "{snippets.HTTP_1_1}" to the location'
        )


@parametrize_from_contract(("message", "defect", "code"), backend_closes)
async def test_backend_close_code_reaches_the_client(exchange, ws_url, mint, contract, message, defect, code):
    """The trading-service's 4001 and 4003 reach the client unchanged, never as 1006."""
    ex = await exchange(ws_url, message or auth_message(contract, mint(defect)))
    if ex.close_code != code:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"the backend closes with {code} but the client saw {ex.close_code}",
            "keep the connection proxied until the backend's close frame has passed (no proxy timeout below the "
            "exchange)",
        )


async def test_large_message_crosses_intact(exchange, ws_url, mint, contract):
    """A large message (1 MiB, or the contract's smaller limit; 64 KiB with none) and its answer cross Nginx
    byte for byte."""
    size = crossing_bytes(contract)
    symbol = "S" * (size - len(json.dumps({"type": "subscribe", "symbol": ""})))
    subscribe = json.dumps({"type": "subscribe", "symbol": symbol})
    ex = await exchange(ws_url, auth_message(contract, mint()), subscribe, max_frames=2)
    if ex.frames[1:] != [{"type": contract.after_auth_types["subscribe"], "symbol": symbol}]:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"a message of {size} bytes did not come back intact",
            "remove size limits on the WebSocket location",
        )


async def test_thousand_messages_arrive_in_order(exchange, ws_url, mint, contract):
    """1,000 messages sent back to back are all answered, in the order they were sent."""
    symbols = [f"S{n:04d}" for n in range(1000)]
    subscribes = [json.dumps({"type": "subscribe", "symbol": symbol}) for symbol in symbols]
    ex = await exchange(ws_url, auth_message(contract, mint()), *subscribes, max_frames=1 + len(symbols))
    got = [frame.get("symbol") for frame in ex.frames[1:] if isinstance(frame, dict)]
    if got != symbols:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"{len(got)} of 1000 answers came back, or in another order",
            "proxy the WebSocket over one upstream connection, with no size limit between client and service",
        )


async def _pushed_frames(probe: Probe) -> Exchange:
    """On a thread and event loop of its own: a test that holds the session's loop up meanwhile would delay the
    frames' arrival times together, as a buffer does."""
    push = json.dumps({"type": "push", "count": PUSH_COUNT, "interval": PUSH_INTERVAL})
    auth = auth_message(probe.contract, probe.mint())
    return await asyncio.to_thread(asyncio.run, probe.exchange(probe.ws_url, auth, push, max_frames=1 + PUSH_COUNT))


@starts_early(_pushed_frames)
def test_pushed_frames_are_not_buffered(ws_url, requires_stub, early_outcome):
    """Frames the trading-service pushes apart arrive apart: held frames arrive together, whereas a busy machine
    delays frames alike and keeps them spaced, so the median gap between arrivals is at least half the sending
    interval."""
    ex = early_outcome
    arrivals = ex.arrivals[1:]
    gaps = [round(later - earlier, 3) for earlier, later in itertools.pairwise(arrivals)]
    if (len(arrivals), statistics.median(gaps or [0]) >= PUSH_INTERVAL / 2) != (PUSH_COUNT, True):
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"pushed frames sent {PUSH_INTERVAL:g} s apart arrived together (seconds between arrivals: {gaps})",
            "Nginx never buffers an upgraded connection: make the service send each frame as it is produced, and check "
            "for a buffering proxy between the browser and Nginx",
        )


def _closing_at_first_ping(pings: list[float]) -> type[ClientConnection]:
    """A client connection that notes when the server's first ping arrives and then closes, ending the wait."""

    class ClosingAtFirstPing(ClientConnection):
        def process_event(self, event) -> None:
            super().process_event(event)
            if isinstance(event, Frame) and event.opcode is Opcode.PING and not pings:
                pings.append(time.monotonic())
                self.closing = self.loop.create_task(self.close())

    return ClosingAtFirstPing


async def _first_ping(probe: Probe) -> tuple[Exchange, float | None]:
    pings: list[float] = []
    opened = time.monotonic()
    ex = await probe.exchange(
        probe.ws_url,
        auth_message(probe.contract, probe.mint()),
        wait=probe.contract.server_ping_interval + SHORT,
        create_connection=_closing_at_first_ping(pings),
    )
    return ex, pings[0] - opened if pings else None


@pytest.fixture
def pinging_backend(stack) -> None:
    if stack.uses_stub:
        pytest.skip("not run: the stub pings at the contract's interval itself; this checks a real trading-service")


@pytest.mark.skipif(
    "contract.server_ping_interval is None", reason="not run: the contract sets no server_ping_interval"
)
@starts_early(_first_ping)
def test_service_pings_within_its_interval(ws_url, pinging_backend, early_outcome, contract):
    """With server_ping_interval in the contract, the trading-service's first ping reaches the client through
    Nginx within that interval: the idle timeouts the contract then allows hold only with those pings."""
    ex, first_ping = early_outcome  # the wait ends SHORT after the interval: a later ping is no ping
    interval = contract.server_ping_interval
    if first_ping is None:
        raise exchange_fault(
            "proxy-upgrade",
            ex,
            f"no ping from the trading-service within its server_ping_interval of {interval:g} s",
            f"ping every client every {interval:g} s (uvicorn --ws-ping-interval, websockets ping_interval), "
            "or drop server_ping_interval from the contract and keep Nginx's proxy_read_timeout at session_lifetime",
        )
