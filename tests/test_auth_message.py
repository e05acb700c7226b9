"""The first frame must be {"type": "auth", "token": <JWT>}: anything else gets an error frame, then 4001."""

import json

import pytest

from fixtures.options import parametrize_from_contract
from fixtures.overlap import Probe, starts_early
from ws_gate.client.tokens import SecretNeededError, TokenFactory
from ws_gate.client.wsclient import Exchange
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault

pytestmark = pytest.mark.fault("auth-message")


def bad_first_messages(contract) -> list:
    """First frames that are not the contract's auth message ({token} stands for a valid token)."""
    auth = contract.auth_type
    return [
        pytest.param(json.dumps({"type": "authenticate", "token": "{token}"}), id="authenticate-of-the-outage"),
        pytest.param(json.dumps({"type": auth.upper(), "token": "{token}"}), id="upper-case-auth"),
        pytest.param(json.dumps({"type": "login", "token": "{token}"}), id="login"),
        pytest.param(json.dumps({"token": "{token}"}), id="no-type"),
        pytest.param(json.dumps({"type": "subscribe", "symbol": "AAPL"}), id="subscribe-before-auth"),
        pytest.param(json.dumps({"type": "ping"}), id="ping-before-auth"),
        pytest.param(json.dumps({"type": auth}), id="missing-token"),
        pytest.param(json.dumps({"type": auth, "token": ""}), id="empty-token"),
        pytest.param(json.dumps({"type": auth, "token": None}), id="null-token"),
        pytest.param(json.dumps({"type": auth, "token": 123}), id="numeric-token"),
        pytest.param(json.dumps({"type": auth, "token": {}}), id="object-token"),
        pytest.param("auth {token}", id="not-json"),
        pytest.param("", id="empty-text-frame"),
        pytest.param("[]", id="json-array"),
        pytest.param('"auth"', id="json-string"),
        pytest.param("1", id="json-number"),
        pytest.param("null", id="json-null"),
        pytest.param("[" * 100_000, id="deeply-nested-json"),
        pytest.param(json.dumps({"type": auth, "token": "{token}"}).encode(), id="binary-frame"),
    ]


@pytest.mark.valid_path
async def test_auth_message_is_accepted(exchange, service_url, mint, contract):
    """{"type": "auth", "token": <valid JWT>} is answered with auth_success."""
    ex = await exchange(service_url, auth_message(contract, mint()), until=(contract.auth_success_type,))
    if ex.types != [contract.auth_success_type]:
        raise exchange_fault(
            "auth-message",
            ex,
            "the contract's auth message was not accepted",
            f'send {{"type": "{contract.auth_type}", "token": <JWT>}}',
        )


def _placed_token(mint: TokenFactory) -> str:
    """The token a wrong first frame carries, which its type, not its token, must get refused: the valid one, else
    the given one as it is (so that without the secret the cases still run on the team's own token)."""
    try:
        return mint()
    except SecretNeededError:
        if mint.given_token is None:
            raise
        return mint.given_token


async def _first_message(probe: Probe, message: str | bytes) -> Exchange:
    token = _placed_token(probe.mint)
    first = (
        message.replace(b"{token}", token.encode()) if isinstance(message, bytes) else message.replace("{token}", token)
    )
    async with probe.few_at_a_time:
        return await probe.exchange(probe.service_url, first)


@starts_early(_first_message)  # a service that leaves the socket open makes each of them wait for a close
@parametrize_from_contract("message", bad_first_messages)
def test_wrong_first_message_is_refused_with_4001(service_url, early_outcome, contract, message):
    """A first frame that is not the contract's auth message gets an error frame, then close 4001."""
    ex = early_outcome
    expected = ([contract.error_type], contract.close_bad_message)
    left_open = ex.status == 101 and ex.close_code is None
    if (ex.types, ex.close_code) != expected:
        raise exchange_fault(
            "auth-message",
            ex,
            "the trading-service did not refuse a first frame that breaks the auth contract"
            + (": it left the socket open" if left_open else ""),
            f"answer a first frame that is no auth message with an error frame and close {contract.close_bad_message}"
            + (", never leave the socket open" if left_open else "; the frontend must send the auth message first"),
        )


async def _send_nothing(probe: Probe) -> Exchange:
    return await probe.exchange(probe.service_url, wait=probe.auth_wait)


@starts_early(_send_nothing)
def test_silent_client_is_closed_by_the_auth_timeout(service_url, early_outcome, contract, gate_options):
    """A client that sends nothing gets an error frame, then 4001, once the auth timeout has passed."""
    ex = early_outcome
    if (ex.types, ex.close_code) != ([contract.error_type], contract.close_bad_message):
        raise exchange_fault(
            "auth-message",
            ex,
            f"the trading-service kept a silent client for more than {gate_options.auth_timeout:g} s",
            "close unauthenticated connections after the auth timeout with an error frame and 4001",
        )
