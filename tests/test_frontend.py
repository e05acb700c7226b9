"""The frontend dials /ws/realtime on its own page origin and sends {"type": "auth"}: in its built
bundle (--frontend-dist) and in a real browser whose page has Nginx's origin."""

import pytest

from fixtures.contract import CONTRACT
from fixtures.frontend import findings_report, open_built_page, open_test_page, socket_report
from fixtures.report import diagnose_handshake, explain
from fixtures.wsclient import NO_CLOSE_FRAME

WRONG_PAGES = [
    pytest.param(
        "/api/v1/ai/ws/chat", CONTRACT.auth_type, (False, [], NO_CLOSE_FRAME), "endpoint", id="ai-chat-endpoint"
    ),
    pytest.param(
        CONTRACT.ws_path,
        "authenticate",
        (True, [CONTRACT.error_type], CONTRACT.close_bad_message),
        "auth-message",
        id="authenticate-type",
    ),
]


def _of(fault, findings):
    return [finding for finding in findings if finding.fault == fault]


def test_bundle_dials_the_contract_endpoint(bundle_findings, frontend_dist):
    """The built bundle opens a WebSocket, and only at /ws/realtime."""
    found = _of("endpoint", bundle_findings)
    assert found == [], findings_report("endpoint", found, frontend_dist)


@pytest.mark.usefixtures("requires_websocket_in_bundle")
def test_bundle_sends_the_contract_auth_message(bundle_findings, frontend_dist):
    """The built bundle sends {type: "auth", token} and no other auth type."""
    found = _of("auth-message", bundle_findings)
    assert found == [], findings_report("auth-message", found, frontend_dist)


@pytest.mark.usefixtures("requires_websocket_in_bundle")
def test_bundle_derives_the_url_from_the_page_origin(bundle_findings, frontend_dist):
    """The built bundle builds the WebSocket URL from location.origin, never a fixed host or port."""
    found = _of("direct-port", bundle_findings)
    assert found == [], findings_report("direct-port", found, frontend_dist)


def test_browser_on_the_nginx_origin_authenticates(page, stack, mint):
    """Chromium, on a page with Nginx's origin, derives the URL as the frontend does and authenticates."""
    ex = open_test_page(page, stack, CONTRACT.ws_path, CONTRACT.auth_type, mint())
    if ex.status != 101:
        pytest.fail(explain("proxy-upgrade", ex, *diagnose_handshake(ex, stack)))
    assert (ex.types, ex.close_code) == ([CONTRACT.auth_success_type], None), explain(
        "auth-message", ex, "the browser's auth message was not accepted", 'send {"type": "auth", "token": <JWT>}'
    )


@pytest.mark.parametrize(("path", "auth_type", "expected", "fault"), WRONG_PAGES)
def test_browser_sees_the_outage_faults_fail(page, stack, mint, path, auth_type, expected, fault):
    """A page dialling the outage's endpoint fails its handshake; one sending its auth type gets an error, then 4001."""
    ex = open_test_page(page, stack, path, auth_type, mint())
    assert (ex.status == 101, ex.types, ex.close_code) == expected, explain(
        fault,
        ex,
        f"the browser did not see the {fault} fault refused",
        f"only {CONTRACT.ws_path} may upgrade; any first message but type {CONTRACT.auth_type!r} gets 4001",
    )


def test_built_page_in_the_browser_dials_only_the_contract_endpoint(page, stack, frontend_dist):
    """The built index.html, on Nginx's origin, opens WebSockets to /ws/realtime on that origin only."""
    wrong = [socket for socket in open_built_page(page, stack, frontend_dist) if socket.url != stack.ws_url()]
    assert wrong == [], "\n".join(socket_report(socket, stack, frontend_dist) for socket in wrong)
