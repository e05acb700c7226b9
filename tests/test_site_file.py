"""The Nginx site file, read statically: the WebSocket location of the server a browser reaches has every line
the upgrade needs. Each failure names file:line and the line to write; advice and information are reported at
the end of the run. Runs on every stack that knows the site file."""

import pytest

from ws_gate.contract import HEADER_ADVICE
from ws_gate.faults import FINDING, Fault
from ws_gate.nginx import checks
from ws_gate.nginx.checks import rules_for
from ws_gate.nginx.lint import FAILURE, IDLE_RULE, Finding, failures

pytestmark = pytest.mark.fault("proxy-upgrade")

# Each static check that fails the run, from the rule table, with every header a contract may require by default
# (a header the contract does not require gives none of its findings).
CHECKS = [
    pytest.param(rule.id, id=rule.id, marks=pytest.mark.fault(rule.family))
    for rule in rules_for(tuple(HEADER_ADVICE))
    if rule.severity == FAILURE
]

# What a handshake through Nginx that upgraded, as the stub saw it, proves of the site file.
PROVED_BY_THE_HANDSHAKE = {rule.id for rule in (checks.HTTP_1_1, checks.UPGRADE_HEADER, checks.CONNECTION_HEADER)}
CONTRADICTED = "information: the handshake through Nginx got 101 and the trading-service saw the upgrade, so this"


@pytest.fixture(scope="session")
def findings(site_findings) -> list[Finding]:
    if site_findings is None:
        pytest.skip("not run: no site file to read (give --nginx-conf)")
    return site_findings


@pytest.mark.parametrize("rule", CHECKS)
def test_websocket_location_passes_the_static_check(findings, rule, request):
    """The WebSocket location has the line this check looks for, with a value that works."""
    if rule == IDLE_RULE:
        judged_on_nginx(request)
    mine = [finding for finding in failures(findings) if finding.rule == rule]
    if rule in PROVED_BY_THE_HANDSHAKE and mine and request.getfixturevalue("upgrade_proved"):
        for finding in mine:
            request.node.user_properties.append((FINDING, f"{CONTRADICTED} static finding is wrong: {finding}"))
        return
    if mine:
        raise Fault(*(finding.report() for finding in mine))


def judged_on_nginx(request: pytest.FixtureRequest) -> None:
    """Idle timeouts are judged on the real Nginx, time-scaled, wherever the idle check runs; its failure quotes
    this check's finding. Where it cannot run, this check judges them."""
    try:
        request.getfixturevalue("idle_plan")
    except pytest.skip.Exception:
        return
    pytest.skip("not run: the real Nginx, time-scaled, judges idle timeouts (test_idle_timeout.py)")


def test_site_file_has_no_other_failure(findings):
    """Every failure of the static check belongs to one of the checks above."""
    rules = {check.values[0] for check in CHECKS}
    others = [finding for finding in failures(findings) if finding.rule not in rules]
    if others:
        raise Fault(*(finding.report() for finding in others))


def test_site_file_advice_is_reported(findings, request):
    """Advice and information of the static check are printed at the end of the run, never failed."""
    for finding in findings:
        if finding.severity != FAILURE:
            request.node.user_properties.append((FINDING, f"{finding.severity}: {finding}"))
