"""The proxy holds the team's real concurrency: --load N sessions through Nginx at once (off by default)."""

import functools

import pytest

from fixtures.options import say
from ws_gate.client.load import limit_for, run_locust, write_report
from ws_gate.faults import fault

pytestmark = pytest.mark.fault("proxy-upgrade")

# An anti-hang guard only: each Locust run stops itself within limit_for(N) seconds, and one run of the
# largest N this machine holds (README, section Load) takes under two minutes.
LOAD_TEST_LIMIT = 600


def _probable_cause(stack, gate_options, failures: dict[str, int]) -> str:
    if stack.error_log and "worker_connections are not enough" in stack.error_log.read_text():
        return (
            f"Nginx ran out of worker_connections ({gate_options.worker_connections}; each WebSocket takes two): "
            f"raise worker_connections above {2 * gate_options.load} in nginx.conf's events block"
        )
    if any("Too many open files" in failure for failure in failures):
        return "the load client ran out of file descriptors (three per session): raise its ulimit -n"
    if any(failure.endswith("timed out") for failure in failures):
        return (
            "sessions timed out: the machine ran out of CPU for the client, Nginx or the service; hold fewer "
            "sessions per machine or spread them over several (make load-master, make load-worker)"
        )
    return (
        "connections refused or reset under load: check worker_connections in nginx.conf (each WebSocket takes "
        "two) and the open-file limit of Nginx and the service (ulimit -n, worker_rlimit_nofile)"
    )


def _line(results, n: int) -> str:
    proxied = results[0]
    line = f"load: {proxied.succeeded}/{n} through Nginx, connect+auth p50 {proxied.percentile(50):.0f} ms"
    line += f", p95 {proxied.percentile(95):.0f} ms, p99 {proxied.percentile(99):.0f} ms; {proxied.pings} pings"
    if len(results) == 2 and results[1].failures:  # failed attempts count in Locust's percentiles: no ratio
        return f"{line}; direct to the service only {results[1].succeeded}/{n} got in: no overhead ratio"
    if len(results) == 2:
        return f"{line}; proxy overhead at p50: x{proxied.percentile(50) / results[1].percentile(50):.2f} of direct"
    return line


@pytest.mark.timeout(LOAD_TEST_LIMIT)
def test_proxy_holds_concurrent_sessions(stack, gate_options, mint, progress_bar, pytestconfig):
    """N sessions through Nginx all authenticate, stay open together and answer pings, within the time bound."""
    if gate_options.load == 0:
        pytest.skip("off by default: give --load N (make load N=1000)")
    n, reports = gate_options.load, pytestconfig.getoption("reports").resolve()
    run = functools.partial(
        run_locust,
        n=n,
        token=mint(),
        reports=reports,
        origin=gate_options.origin,
        contract=pytestconfig.getoption("contract"),
    )
    through = progress_bar("through Nginx")
    proxied = run(stack.ws_url(), "nginx", through, connect_to=stack.resolve().get(stack.host), ca_file=stack.ca_file)
    results = [proxied]
    if stack.backend:
        direct = f"ws://{stack.backend}{gate_options.contract.ws_path}"
        results.append(run(direct, "direct", progress_bar("direct to the service")))
    png = write_report(results, reports)
    say(pytestconfig, f"{_line(results, n)} ({png}, Locust's report {reports / 'load-nginx.html'})")
    if (proxied.succeeded, proxied.failures) != (n, {}):
        raise fault(
            "proxy-upgrade",
            f"{proxied.succeeded} of {n} sessions got in and held through Nginx within {limit_for(n):.0f} s",
            _probable_cause(stack, gate_options, proxied.failures),
            sent=[f"{n} sessions to {stack.ws_url()}"],
            got=f"the others: {proxied.failures}",
        )
