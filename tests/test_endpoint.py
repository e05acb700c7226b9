"""The frontend must dial /ws/realtime: it upgrades and authenticates; wrong endpoints never do."""

import pytest

from fixtures.options import parametrize_from_contract
from ws_gate.bundle import origin_url
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault, upgrade_fault
from ws_gate.faults import fault

pytestmark = pytest.mark.fault("endpoint")


def wrong_endpoints(contract) -> list:
    """From the contract (wrong_paths): the outage's /api/v1/ai/ws/chat and near misses of /ws/realtime."""
    return [
        pytest.param(path, id=path.strip("/").replace("/", "-") + ("-trailing-slash" if path.endswith("/") else ""))
        for path in contract.wrong_paths
    ]


async def test_realtime_endpoint_upgrades_and_authenticates(
    exchange, stack, mint, contract, gate_options, site_findings, requires_answering_proxy
):
    """/ws/realtime through Nginx answers 101 and accepts the valid auth message."""
    ex = await exchange(stack.ws_url(), auth_message(contract, mint()), until=(contract.auth_success_type,))
    if failure := upgrade_fault(ex, stack, gate_options, site_findings):
        raise failure
    if ex.types != [contract.auth_success_type]:
        raise exchange_fault(
            "token-claims",
            ex,
            "the trading-service refused the valid token",
            "share JWT_SECRET, aud and iss with the user-service",
        )


@parametrize_from_contract("path", wrong_endpoints)
async def test_wrong_endpoint_is_refused_at_the_handshake(
    exchange, stack, mint, contract, path, requires_answering_proxy
):
    """A wrong endpoint never upgrades, so a frontend that dials it fails loudly, as a browser would."""
    ex = await exchange(stack.ws_url(path), auth_message(contract, mint()), until=(contract.auth_success_type,))
    if ex.status in (101, None):
        raise exchange_fault(
            "endpoint",
            ex,
            f"{path} {'is unreachable' if ex.error else 'upgrades'}; only {contract.ws_path} may accept WebSockets",
            f"serve WebSockets at {contract.ws_path} only; the frontend must dial {origin_url(contract)}",
        )


def test_plain_get_is_not_upgraded(stack, contract, handshake, gate_options, site_findings, requires_answering_proxy):
    """A GET without Upgrade on /ws/realtime gets a 4xx, never 101 or 2xx (catalog H2). Where the handshake
    through Nginx fails too, both follow from one cause: the upgrade's fault is named, with its one fix."""
    answer = stack.http_get(contract.ws_path)
    if not 400 <= answer.status < 500:
        if failure := upgrade_fault(handshake, stack, gate_options, site_findings):
            raise failure
        raise fault(
            "proxy-upgrade",
            f"a plain GET {contract.ws_path} got HTTP {answer.status}; expected a 4xx (400, 404 or 426)",
            "the WebSocket location must proxy to the trading-service, which refuses non-upgrade requests",
            sent=[f"GET {contract.ws_path} without Upgrade"],
            got=f"HTTP {answer.status} from {answer.headers.get('Server')}",
        )
