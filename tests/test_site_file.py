"""The Nginx site file, read statically: its WebSocket location has every line the upgrade needs.
Each finding names file:line and the line to write. Runs on every stack that knows the site file."""

import pytest

from fixtures.contract import CONTRACT
from fixtures.nginx_lint import format_findings, lint_site

pytestmark = pytest.mark.fault("proxy-upgrade")

# Each static check: which findings belong to it (by the line the fix writes).
CHECKS = [
    pytest.param(
        lambda f: f.fault == "endpoint", id="a-location-proxies-the-endpoint", marks=pytest.mark.fault("endpoint")
    ),
    pytest.param(lambda f: f.fix.startswith("proxy_http_version"), id="http-1-1-upstream"),
    pytest.param(lambda f: f.fix.startswith("proxy_set_header Upgrade"), id="upgrade-header"),
    pytest.param(lambda f: f.fix.startswith(("proxy_set_header Connection", "default ")), id="connection-header"),
    pytest.param(lambda f: f.fix.startswith("proxy_read_timeout"), id="read-timeout-an-hour"),
    pytest.param(lambda f: f.fix.startswith("proxy_send_timeout"), id="send-timeout-an-hour"),
    pytest.param(lambda f: f.fix.startswith("proxy_buffering"), id="buffering-off"),
    pytest.param(lambda f: f.fix.startswith("proxy_set_header Host"), id="host-header"),
    pytest.param(lambda f: f.fix.startswith("proxy_set_header X-Real-IP"), id="x-real-ip-header"),
    pytest.param(lambda f: f.fix.startswith("proxy_set_header X-Forwarded-For"), id="x-forwarded-for-header"),
    pytest.param(lambda f: f.fix.startswith("proxy_set_header X-Forwarded-Proto"), id="x-forwarded-proto-header"),
    pytest.param(lambda f: f.fault != "endpoint" and f.fix.startswith("proxy_pass"), id="path-not-rewritten"),
]


@pytest.fixture(scope="session")
def findings(gate_options):
    if gate_options.site_file is None:
        pytest.skip("not run: no site file to read (give --nginx-conf)")
    return lint_site(gate_options.site_file, CONTRACT.ws_path, gate_options.trading_address)


@pytest.mark.parametrize("belongs", CHECKS)
def test_websocket_location_passes_the_static_check(findings, belongs):
    """The WebSocket location has the line this check looks for, with a value that works."""
    mine = [finding for finding in findings if belongs(finding)]
    assert mine == [], f"[static check of the site file]\n{format_findings(mine)}"


def test_site_file_has_no_other_finding(findings):
    """Every finding of the static check belongs to one of the checks above."""
    others = [f for f in findings if not any(check.values[0](f) for check in CHECKS)]
    assert others == [], format_findings(others)
