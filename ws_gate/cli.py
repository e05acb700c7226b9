"""`ws-gate`: the gate as one command, from any folder. Its own parser (ws_gate/arguments.py) reads the gate's
options, ws_gate/environment.py checks what would fail before any case runs, then the gate's cases run with their
plugins (ws_gate/layout.py says where they are) in a pytest process of its own, which prints the verdict. It exits
0 when the gate passed, 1 when it found a fault, 2 on a usage or environment error. Reports go to reports/ under the
current folder, or to --reports."""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ws_gate import arguments, environment, matrix
from ws_gate.errors import GateSetupError
from ws_gate.layout import ROOT
from ws_gate.reports import ci_report, console, html_report

PYTEST_USAGE_ERROR = 4
# A stopped run tears its stack down in seconds; this bounds one stuck in its teardown.
TEARDOWN_GRACE = 10.0
POLL = 0.2
STUCK = (
    "ws-gate: the run did not end {seconds:.0f} s after the signal: killed with its processes; a Docker stack's "
    "containers may be left: docker ps -aq --filter label=ws-gate.run | xargs -r docker rm -f"
)
USAGE_ERROR = "a pytest option after -- that pytest does not take, or a bad value: pytest's message above says which"
PYTEST_CONFIG = ("--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"))
# --color as pytest spells it.
COLOR = {"auto": "auto", "always": "yes", "never": "no"}


def pytest_arguments(given: argparse.Namespace, extra: list[str], reports: Path) -> list[str]:
    """The gate's pytest command line: the table's options as given, the console the command line asks for, and
    JUnit in the reports folder unless pytest's arguments (`extra`) name another file."""
    junit = (
        []
        if any(option.startswith(("--junitxml", "--junit-xml")) for option in extra)
        else [f"--junitxml={reports / 'junit.xml'}"]
    )
    shown = [
        f"--console={'pytest' if _debugging(given) else 'verdict'}",
        f"--color={COLOR[given.color]}",
        *(["-" + "v" * given.verbose] if given.verbose else []),
        *(["-q"] if given.quiet else []),
        *(["-n", given.jobs] if given.jobs else []),
    ]
    options = [*arguments.gate_options(given), *shown, *junit, *extra]
    return ["--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), *options, str(ROOT / "tests")]


def _debugging(given: argparse.Namespace) -> bool:
    """-vv or --pytest-report: pytest's own report, for debugging the gate itself."""
    return given.pytest_report or given.verbose >= 2


def run_pytest(arguments: list[str], stderr=None) -> tuple[int, bool]:
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
        proc = subprocess.Popen([sys.executable, "-P", "-m", "pytest", *arguments], process_group=0, stderr=stderr)
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
                console.error_line(STUCK.format(seconds=waited))
                return proc.wait(), True
            if waited > TEARDOWN_GRACE and not resent:
                proc.send_signal(received[0])
                resent = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    try:
        given, extra = arguments.parse(sys.argv[1:] if argv is None else argv)
    except arguments.UsageError as error:
        console.error_line(str(error))
        _write_error(ci_report.VERDICT_JSON, str(error))
        return 2
    if given.pytest_help:
        return subprocess.run(
            [sys.executable, "-P", "-m", "pytest", *PYTEST_CONFIG, "--help", str(ROOT / "tests")]
        ).returncode
    reports = getattr(given, "reports", ci_report.REPORTS)
    verdict_json = reports / ci_report.VERDICT_JSON.name
    try:
        environment.check(reports, getattr(given, "summary", None))
    except GateSetupError as error:
        console.error_line(str(error))
        return 2
    versions = matrix.requested(getattr(given, "nginx_version", None))
    if versions:
        own = matrix.OWN_OPTIONS
        others = [option for option in arguments.gate_options(given) if option.split("=", 1)[0] not in own]
        return matrix.main(versions, others, reports)
    debugging = _debugging(given)
    # Under the gate's console pytest's standard error is read once the run ends, and said in one line.
    with tempfile.TemporaryFile("w+") if not debugging else contextlib.nullcontext() as errors:
        pytest_code, interrupted = run_pytest(pytest_arguments(given, extra, reports), stderr=errors)
        said = None
        if errors is not None:
            errors.seek(0)
            said = console.pytest_errors(errors.read())
    # However far an interrupted run got, it gives no verdict: whatever pytest's code, it is exit 2.
    exit_code = 2 if interrupted else ci_report.gate_exit_code(pytest_code)
    if exit_code == 2 and _written_exit_code(verdict_json) != 2:  # stopped before, or while, the plugins wrote it
        error = "interrupted" if interrupted else said or (USAGE_ERROR if pytest_code == PYTEST_USAGE_ERROR else None)
        if error == USAGE_ERROR:
            console.error_line(error)
        _write_error(verdict_json, error)
    return exit_code


def _write_error(verdict_json: Path, error: str | None) -> None:
    """verdict.json (and report.html) for a run that gave no verdict, when its folder can be written."""
    try:
        ci_report.write_json(verdict_json, ci_report.verdict_document(2, error=error))
        html_report.write_beside(verdict_json)
    except OSError:
        pass  # the error line said it; an unwritable folder is said by environment.check


def _written_exit_code(verdict_json: Path) -> int | None:
    try:
        return json.loads(verdict_json.read_text())["exit_code"]
    except (OSError, ValueError, KeyError):
        return None


if __name__ == "__main__":
    sys.exit(main())
