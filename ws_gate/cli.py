"""`ws-gate`: the gate as one command, from any folder. It takes the pytest plugin's options, runs the gate's
cases with their plugins (ws_gate/layout.py says where they are) in a pytest process of its own, and exits 0 when
the gate passed, 1 when it found a fault, 2 on a usage or environment error. Reports go to reports/ under the
current folder."""

import json
import os
import signal
import subprocess
import sys
import time

from ws_gate import __version__, matrix
from ws_gate.layout import ROOT
from ws_gate.reports import ci_report, html_report

PYTEST_USAGE_ERROR = 4
# A stopped run tears its stack down in seconds; this bounds one stuck in its teardown.
TEARDOWN_GRACE = 10.0
POLL = 0.2
STUCK = (
    "ws-gate: the run did not end {seconds:.0f} s after the signal: killed with its processes; a Docker stack's "
    "containers may be left: docker ps -aq --filter label=ws-gate.run | xargs -r docker rm -f"
)
USAGE_ERROR = "an option the gate does not take, or a bad value: pytest's message above says which"


def pytest_arguments(options: list[str]) -> list[str]:
    """The gate's pytest command line for `options`: JUnit in reports/junit.xml unless another file is given."""
    junit = (
        []
        if any(option.startswith(("--junitxml", "--junit-xml")) for option in options)
        else [f"--junitxml={ci_report.REPORTS / 'junit.xml'}"]
    )
    return ["--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), *junit, *options, str(ROOT / "tests")]


def run_pytest(arguments: list[str]) -> tuple[int, bool]:
    """pytest's exit code for `arguments`, and whether a signal interrupted it. pytest runs in a process group of
    its own, so that a Ctrl-C or a SIGTERM, to this command or to its group, reaches pytest once, through here: its
    teardown then runs whole. A teardown that outlasts TEARDOWN_GRACE gets the signal again, then its whole group
    is killed."""
    received: list[int] = []
    proc: subprocess.Popen | None = None

    def forward(signum, frame) -> None:
        received.append(signum)
        if proc is not None:
            proc.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        # -P: the current folder, a team's repository, goes on no import path.
        proc = subprocess.Popen([sys.executable, "-P", "-m", "pytest", *arguments], process_group=0)
        if received:  # a signal came before there was a pytest to forward it to
            proc.send_signal(received[0])
        signalled_at, resent = None, False
        while True:
            try:
                return proc.wait(timeout=POLL), bool(received)
            except subprocess.TimeoutExpired:
                if not received:
                    continue
            signalled_at = signalled_at or time.monotonic()
            waited = time.monotonic() - signalled_at
            if waited > 2 * TEARDOWN_GRACE:
                os.killpg(proc.pid, signal.SIGKILL)
                print(STUCK.format(seconds=waited), file=sys.stderr)
                return proc.wait(), True
            if waited > TEARDOWN_GRACE and not resent:
                proc.send_signal(received[0])
                resent = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    options = sys.argv[1:] if argv is None else argv
    if "--version" in options:
        print(f"ws-gate {__version__}")
        return 0
    if matrix.requested(options):
        return matrix.main(options)
    ci_report.VERDICT_JSON.unlink(missing_ok=True)
    pytest_code, interrupted = run_pytest(pytest_arguments(options))
    # However far an interrupted run got, it gives no verdict: whatever pytest's code, it is exit 2.
    exit_code = 2 if interrupted else ci_report.gate_exit_code(pytest_code)
    if exit_code == 2 and _written_exit_code() != 2:  # stopped before, or while, the gate's plugins wrote it
        error = "interrupted" if interrupted else USAGE_ERROR if pytest_code == PYTEST_USAGE_ERROR else None
        if error == USAGE_ERROR:
            print(f"ws-gate: {error}", file=sys.stderr)
        ci_report.write_json(ci_report.VERDICT_JSON, ci_report.verdict_document(exit_code, error=error))
        html_report.write_beside(ci_report.VERDICT_JSON)
    return exit_code


def _written_exit_code() -> int | None:
    try:
        return json.loads(ci_report.VERDICT_JSON.read_text())["exit_code"]
    except (OSError, ValueError, KeyError):
        return None

if __name__ == "__main__":
    sys.exit(main())
