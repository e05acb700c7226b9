"""A death is a death: `kill -9` of an nginx master of a run (the site's, the idle check's time-scaled one), at a
random moment, ends the run with exit 2 and the line "Nginx died (SIGKILL) during <case>"; no case blames a timeout,
a claim or the site file for it. So does a worker killed from outside; a worker that crashes (SIGSEGV) crashed on
what it served, the site file's doing: exit 1, named as that crash."""

import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import suppress
from pathlib import Path

import pytest

from selftest.gate_run import ROOT
from ws_gate.nginx.binary import machine_nginx

READY_BOUND = 20.0  # seconds for the gate to start the master it is to lose
RUN_BOUND = 30.0  # seconds for the killed run to end
# Seconds after the master started: within the idle check's hold (1.9 s), while the run's first cases go on.
KILL_WINDOW = (0.0, 2.0)
# What a death must never be read as: the idle check's cut, a fault of a family.
BLAMES = ("Nginx cut the idle session", "s in production")


def _master(gate: subprocess.Popen, stack: str) -> int:
    """The pid of the nginx master of the gate's `stack` work folder ("stack" or "idle"), once it runs."""
    deadline = time.monotonic() + READY_BOUND
    while time.monotonic() < deadline:
        for pid_file in Path(tempfile.gettempdir()).glob(f"ws-gate-run-{gate.pid}-{stack}-*/nginx/nginx.pid"):
            pid = pid_file.read_text().strip()
            if pid:
                return int(pid)
        time.sleep(0.02)
    gate.kill()
    pytest.fail(f"the gate started no {stack} Nginx within {READY_BOUND:g} s:\n{gate.communicate()[0][-2000:]}")


def _worker(master: int) -> int:
    """A worker of the nginx `master`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                return int(stat.parent.name)
    pytest.fail(f"nginx master {master} has no worker")


LOSSES = [
    pytest.param("stack", "master", signal.SIGKILL, "Nginx died (SIGKILL) during tests/", 2, id="site-master"),
    pytest.param("idle", "master", signal.SIGKILL, "Nginx died (SIGKILL) during tests/", 2, id="idle-master-1"),
    pytest.param("idle", "master", signal.SIGKILL, "Nginx died (SIGKILL) during tests/", 2, id="idle-master-2"),
    pytest.param("stack", "worker", signal.SIGKILL, "Nginx's worker died (SIGKILL) during tests/", 2, id="site-worker"),
    pytest.param(
        "stack", "worker", signal.SIGSEGV, "Nginx's worker crashed (SIGSEGV) during tests/", 1, id="site-worker-crash"
    ),
]


@pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")
@pytest.mark.parametrize(("stack", "process", "signum", "named", "exit_code"), LOSSES)
def test_lost_nginx_process_is_named_as_such(tmp_path, stack, process, signum, named, exit_code):
    """The exit code, the loss named with the case under way, and every failing case a stack failure."""
    delay = random.uniform(*KILL_WINDOW)
    junit = tmp_path / "junit.xml"
    gate = subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests", "--stack=local", "-q", f"--junitxml={junit}"],
        cwd=ROOT,
        env={**os.environ, "WS_E2E_JWT_SECRET": secrets.token_urlsafe(48)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    master = _master(gate, stack)
    time.sleep(delay)
    os.kill(master if process == "master" else _worker(master), signum)
    output = gate.communicate(timeout=RUN_BOUND)[0]
    failures = [case.find("failure") for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None]
    blamed = [f.get("message", "") for f in failures if not f.get("message", "").startswith("[stack]")]
    blamed += [words for words in BLAMES if words in output]
    assert (gate.returncode, named in output, blamed) == (exit_code, True, []), f"after {delay:.2f} s\n{output[-3000:]}"
