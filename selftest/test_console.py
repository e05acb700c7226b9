"""The gate's own face, as an operator meets it: `ws-gate --help` (the gate's options only, grouped, with their
environment variables and defaults, three examples and the exit codes, in at most 100 lines), and the verdict a
run prints: the outage's before-state in at most 60 lines, each fault and each fix once, no pytest noise; a passing
run in at most 15."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from selftest.gate_run import GATE_RUN_LIMIT, ROOT
from ws_gate.options_table import GROUPS, OPTIONS
from ws_gate.reports import console

WS_GATE = Path(sys.executable).parent / "ws-gate"
OUTAGE_SITE = ROOT / "selftest" / "confs" / "outage-before.conf"
OUTAGE_BUNDLE = ROOT / "selftest" / "bundles" / "outage"
HELP_LINES = 100
OUTAGE_LINES = 60
PASSING_LINES = 15
NOISE = ("Traceback", "0x7f", "assert ", "functools.partial", "test session starts", "SKIPPED", "FAILED tests/")
# Options of pytest and its plugins that must not be in the gate's help.
PYTEST_OPTIONS = ("--junitxml", "--capture", "--strict-markers", "--timeout", "--numprocesses", "--maxfail")


def _run(cwd: Path, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("GITHUB_ACTIONS", "COLUMNS")}
    return subprocess.run(
        [str(WS_GATE), *options],
        cwd=cwd,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )


@pytest.fixture(scope="module")
def help_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    proc = _run(tmp_path_factory.mktemp("help"), "--help", env={"COLUMNS": "80"})
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return proc.stdout


def test_help_fits_and_shows_the_gates_options_only(help_text):
    """At most 100 lines at 80 columns, every option of the table in it, no option of pytest's."""
    lines = help_text.splitlines()
    missing = [option.name for option in OPTIONS if option.name != "--console" and option.name not in help_text]
    pytest_options = [option for option in PYTEST_OPTIONS if option in help_text]
    assert (len(lines) <= HELP_LINES, missing, pytest_options) == (True, [], []), help_text


def test_help_groups_the_options_with_env_defaults_examples_and_exit_codes(help_text):
    """The table's groups in its order, the environment variables and defaults, three examples, the exit codes."""
    headings = [line.rstrip(":") for line in help_text.splitlines() if line.rstrip(":") in GROUPS]
    envs = [option.env for option in OPTIONS if option.env and f"env {option.env}" not in help_text]
    examples = [line for line in help_text.splitlines() if re.match(r"  [\w ]+: +ws-gate ", line)]
    assert (headings, envs, len(examples)) == (list(GROUPS), [], 3), help_text
    assert (
        "(default: reports)" in " ".join(help_text.split()),
        "exit codes: 0 the gate passed, 1 it found a fault, 2" in help_text,
    ) == (
        True,
        True,
    ), help_text


def test_pytest_help_is_behind_its_own_option(tmp_path):
    proc = _run(tmp_path, "--pytest-help")
    """pytest's own help, with its options and the gate's plugins' group."""
    assert (
        proc.returncode,
        proc.stdout.startswith("usage: "),
        "--junit-xml" in proc.stdout,
        "--stack" in proc.stdout,
    ) == (
        0,
        True,
        True,
        True,
    )


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    """The outage's before-state, run plainly: no WebSocket location, a bundle dialling :8001/api/v1/ai/ws/chat and
    sending authenticate, no token."""
    folder = tmp_path_factory.mktemp("outage")
    proc = _run(folder, "--stack=local", f"--nginx-conf={OUTAGE_SITE}", f"--frontend-dist={OUTAGE_BUNDLE}")
    return proc, json.loads((folder / "reports" / "verdict.json").read_text())


def test_the_outage_fits_one_screen_without_noise(outage):
    proc, _ = outage
    output = proc.stdout + proc.stderr
    noise = [word for word in NOISE if word in output]
    assert (proc.returncode, len(output.splitlines()) <= OUTAGE_LINES, noise) == (1, True, []), output


def test_the_outage_names_each_fault_and_each_fix_once(outage):
    """Each fault of verdict.json, and each distinct fix, appears once in the output."""
    proc, verdict = outage
    causes = {fault["cause"]: proc.stdout.count(fault["cause"]) for fault in verdict["faults"]}
    fixes = {fault["fix_summary"] for fault in verdict["faults"] if fault["fix"]["kind"] != "SiteEdit"}
    shown = {fix: proc.stdout.count(fix) for fix in fixes}
    headings = [line for line in proc.stdout.splitlines() if line.startswith("FAULT ")]
    assert (set(causes.values()), set(shown.values())) == ({1}, {1}), proc.stdout
    assert len(headings) == len({fault["fix_summary"] for fault in verdict["faults"]}) >= 4, proc.stdout


def test_the_outage_says_each_not_checked_reason_once(outage):
    """One line per distinct reason (the service-side families are judged at the service, so none is left here),
    the HTML body cut to its title."""
    proc, _ = outage
    reasons = [line.split(": ", 2)[-1] for line in proc.stdout.splitlines() if line.startswith("not checked: ")]
    assert (len(set(reasons)) == len(reasons), "<html>" in proc.stdout) == (True, False), proc.stdout
    assert "an HTML page '500 Internal Server Error'" in proc.stdout


def test_the_last_line_gives_counts_reports_time_and_meaning(outage):
    proc, _ = outage
    last = proc.stdout.splitlines()[-1]
    assert re.fullmatch(
        r"\d+ faults · families: \d+ failed, \d+ passed, \d+ not checked · reports: reports/verdict\.json, .* · "
        r"[\d.]+ s · exit 1: the gate found a fault",
        last,
    ), last


def test_a_passing_run_fits_15_lines(tmp_path):
    proc = _run(tmp_path, "--stack=local")
    lines = proc.stdout.splitlines()
    assert (proc.returncode, len(lines) <= PASSING_LINES, proc.stderr) == (0, True, ""), proc.stdout
    assert (lines[0].startswith("ws-gate "), lines[-1].endswith("exit 0: the gate passed")) == (True, True)


def test_the_header_is_the_same_under_xdist(tmp_path):
    """With -n 2 the header gives the site file, the contract, the token and the frontend as a run without."""
    header = [
        _run(tmp_path, "--stack=local", "--families=security", *jobs).stdout.splitlines()[1:3]
        for jobs in ([], ["-n", "2"])
    ]
    assert (header[0] == header[1], header[0][0].startswith("site file: ")) == (True, True), header


def test_verbose_lists_the_cases_under_each_family(tmp_path):
    proc = _run(tmp_path, "--stack=local", "--families=security", "-v")
    listed = [line for line in proc.stdout.splitlines() if re.match(r"  (passed|failed|skipped) +tests/", line)]
    assert (proc.returncode, "security:" in proc.stdout.splitlines(), len(listed) > 0) == (0, True, True), proc.stdout


@pytest.mark.parametrize(
    ("color", "no_color", "coloured"),
    [("always", False, True), ("always", True, False), ("never", False, False), ("auto", False, False)],
    ids=["always", "always-with-NO_COLOR", "never", "auto-off-a-terminal"],
)
def test_colour_only_when_asked_and_not_under_no_color(monkeypatch, color, no_color, coloured):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    written = io.StringIO()
    console.last_line(console.screen(color, written), {"exit_code": 1, "faults": [], "families": {}}, [])
    assert ("\x1b[" in written.getvalue()) == coloured, repr(written.getvalue())


def test_an_html_body_is_cut_to_its_title():
    reason = "body '<html>\\r\\n<head><title>502 Bad Gateway</title></head>\\r\\n<body>... (157 chars)'); why"
    assert console.short_reason(reason) == "body an HTML page '502 Bad Gateway'); why"
