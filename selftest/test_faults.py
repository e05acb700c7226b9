"""The gate under faults: a stack process killed mid-run is named once, the run exits 2 within seconds of the
kill, and nothing of it is left behind."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from selftest.gate_run import ROOT

REPORT_BOUND = 5.0  # seconds from the kill to the gate's exit
READY_BOUND = 20.0  # seconds for the gate to start its stack
KILL_AFTER = 1.0  # seconds into the run: the cases are under way
HANG_BOUND = 20.0  # seconds for a whole run against a trading-service that never answers
RUN_BOUND = 10.0  # seconds for a whole run against a trading-service that is down


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Every process: its pid and the fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError):  # the process ended while we read it
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> dict[int, str]:
    """The direct children of `pid`: their command lines by pid."""
    found = {}
    for child, fields in _processes():
        if int(fields[1]) == pid:
            with suppress(OSError):
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def _stack_pids(gate: subprocess.Popen, stub: bool = True) -> dict[str, int]:
    """Nginx's master and the stub (when the gate runs one), once the gate has started them."""
    deadline = time.monotonic() + READY_BOUND
    while time.monotonic() < deadline:
        # The stack's work folder; the idle check's time-scaled Nginx and stub have one of their own.
        pid_files = list(Path(tempfile.gettempdir()).glob(f"ws-gate-run-{gate.pid}-stack-*/nginx/nginx.pid"))
        stubs = [
            pid
            for pid, cmdline in _children(gate.pid).items()
            if "stub.py" in cmdline and pid_files and _logs_into(pid, pid_files[0].parents[1])
        ] or [None] * (not stub)
        if pid_files and pid_files[0].read_text().strip() and stubs:
            return {"nginx": int(pid_files[0].read_text()), "stub": stubs[0]}
        time.sleep(0.05)
    gate.kill()
    pytest.fail(f"the gate did not start its stack within {READY_BOUND:g} s:\n{gate.communicate()[0][-2000:]}")


def _logs_into(pid: int, folder: Path) -> bool:
    """Whether process `pid` writes its log into `folder`."""
    with suppress(OSError):
        return Path(os.readlink(f"/proc/{pid}/fd/2")).is_relative_to(folder)
    return False


def _left_behind(gate_pid: int, nginx_pid: int) -> list[str]:
    """Processes of the stack's groups and work folders of the run that still exist."""
    left = [f"process {pid}" for pid in _group(nginx_pid)]
    left += [str(path) for path in Path(tempfile.gettempdir()).glob(f"ws-gate-run-{gate_pid}-*")]
    return left


def _group(pgid: int) -> list[int]:
    """The live members of process group `pgid` (a killed process is a zombie until its new parent reaps it)."""
    return [pid for pid, fields in _processes() if int(fields[3]) == pgid and fields[0] != "Z"]


def _kill(target: str, pids: dict[str, int]) -> None:
    if target == "nginx-group":
        os.killpg(pids["nginx"], signal.SIGKILL)  # master and workers, as a crash of the whole service
    elif target == "nginx-master":
        os.kill(pids["nginx"], signal.SIGKILL)  # the master alone, as the OOM killer picks it
    else:
        os.killpg(pids["stub"], signal.SIGKILL)


KILLS = [
    pytest.param("nginx-group", "Nginx died (SIGKILL) during tests/", id="nginx-master-and-workers"),
    pytest.param("nginx-master", "Nginx died (SIGKILL) during tests/", id="nginx-master-alone"),
    pytest.param("stub", "the stub trading-service died (SIGKILL) during tests/", id="trading-service"),
]


def _gate(junit: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests", "--stack=local", "-q", f"--junitxml={junit}", *options],
        cwd=ROOT,
        env={**os.environ, "WS_E2E_JWT_SECRET": secrets.token_urlsafe(48)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextmanager
def silent_backend() -> Iterator[socket.socket]:
    """A trading-service that accepts every connection and never answers, until the context ends."""
    server = socket.create_server(("127.0.0.1", 0), backlog=512)
    server.settimeout(0.05)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            with suppress(TimeoutError):
                held.append(server.accept()[0])

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        stopping.set()
        acceptor.join()
        server.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize(("target", "named"), KILLS)
def test_stack_killed_mid_run_is_named_once(tmp_path, target, named):
    """Exit 2 within 5 s of the kill; the verdict's first row names the stack, and every failing case names it
    too (never a token, security or proxy fix); no process or folder of the run is left."""
    junit = tmp_path / "junit.xml"
    gate = _gate(junit)
    pids = _stack_pids(gate)
    time.sleep(KILL_AFTER)
    _kill(target, pids)
    killed = time.monotonic()
    output = gate.communicate(timeout=60)[0]
    took = time.monotonic() - killed
    failures = [case.find("failure") for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None]
    blamed_elsewhere = [f for f in failures if not f.get("message", "").startswith("[stack]")]
    named_once = named in output and "the stack under test    WENT AWAY" in output
    assert (gate.returncode, took < REPORT_BOUND, named_once, blamed_elsewhere) == (2, True, True, []), (
        f"took {took:.1f} s\n{output[-3000:]}"
    )
    assert _left_behind(gate.pid, pids["nginx"]) == []


def test_backend_that_never_answers_is_named_as_a_hang(tmp_path):
    """A trading-service that accepts connections and never answers: every case is bounded, the run ends
    within 20 s with exit 1, and the failure names the hang."""
    with silent_backend() as backend:
        started = time.monotonic()
        gate = _gate(tmp_path / "junit.xml", f"--backend-url=http://127.0.0.1:{backend.getsockname()[1]}")
        output = gate.communicate(timeout=60)[0]
    took = time.monotonic() - started
    assert (gate.returncode, took < HANG_BOUND, "the trading-service hangs" in output) == (1, True, True), (
        f"took {took:.1f} s\n{output[-3000:]}"
    )


def test_backend_stopped_is_trading_service_down(tmp_path):
    """With the trading-service stopped once the stack runs, the handshake gets 502 and the failure reads
    "trading-service down behind Nginx", quoting Nginx's connect() line."""
    with silent_backend() as backend:
        gate = _gate(tmp_path / "junit.xml", f"--backend-url=http://127.0.0.1:{backend.getsockname()[1]}")
        pids = _stack_pids(gate, stub=False)
    stopped = time.monotonic()
    output = gate.communicate(timeout=60)[0]
    took = time.monotonic() - stopped
    down = "HTTP 502" in output and "trading-service down behind Nginx" in output and "connect() failed" in output
    assert (gate.returncode, took < RUN_BOUND, down) == (1, True, True), f"took {took:.1f} s\n{output[-3000:]}"
    assert _left_behind(gate.pid, pids["nginx"]) == []
