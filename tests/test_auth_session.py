"""Around the auth message: sent in fragments it still authenticates; an authenticated session answers as
the contract says, stays open and keeps its user; a token anywhere else authenticates nobody."""

import asyncio
import json

import pytest

from fixtures.options import parametrize_from_contract
from fixtures.overlap import Probe, starts_early
from ws_gate.client.wsclient import Exchange
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault

pytestmark = pytest.mark.fault("auth-message")

PING = json.dumps({"type": "ping"})

FRAGMENTINGS = [
    pytest.param(lambda message: [message[: len(message) // 2], message[len(message) // 2 :]], id="two-fragments"),
    pytest.param(list, id="one-fragment-per-character"),
    pytest.param(lambda message: ["", message, ""], id="empty-first-and-last-fragments"),
]


def session_messages(contract) -> list:
    """A message on an authenticated session and the type of its answer."""
    answers = contract.after_auth_types
    return [
        pytest.param(PING, answers["ping"], id="ping"),
        pytest.param(json.dumps({"type": "subscribe", "symbol": "AAPL"}), answers["subscribe"], id="subscribe"),
        pytest.param(json.dumps({"type": "unsubscribe", "symbol": "AAPL"}), answers["unsubscribe"], id="unsubscribe"),
        pytest.param(json.dumps({"type": "get_stats"}), answers["get_stats"], id="get-stats"),
        pytest.param(json.dumps({"type": "order", "symbol": "AAPL"}), contract.error_type, id="unknown-type"),
        pytest.param("not json", contract.error_type, id="not-json"),
        pytest.param("[]", contract.error_type, id="json-array"),
    ]


# The token of a second auth message: the session's own again, or another user's valid one.
SECOND_TOKENS = [
    pytest.param(None, id="same-token"),
    pytest.param("another-user", id="another-users-token"),
]

# Where else a client might put its token, sending no auth message: (url, headers) from (url, token).
TOKEN_ELSEWHERE = {
    "query string ?token=": lambda url, token: (f"{url}?token={token}", {}),
    "query string ?access_token=": lambda url, token: (f"{url}?access_token={token}", {}),
    "Authorization header": lambda url, token: (url, {"Authorization": f"Bearer {token}"}),
    "cookie": lambda url, token: (url, {"Cookie": f"token={token}"}),
}


@pytest.mark.parametrize("fragment", FRAGMENTINGS)
async def test_fragmented_auth_message_authenticates(exchange, service_url, mint, contract, fragment):
    """An auth message sent as one message in several fragments is reassembled and authenticates."""
    ex = await exchange(service_url, fragment(auth_message(contract, mint())), until=(contract.auth_success_type,))
    if ex.types != [contract.auth_success_type]:
        raise exchange_fault(
            "auth-message",
            ex,
            "a fragmented auth message did not authenticate",
            "read whole messages (the WebSocket library reassembles fragments), never single frames",
        )


@parametrize_from_contract(("message", "answer"), session_messages)
async def test_authenticated_session_answers_and_stays_open(exchange, service_url, mint, contract, message, answer):
    """On an authenticated session a message gets its answer, an error frame if it is bad, and the session
    stays open: a ping after it is answered."""
    ex = await exchange(service_url, auth_message(contract, mint()), message, PING, max_frames=3)
    if (ex.types, ex.close_code) != (
        [contract.auth_success_type, answer, contract.after_auth_types["ping"]],
        None,
    ):
        raise exchange_fault(
            "auth-message",
            ex,
            f"an authenticated session did not answer {answer} and stay open",
            "after auth: ping -> pong, subscribe -> subscribed, unsubscribe -> unsubscribed, get_stats -> stats; "
            "anything else -> an error frame, and the connection stays open",
        )


@pytest.mark.parametrize("second", SECOND_TOKENS)
async def test_second_auth_is_refused_and_the_user_stays(exchange, service_url, mint, contract, second):
    """A second auth message, even with another user's valid token, gets an error frame, never a second
    auth_success: the session stays open as the user it authenticated first."""
    first, again = auth_message(contract, mint()), auth_message(contract, mint(second))
    ex = await exchange(service_url, first, again, PING, max_frames=3)
    user = ex.frames[0].get("user_id") if ex.frames and isinstance(ex.frames[0], dict) else None
    expected_types = [contract.auth_success_type, contract.error_type, contract.after_auth_types["ping"]]
    if (ex.types, user, ex.close_code) != (expected_types, int(mint.user_id), None):
        raise exchange_fault(
            "auth-message",
            ex,
            "a second auth message on an authenticated session was not refused with an error frame",
            "authenticate once per connection: answer a later auth message with an error frame and keep the user",
        )


async def _token_elsewhere(probe: Probe) -> dict[str, Exchange]:
    tries = {place: put(probe.service_url, probe.mint()) for place, put in TOKEN_ELSEWHERE.items()}
    done = await asyncio.gather(*(probe.exchange(url, headers=h, wait=probe.auth_wait) for url, h in tries.values()))
    return dict(zip(tries, done, strict=True))


@starts_early(_token_elsewhere)
def test_token_outside_the_auth_message_authenticates_nobody(service_url, early_outcome, contract, gate_options):
    """A token in the query string, an Authorization header or a cookie, with no auth message, authenticates
    nobody: each connection is closed by the auth timeout with an error frame and 4001."""
    exchanges = early_outcome
    outcomes = {place: (ex.types, ex.close_code) for place, ex in exchanges.items()}
    expected = dict.fromkeys(exchanges, ([contract.error_type], contract.close_bad_message))
    wrong = next((place for place in exchanges if outcomes[place] != expected[place]), None)
    if outcomes != expected:
        raise exchange_fault(
            "auth-message",
            exchanges[wrong],
            f"with the token only in the {wrong}, the connection was not closed by the auth timeout "
            f"({gate_options.auth_timeout:g} s) with 4001",
            'authenticate only from the first message {"type": "auth", "token": <JWT>}; ignore tokens in the URL, '
            "headers and cookies",
        )
