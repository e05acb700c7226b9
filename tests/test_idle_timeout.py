"""An idle trading session outlives Nginx's read timeout, shown on the real Nginx with time scaled down: the site
file's timers and the service's pings run at a fraction of their production values, and an authenticated session
held idle through the scaled horizon is alive at its end. The static check explains a cut with file:line. A cut
that came after the gate's own client or stub was late is no verdict on Nginx: it is held again with more room, and
if the machine is still too busy, the case says so and is not checked."""

import pytest

from ws_gate.diagnosis import exchange_fault
from ws_gate.nginx.idle_check import MAX_HOLD
from ws_gate.nginx.lint import IDLE_RULE, Finding
from ws_gate.timeouts import LONG

pytestmark = pytest.mark.fault("proxy-upgrade")


def test_idle_session_outlives_the_read_timeout(ws_url, idle_session, idle_rerun, site_findings: list[Finding]):
    """An idle session lives through the horizon (without pings) or between the service's pings."""
    outcome = idle_session.result(timeout=MAX_HOLD + 2 * LONG)
    if outcome.unclear:
        outcome = idle_rerun(outcome.plan.looser())
    if outcome.unclear:
        pytest.skip(f"inconclusive: the machine was too busy to scale this timeout: {outcome.too_busy()}")
    why = [finding for finding in site_findings if finding.rule == IDLE_RULE]
    fix = why[0].report().fix if why else "a proxy_read_timeout above the service's ping interval, or an hour"
    if not outcome.alive:
        raise exchange_fault("proxy-upgrade", outcome, "Nginx cut the idle session", fix)
