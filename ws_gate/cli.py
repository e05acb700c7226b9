"""`ws-gate`: the gate as one command, from any folder. It takes the pytest plugin's options, runs the gate's
cases with their plugins (ws_gate/layout.py says where they are) in a pytest process of its own, and exits 0 when
the gate passed, 1 when it found a fault, 2 on a usage or environment error. Reports go to reports/ under the
current folder."""

import signal
import subprocess
import sys

from ws_gate import __version__
from ws_gate.layout import ROOT
from ws_gate.reports import ci_report


def pytest_arguments(options: list[str]) -> list[str]:
    """The gate's pytest command line for `options`: JUnit in reports/junit.xml unless another file is given."""
    junit = (
        []
        if any(option.startswith(("--junitxml", "--junit-xml")) for option in options)
        else [f"--junitxml={ci_report.REPORTS / 'junit.xml'}"]
    )
    return ["--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), *junit, *options, str(ROOT / "tests")]


def run_pytest(arguments: list[str]) -> int:
    """pytest's exit code for `arguments`; a SIGTERM to this command reaches pytest, which tears the stack down."""
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *arguments])
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the terminal sent SIGINT to pytest too; wait for its teardown
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    options = sys.argv[1:] if argv is None else argv
    if "--version" in options:
        print(f"ws-gate {__version__}")
        return 0
    ci_report.VERDICT_JSON.unlink(missing_ok=True)
    exit_code = ci_report.gate_exit_code(run_pytest(pytest_arguments(options)))
    if exit_code == 2 and not ci_report.VERDICT_JSON.exists():  # stopped before the gate's plugins ran
        ci_report.write_json(ci_report.VERDICT_JSON, ci_report.verdict_document(exit_code))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
