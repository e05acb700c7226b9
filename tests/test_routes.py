"""Every WebSocket route of the app reaches the trading-service through Nginx as a WebSocket: each route of the
contract lands in a location that carries the upgrade, and a handshake there answers 101. The route map (the
contract's routes and the bundle's URLs, with where Nginx sends each) is printed with the verdict."""

from urllib.parse import urlsplit

import pytest

from fixtures.options import parametrize_from_contract
from fixtures.routes import route_of
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault
from ws_gate.faults import FINDING, Fault
from ws_gate.nginx.route_map import concrete, pattern, route_fault

pytestmark = pytest.mark.fault("endpoint")

TOKEN_IN_URL = (
    "the token travels in the URL's query string, so it lands in access logs, proxies' logs and browser history: "
    "send it in the first message instead"
)

UPGRADE_PROVED = (
    "the handshake through Nginx got 101 and the trading-service saw the upgrade, so the route map is wrong:"
)


def routes(contract) -> list:
    """Every WebSocket route of the contract, its main one first."""
    return [pytest.param(route, id=pattern(route.path).strip("/").replace("/", "-")) for route in contract.all_routes()]


@parametrize_from_contract("route", routes)
def test_contract_route_lands_in_a_websocket_location(route, route_map, site_check, request):
    """The location Nginx picks for the route (exact, ^~, regexes in order, longest prefix) carries the upgrade."""
    entry = route_of(route_map, pattern(route.path))
    if entry.query_token:
        request.node.user_properties.append((FINDING, f"{entry.path}: {TOKEN_IN_URL}"))
    if entry.proved:  # the handshake on this very route got 101 and the stub saw the upgrade: the static check erred
        proved = f"information: {entry.path}: {UPGRADE_PROVED} {entry.landing.described()}"
        request.node.user_properties.append((FINDING, proved))
    elif not entry.landing.websocket:
        raise Fault(route_fault(site_check, route.path, entry.landing))


@parametrize_from_contract("route", routes)
async def test_contract_route_upgrades_through_nginx(exchange, route, stack, ws_url, mint, contract, requires_stub):
    """A handshake through Nginx on the route, dynamic segments filled in, answers 101, authenticates as the
    route says (first message or query token), and reaches the trading-service on that very path."""
    path = concrete(route.path)
    token = mint()
    query = f"?token={token}" if route.auth == "query" else ""
    messages = [auth_message(contract, token)] if route.auth == "message" else []
    ex = await exchange(stack.ws_url(path) + query, *messages, until=(contract.auth_success_type,))
    reached = [urlsplit(record["path"]).path for record in stack.handshakes(ex.probe)]
    if (ex.status, ex.types, reached) != (101, [contract.auth_success_type], [path]):
        raise exchange_fault(
            "endpoint",
            ex,
            f"the route {route.path} did not authenticate through Nginx (the trading-service saw "
            f"{reached or 'nothing'})",
            f"a location that proxies {pattern(route.path)} as a WebSocket to the trading-service",
        )
