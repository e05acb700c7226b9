"""The proxy holds the team's real concurrency: --load N sessions through Nginx at once (off by default)."""

import pytest

from fixtures.contract import CONTRACT
from fixtures.load import run_load, write_report
from fixtures.stack import say

pytestmark = pytest.mark.fault("proxy-upgrade")

# Each probe is bounded: sessions not in by then count as failures.
LOAD_LIMIT = 25


def _probable_cause(stack, gate_options) -> str:
    if stack.error_log and "worker_connections are not enough" in stack.error_log.read_text():
        return (
            f"Nginx ran out of worker_connections ({gate_options.worker_connections}; each WebSocket takes two): "
            f"raise worker_connections above {2 * gate_options.load} in nginx.conf's events block"
        )
    return (
        "connections refused or reset under load: check worker_connections in nginx.conf (each WebSocket takes "
        "two) and the open-file limit of Nginx and the service (ulimit -n, worker_rlimit_nofile)"
    )


@pytest.mark.timeout(3 * LOAD_LIMIT)
async def test_proxy_holds_concurrent_sessions(stack, gate_options, mint, progress_bar, pytestconfig):
    """N sessions at once through Nginx all authenticate and answer a ping, within the time bound."""
    if gate_options.load == 0:
        pytest.skip("off by default: give --load N (make load N=1000)")
    token, n = mint(), gate_options.load
    results = [await run_load(stack.ws_url(), n, token, LOAD_LIMIT, progress_bar("through Nginx"))]
    if stack.backend:
        direct = f"ws://{stack.backend}{CONTRACT.ws_path}"
        results.append(await run_load(direct, n, token, LOAD_LIMIT, progress_bar("direct to the service")))
    png = write_report(results, pytestconfig.rootpath / "reports")
    proxied = results[0]
    line = f"load: {len(proxied.latencies)}/{n} through Nginx, connect+auth p50 {proxied.percentile(50) * 1000:.1f} ms"
    line += f", p95 {proxied.percentile(95) * 1000:.1f} ms, p99 {proxied.percentile(99) * 1000:.1f} ms"
    if len(results) == 2:
        line += f"; proxy overhead at p50: x{proxied.percentile(50) / results[1].percentile(50):.2f} of direct"
    say(pytestconfig, f"{line} ({png})")
    assert (len(proxied.latencies), dict(proxied.failures)) == (n, {}), (
        f"[proxy-upgrade] {len(proxied.latencies)} of {n} concurrent sessions got in through Nginx; "
        f"the others: {dict(proxied.failures)}\nfix:  {_probable_cause(stack, gate_options)}"
    )
