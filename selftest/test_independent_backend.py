"""The gate passes against a trading-service it did not write: selftest/backends/starlette_service.py,
the contract on Starlette and uvicorn, put behind the gate's Nginx with --backend-url."""

from selftest.mutants import PINGS, STARLETTE, STARLETTE_PINGING

STUB_ONLY_REASON = "needs the gate's stub"
# The tests that read the stub's handshake records or ask it for push frames.
STUB_ONLY_TESTS = {
    "test_backend_receives_the_forwarded_header",
    "test_backend_receives_http_1_1",
    "test_pushed_frames_are_not_buffered",
}


def test_gate_passes_against_the_starlette_service(tmp_path):
    """Exit 0, nothing failed, and the tests that need the stub skipped, saying so."""
    run = STARLETTE.run(tmp_path)
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
