"""Hostile traffic at the WebSocket layer: invalid UTF-8 is closed with 1007, a message over the contract's
size limit with 1009 (with no limit in the contract, what the service does is reported), and a crowd of
connections that never authenticate neither stays nor keeps a real client out."""

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection

from fixtures.overlap import Probe, starts_early
from ws_gate.client.wsclient import Exchange
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault
from ws_gate.faults import FINDING

pytestmark = pytest.mark.fault("security")

INVALID_DATA, MESSAGE_TOO_BIG = 1007, 1009  # RFC 6455 close codes
# Without a limit in the contract: a message just over uvicorn's default, whose fate is reported, never failed.
PROBE_BYTES = 16 * 1024 * 1024 + 1
LIMIT_FIX = "set max_message_bytes in the contract to hold the service to a limit"
# max_message_bytes: the largest message the service takes; None: unset.
CONTRACT_LIMIT = pytest.mark.skipif(
    "contract.max_message_bytes is None", reason="not run: the contract sets no max_message_bytes"
)
CROWD = 50
PING = json.dumps({"type": "ping"})


def subscribe_of(size: int) -> str:
    """A subscribe message of exactly `size` bytes."""
    empty = json.dumps({"type": "subscribe", "symbol": ""})
    return json.dumps({"type": "subscribe", "symbol": "S" * (size - len(empty))})


def ping_of(size: int) -> str:
    """A ping message of exactly `size` bytes, padded: its answer stays small."""
    empty = json.dumps({"type": "ping", "pad": ""})
    return json.dumps({"type": "ping", "pad": "P" * (size - len(empty))})


class InvalidUtf8(str):
    """A text frame holding `raw`, which is not UTF-8; as a str it is what reports show of it."""

    raw: bytes

    def __new__(cls, raw: bytes):
        shown = super().__new__(cls, f"<invalid UTF-8: {raw.hex(' ')}>")
        shown.raw = raw
        return shown


class RawTextConnection(ClientConnection):
    """Sends an InvalidUtf8 message as a text frame of its raw bytes, which websockets never does by itself."""

    async def send(self, message, *, text=None):
        if isinstance(message, InvalidUtf8):
            message, text = message.raw, True
        await super().send(message, text=text)


# Frames that break the transport go first: the server's WebSocket layer closes the connection as soon as
# it reads one, so after an auth message that close would race the auth_success.
INVALID_UTF8 = [
    pytest.param(b"\xff", id="byte-ff"),
    pytest.param(b"\x80", id="lone-continuation-byte"),
    pytest.param(b"\xc0\xaf", id="overlong-slash"),
    pytest.param(b"\xed\xa0\x80", id="utf-16-surrogate"),
    pytest.param(b"\xf4\x90\x80\x80", id="above-u-10ffff"),
    pytest.param(b'{"type": "ping"}\xe2\x82', id="truncated-sequence"),
]

OVERSIZED_MESSAGES = [
    pytest.param(lambda limit: subscribe_of(limit + 1), id="text"),
    pytest.param(lambda limit: bytes(limit + 1), id="binary"),
    pytest.param(lambda limit: ["S" * (limit // 2), "S" * (limit + 1 - limit // 2)], id="text-in-fragments"),
]


@pytest.mark.parametrize("raw", INVALID_UTF8)
async def test_invalid_utf8_text_is_closed_with_1007(exchange, service_url, raw):
    """A text frame that is not UTF-8 closes the connection with 1007 and nothing else."""
    ex = await exchange(service_url, InvalidUtf8(raw), create_connection=RawTextConnection)
    if (ex.types, ex.close_code) != ([], INVALID_DATA):
        raise exchange_fault(
            "security",
            ex,
            f"invalid UTF-8 in a text frame was not closed with {INVALID_DATA}",
            "let the WebSocket library validate text frames (RFC 6455 8.1); never decode them with errors ignored",
        )


@CONTRACT_LIMIT
@pytest.mark.parametrize("message_over", OVERSIZED_MESSAGES)
async def test_message_over_the_size_limit_is_closed_with_1009(exchange, service_url, contract, message_over):
    """A message one byte over the contract's limit, whole or in fragments, closes the connection with 1009."""
    limit = contract.max_message_bytes
    ex = await exchange(service_url, message_over(limit))
    if (ex.types, ex.close_code) != ([], MESSAGE_TOO_BIG):
        raise exchange_fault(
            "security",
            ex,
            f"a message over {limit} bytes was not closed with {MESSAGE_TOO_BIG}",
            f"set the service's WebSocket max message size to {limit} bytes (uvicorn --ws-max-size, "
            "websockets max_size)",
        )


@CONTRACT_LIMIT
async def test_message_at_the_size_limit_is_answered(exchange, service_url, mint, contract):
    """A message of exactly the contract's size limit is taken and answered."""
    limit = contract.max_message_bytes
    ex = await exchange(service_url, auth_message(contract, mint()), subscribe_of(limit), max_frames=2)
    if (ex.types, ex.close_code) != ([contract.auth_success_type, contract.after_auth_types["subscribe"]], None):
        raise exchange_fault(
            "security",
            ex,
            f"a message of exactly {limit} bytes was not answered",
            f"set the service's WebSocket max message size to {limit} bytes, not less",
        )


async def test_message_size_is_reported_without_a_contract_limit(exchange, service_url, mint, contract, request):
    """A 64 KiB message is answered; without max_message_bytes in the contract, what the service does with
    16 MiB + 1 byte (a 1009 close, an answer) is reported as a finding, never failed."""
    answered_bytes = min(64 * 1024, contract.max_message_bytes or 64 * 1024)  # a message every service takes
    ex = await exchange(service_url, auth_message(contract, mint()), subscribe_of(answered_bytes), max_frames=2)
    if (ex.types, ex.close_code) != ([contract.auth_success_type, contract.after_auth_types["subscribe"]], None):
        raise exchange_fault(
            "security",
            ex,
            f"a message of {answered_bytes} bytes was not answered",
            "take messages of at least 64 KiB (uvicorn --ws-max-size, websockets max_size)",
        )
    if contract.max_message_bytes is None:
        probe = await exchange(service_url, auth_message(contract, mint()), ping_of(PROBE_BYTES), max_frames=2)
        answered = probe.types == [contract.auth_success_type, contract.after_auth_types["ping"]]
        outcome = "answered" if answered else f"not answered ({probe.got()})"
        finding = f"a message of 16 MiB + 1 byte: {outcome}; {LIMIT_FIX}"
        request.node.user_properties.append((FINDING, finding))


async def _crowd_then_client(probe: Probe) -> tuple[list[Exchange], Exchange]:
    crowd = [asyncio.create_task(probe.exchange(probe.service_url, wait=probe.auth_wait)) for _ in range(CROWD)]
    client = await probe.exchange(probe.service_url, auth_message(probe.contract, probe.mint()), PING, max_frames=2)
    return await asyncio.gather(*crowd), client


@starts_early(_crowd_then_client)
def test_unauthenticated_crowd_is_closed_while_a_client_gets_in(service_url, early_outcome, contract, gate_options):
    """50 connections that never authenticate are each closed by the auth timeout with 4001, and a real
    client opened after them authenticates and is answered before the first of them is closed."""
    closed, client = early_outcome
    odd = [ex for ex in closed if (ex.types, ex.close_code) != ([contract.error_type], contract.close_bad_message)]
    first_close = min((ex.arrivals[0] for ex in closed if ex.arrivals), default=float("inf"))
    got_in_first = bool(client.arrivals) and client.arrivals[-1] < first_close
    if (client.types, len(odd), got_in_first) != (
        [contract.auth_success_type, contract.after_auth_types["ping"]],
        0,
        True,
    ):
        raise exchange_fault(
            "security",
            client,
            f"of {CROWD} connections that never authenticate, {len(odd)} did not get an error frame and 4001 at the "
            f"{gate_options.auth_timeout:g} s auth timeout{f' (the first: {odd[0].got()})' if odd else ''}; the real "
            f"client below {'was' if got_in_first else 'was not'} answered before the first of them was closed",
            "close each unauthenticated connection at the auth timeout; keep accepting while they wait "
            "(no global lock around auth, enough worker_connections in Nginx)",
        )
