"""The frontend dials /ws/realtime on its own page origin and sends {"type": "auth"}: in its built
bundle (--frontend-dist) and in a real browser whose page has Nginx's origin."""

import pytest

from fixtures.frontend import frontend_dist_of
from fixtures.overlap import Probe, starts_early
from ws_gate.browser import findings_fault, open_built_page, open_test_page, socket_report
from ws_gate.client.wsclient import NO_CLOSE_FRAME
from ws_gate.diagnosis import exchange_fault, upgrade_fault
from ws_gate.faults import Fault


def in_browser(path: str | None = None, auth_type: str | None = None) -> pytest.MarkDecorator:
    """The test's exchange: Chromium, on a page with Nginx's origin, dials `path` and sends `auth_type` (by
    default, the contract's)."""

    async def dial(probe: Probe):
        contract = probe.contract
        async with probe.browser.page() as page:
            return await open_test_page(
                page, probe.stack, contract, path or contract.ws_path, auth_type or contract.auth_type, probe.mint()
            )

    return starts_early(dial)


async def _built_page_sockets(probe: Probe):
    dist = frontend_dist_of(probe.config)
    async with probe.browser.page() as page:
        return await open_built_page(page, probe.stack, dist)


def _of(fault, findings):
    return [finding for finding in findings if finding.fault == fault]


@pytest.mark.fault("endpoint")
def test_bundle_dials_the_contract_endpoint(bundle_findings, frontend_dist, route_map):
    """The built bundle opens a WebSocket, and only at /ws/realtime or another route of the contract; a wrong
    one is named with the location of the site file Nginx would send it to."""
    found = _of("endpoint", bundle_findings)
    reaches = tuple(
        f"{entry.path} reaches {entry.landing.described()}" for entry in route_map or [] if entry.sources == ("bundle",)
    )
    if found:
        raise findings_fault("endpoint", found, frontend_dist, reaches)


@pytest.mark.fault("auth-message")
@pytest.mark.usefixtures("requires_websocket_in_bundle")
def test_bundle_sends_the_contract_auth_message(bundle_findings, frontend_dist):
    """The built bundle sends {type: "auth", token} and no other auth type."""
    found = _of("auth-message", bundle_findings)
    if found:
        raise findings_fault("auth-message", found, frontend_dist)


@pytest.mark.fault("direct-port")
@pytest.mark.usefixtures("requires_websocket_in_bundle")
def test_bundle_derives_the_url_from_the_page_origin(bundle_findings, frontend_dist):
    """The built bundle builds the WebSocket URL from location.origin, never a fixed host or port."""
    found = _of("direct-port", bundle_findings)
    if found:
        raise findings_fault("direct-port", found, frontend_dist)


@pytest.mark.fault("proxy-upgrade")
@in_browser()
def test_browser_on_the_nginx_origin_authenticates(ws_url, early_outcome, stack, contract, gate_options, site_findings):
    """Chromium, on a page with Nginx's origin, derives the URL as the frontend does and authenticates."""
    ex = early_outcome
    if failure := upgrade_fault(ex, stack, gate_options, site_findings):
        raise failure
    if (ex.types, ex.close_code) != ([contract.auth_success_type], None):
        raise exchange_fault(
            "auth-message", ex, "the browser's auth message was not accepted", 'send {"type": "auth", "token": <JWT>}'
        )


@pytest.mark.fault("endpoint")
@in_browser("/api/v1/ai/ws/chat")
def test_browser_dialling_the_outage_endpoint_fails_its_handshake(early_outcome, contract):
    """A page that dials /api/v1/ai/ws/chat sees its WebSocket fail at the handshake, closed 1006 unopened."""
    ex = early_outcome
    if (ex.status == 101, ex.types, ex.close_code) != (False, [], NO_CLOSE_FRAME):
        raise exchange_fault(
            "endpoint",
            ex,
            "/api/v1/ai/ws/chat upgrades for the browser",
            f"serve WebSockets at {contract.ws_path} only",
        )


@pytest.mark.fault("auth-message")
@in_browser(auth_type="authenticate")
def test_browser_sending_the_outage_auth_type_is_closed_with_4001(ws_url, early_outcome, contract):
    """A page that sends {type: "authenticate"} gets an error frame, then close 4001."""
    ex = early_outcome
    if (ex.types, ex.close_code) != ([contract.error_type], contract.close_bad_message):
        raise exchange_fault(
            "auth-message",
            ex,
            'the trading-service did not refuse {"type": "authenticate"} from the browser',
            'the service must answer any first message but {"type": "auth", ...} with an error frame and 4001',
        )


@pytest.mark.fault("endpoint")
@starts_early(_built_page_sockets)
def test_built_page_in_the_browser_dials_only_the_contract_endpoint(frontend_dist, early_outcome, stack, contract):
    """The built index.html, on Nginx's origin, opens WebSockets to /ws/realtime on that origin only."""
    sockets = early_outcome
    wrong = [socket for socket in sockets if socket.url != stack.ws_url()]
    if wrong:
        raise Fault(*(socket_report(socket, stack, frontend_dist, contract) for socket in wrong))
