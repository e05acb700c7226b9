"""The load probe distributed: one Locust master and two workers on loopback, through the gate's local stack,
hold every session, and the master's totals are the workers' own tallies added up."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.options import say
from ws_gate.client.load import CONNECT, LOCUSTFILE, PING
from ws_gate.contract import load_contract
from ws_gate.layout import DEFAULT_SITE, ROOT
from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.runtime import installed_prefix
from ws_gate.processes import environ, free_port
from ws_gate.settings import GateOptions
from ws_gate.stacks import local_stack
from ws_gate.timeouts import LONG

SESSIONS = 40
WORKERS = 2
# The run stops itself once every session is in and all are held a second; this bounds it if it does not.
RUN_LIMIT = 30
CREDENTIALS = ("WS_E2E_JWT_SECRET", "WS_E2E_TOKEN")
TALLY = re.compile(r"this worker: (\d+) sessions in, (\d+) failed")

requires_nginx = pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")


@pytest.fixture
def loopback_stack(pytestconfig):
    """Nginx on the production site file in front of the stub, and the stub's JWT secret."""
    gate = GateOptions.local_stub(DEFAULT_SITE, load_contract(), installed_prefix(), load=SESSIONS)
    with local_stack.start(gate, lambda line: say(pytestconfig, line)) as stack:
        yield stack, gate.jwt_secret


def _locust(log: Path, *arguments: str, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *arguments],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _finish(proc: subprocess.Popen, timeout: float) -> int | None:
    """The exit code, or None when the process had to be killed after `timeout` seconds."""
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


@requires_nginx
def test_master_totals_are_the_two_workers_sessions_added_up(loopback_stack, tmp_path):
    """Every session through Nginx gets in and pings; the master counts as many as the workers held, half each."""
    stack, secret = loopback_stack
    port, csv = free_port(), tmp_path / "distributed"
    master = _locust(
        tmp_path / "master.log",
        *("--master", "--master-bind-host=127.0.0.1", f"--master-bind-port={port}", "--headless", "--only-summary"),
        *(f"--expect-workers={WORKERS}", f"--expect-workers-max-wait={RUN_LIMIT}", f"--run-time={RUN_LIMIT}s"),
        *(f"--users={SESSIONS}", f"--spawn-rate={SESSIONS}", f"--host={stack.ws_url()}", "--hold=1", "--ping-every=1"),
        *(f"--connect-to={stack.resolve().get(stack.host, '')}", f"--csv={csv}", "--exit-code-on-error=0"),
        env={name: value for name, value in environ().items() if name not in CREDENTIALS},  # the master mints nothing
    )
    workers = [
        _locust(
            tmp_path / f"worker{index}.log",
            *("--worker", "--master-host=127.0.0.1", f"--master-port={port}"),
            env=environ(WS_E2E_JWT_SECRET=secret),
        )
        for index in range(WORKERS)
    ]
    codes = [_finish(master, RUN_LIMIT + LONG), *(_finish(worker, LONG) for worker in workers)]
    logs = "\n".join(log.read_text() for log in sorted(tmp_path.glob("*.log")))
    tallies = [tuple(map(int, found)) for found in TALLY.findall(logs)]
    rows = {row.split(",")[1]: row.split(",")[2:4] for row in Path(f"{csv}_stats.csv").read_text().splitlines()[1:]}
    (sessions, failed), (pings, ping_failures) = (rows.get(name, ["0", "0"]) for name in (CONNECT, PING))
    assert (codes, [sessions, failed], tallies, int(pings) >= SESSIONS, ping_failures) == (
        [0, 0, 0],
        [str(SESSIONS), "0"],
        [(SESSIONS // WORKERS, 0)] * WORKERS,
        True,
        "0",
    ), logs[-3000:]
