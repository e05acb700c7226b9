"""The gate passes against trading-services it did not write, each on its library's default limits, put
behind the gate's Nginx with --backend-url: selftest/backends/starlette_service.py (Starlette and uvicorn)
and selftest/backends/node/service.js (Node's ws and jsonwebtoken)."""

import pytest

from selftest.mutants import NODE, PINGS, STARLETTE, STARLETTE_PINGING, requires_node_service

STUB_ONLY_REASON = "needs the gate's stub"
# The tests that read the stub's handshake records or ask it for push frames.
STUB_ONLY_TESTS = {
    "test_backend_receives_the_forwarded_header",
    "test_backend_receives_http_1_1",
    "test_pushed_frames_are_not_buffered",
    "test_contract_route_upgrades_through_nginx",
}


@pytest.mark.parametrize(
    "service", [pytest.param(STARLETTE, id="starlette"), pytest.param(NODE, id="node", marks=requires_node_service)]
)
def test_gate_passes_against_the_independent_service(tmp_path, service):
    """Exit 0, nothing failed, and the tests that need the stub skipped, saying so."""
    run = service.run(tmp_path)
    stub_only = {
        test.split("::")[-1].split("[")[0]
        for test, reason in run.skip_reasons.items()
        if reason.startswith(STUB_ONLY_REASON)
    }
    assert (run.exit_code, run.failed, stub_only) == (0, set(), STUB_ONLY_TESTS), run.output[-3000:]


def test_starlette_service_pinging_within_the_contract_interval_passes(tmp_path):
    """Under a contract with server_ping_interval = 1, the Starlette service pinging every 0.5 s passes, the
    ping check included."""
    run = STARLETTE_PINGING.run(tmp_path)
    assert (run.exit_code, run.failed, PINGS in run.passed) == (0, set(), True), run.output[-3000:]
