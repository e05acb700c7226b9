"""The ws-gate command as CI runs it, from another folder: exact exit codes, reports/verdict.json on every run,
the site file's findings as SARIF 2.1.0 (valid against the schema) and as GitHub Actions annotations."""

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from selftest.gate_run import GATE_RUN_LIMIT, ROOT
from ws_gate.nginx.lint import ADVICE, FAILURE, INFORMATION, Finding
from ws_gate.processes import left_work_folders, work_folders
from ws_gate.reports import ci_report
from ws_gate.stacks.offline_images import impossible

WS_GATE = Path(sys.executable).parent / "ws-gate"
UPGRADE_MISSING = ROOT / "selftest" / "confs" / "upgrade-missing.conf"
SARIF_SCHEMA = ROOT / "selftest" / "schemas" / "sarif-2.1.0-rtm.5.json"
UPGRADE_FIX = "proxy_set_header Upgrade $http_upgrade;"
# A stopped run tears the stack down in about a second; this only bounds a hung one.
SIGNAL_TEARDOWN_LIMIT = 30


@dataclass
class CommandRun:
    exit_code: int
    output: str
    reports: Path

    def verdict(self) -> dict:
        return json.loads((self.reports / "verdict.json").read_text())


def ws_gate(cwd: Path, *options: str, env: dict[str, str] | None = None) -> CommandRun:
    """`ws-gate --stack=local OPTIONS` run in `cwd`, as a CI step runs it."""
    proc = subprocess.run(
        [str(WS_GATE), "--stack=local", "-q", *options],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )
    return CommandRun(proc.returncode, proc.stdout + proc.stderr, cwd / "reports")


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> CommandRun:
    """The gate on a site file without the Upgrade header, as under GitHub Actions in this repository."""
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(ROOT)}
    return ws_gate(tmp_path_factory.mktemp("broken"), f"--nginx-conf={UPGRADE_MISSING}", env=env)


def test_production_site_file_exits_0(tmp_path):
    """The production site file in front of the stub passes: exit 0, verdict.json says passed; its one finding
    is advice (proxy_connect_timeout 120s), a SARIF warning."""
    run = ws_gate(tmp_path)
    assert run.exit_code == 0, run.output[-3000:]
    verdict = run.verdict()
    assert (verdict["status"], verdict["exit_code"], verdict["stack"]["name"]) == ("passed", 0, "local")
    assert {family["status"] for family in verdict["families"].values()} == {"passed", "not checked"}
    advice = [(finding["line"], finding["fix"]) for finding in verdict["findings"]]
    assert (advice, verdict["failures"]) == ([(29, "proxy_connect_timeout 10s;")], [])
    sarif = json.loads((run.reports / "ws-gate.sarif").read_text())
    assert [result["level"] for result in sarif["runs"][0]["results"]] == ["warning"]


def test_site_file_without_upgrade_exits_1(broken_run):
    """A site file without the Upgrade header is a fault: exit 1, and the family names the fix."""
    assert broken_run.exit_code == 1, broken_run.output[-3000:]
    family = broken_run.verdict()["families"]["proxy-upgrade"]
    fix = f"{UPGRADE_MISSING.relative_to(ROOT)}:3: add `{UPGRADE_FIX}`"  # relative to the repository root
    assert (family["status"], family["first_fix"]) == ("failed", fix)


def test_verdict_json_names_the_finding_at_its_line(broken_run):
    """verdict.json holds the static check's finding with its family, file relative to the repository root, line,
    message and fix."""
    assert broken_run.verdict()["findings"] == [
        {
            "family": "proxy-upgrade",
            "rule": "upgrade-header",
            "file": "selftest/confs/upgrade-missing.conf",  # relative to the workspace, the root
            "line": 3,
            "message": "Upgrade header not forwarded",
            "fix": UPGRADE_FIX,
            "level": "error",
            "edit": {
                "at": {"file": "selftest/confs/upgrade-missing.conf", "line": 3, "offset": None},
                "write": [UPGRADE_FIX],
                "replaces": "",
            },
        }
    ]


def test_sarif_is_valid_and_points_at_the_line(broken_run):
    """reports/ws-gate.sarif is valid SARIF 2.1.0 with the finding at its file, relative to the workspace."""
    sarif = json.loads((broken_run.reports / "ws-gate.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert (result["ruleId"], result["level"]) == ("upgrade-header", "error")
    assert location == {
        "artifactLocation": {"uri": "selftest/confs/upgrade-missing.conf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }


def test_findings_are_annotations_under_github_actions(broken_run):
    """Under GitHub Actions each finding is an ::error workflow command on its file and line."""
    command = (
        "::error file=selftest/confs/upgrade-missing.conf,line=3,title=ws-gate proxy-upgrade::"
        f"Upgrade header not forwarded -> {UPGRADE_FIX}"
    )
    assert command in broken_run.output.splitlines()


def test_missing_site_file_exits_2_with_one_line(tmp_path):
    """A site file path that does not exist is an environment error: one line, exit 2, verdict.json says why, with
    the path relative to the working folder."""
    run = ws_gate(tmp_path, f"--nginx-conf={tmp_path / 'absent.conf'}")
    assert (run.exit_code, run.output.splitlines()) == (2, ["ws-gate: --nginx-conf absent.conf: no such file"])
    verdict = run.verdict()
    assert (verdict["status"], verdict["error"]) == ("error", "--nginx-conf absent.conf: no such file")


STACK_NOWHERE = (
    "argument --stack: invalid choice: 'nowhere' (choose from 'auto', 'local', 'external', 'docker') "
    "(ws-gate --help lists the options)"
)


def test_usage_error_exits_2(tmp_path):
    """A value the command's parser rejects is a usage error: exit 2, one line, and verdict.json says so."""
    run = ws_gate(tmp_path, "--stack=nowhere")
    assert (run.exit_code, run.output.splitlines()) == (2, [f"ws-gate: {STACK_NOWHERE}"])
    assert (run.verdict()["status"], run.verdict()["error"]) == ("error", STACK_NOWHERE)


def test_pytest_usage_error_exits_2(tmp_path):
    """An argument after -- that pytest rejects is a usage error too: exit 2 (not pytest's 4), one last line."""
    run = ws_gate(tmp_path, "--", "--no-such-pytest-option")
    assert run.exit_code == 2, run.output[-3000:]
    last = run.output.splitlines()[-1]
    assert last.startswith("ws-gate: pytest after --: unrecognized arguments: --no-such-pytest-option"), last
    assert (run.verdict()["status"], run.verdict()["error"]) == ("error", last.removeprefix("ws-gate: "))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-command", "to-its-group"])
def test_a_signal_ends_the_run_with_teardown(tmp_path, signum, to_group):
    """A CI job cancelled mid-run (its signal sent to ws-gate, or to ws-gate's whole group) ends the run in
    seconds with exit 2, the verdict saying it was interrupted, and nothing left running or on disk."""
    runs_before = work_folders()
    command = [str(WS_GATE), "--stack=local", "--pytest-report"]  # pytest's report says when the stack is up
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    with subprocess.Popen(command, cwd=tmp_path, process_group=0, **pipes) as proc:
        lines = []
        for line in proc.stdout:  # the cases start once the stack is up, and take seconds
            lines.append(line)
            if line.startswith("ws-gate: local stack:"):
                break
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        output = "".join(lines) + proc.stdout.read()
        assert proc.wait(timeout=SIGNAL_TEARDOWN_LIMIT) == 2, output[-3000:]
    verdict = json.loads((tmp_path / "reports" / "verdict.json").read_text())
    assert (verdict["status"], verdict["error"]) == ("error", "interrupted"), output[-3000:]
    assert left_work_folders(runs_before, tmp_path) == set()


SEVERITY_LEVELS = [
    pytest.param(FAILURE, "error", "::error", id="failure"),
    pytest.param(ADVICE, "warning", "::warning", id="advice"),
    pytest.param(INFORMATION, "note", "::notice", id="information"),
]


@pytest.mark.parametrize(("severity", "level", "command"), SEVERITY_LEVELS)
def test_severity_sets_the_level(tmp_path, severity, level, command):
    """Failures are errors; advice and information are warnings and notes, in SARIF and in annotations."""
    finding = Finding(str(tmp_path / "a.conf"), 7, "proxy-upgrade", "rule", "a problem, 100%", "a fix", severity)
    record = ci_report.site_finding(finding)
    assert record["level"] == level
    [line] = ci_report.workflow_commands([record], tmp_path)
    assert line == f"{command} file=a.conf,line=7,title=ws-gate proxy-upgrade::a problem, 100%25 -> a fix"


def test_finding_without_a_severity_is_an_error(tmp_path):
    """A finding from a static check that has no severity field is a failure: level error."""
    finding = SimpleNamespace(file="a.conf", line=7, fault="proxy-upgrade", problem="a problem", fix="a fix")
    assert ci_report.site_finding(finding)["level"] == "error"


def test_offline_base_off_debian_says_what_to_run(tmp_path, monkeypatch):
    """Without a Debian mirror the Docker stack's base cannot be built: one line says what to run instead."""
    monkeypatch.delenv("DEBIAN_MIRROR", raising=False)
    assert impossible("ws-gate-base:bookworm", sources=tmp_path / "debian.sources") == (
        "the Docker stack's base image ws-gate-base:bookworm is built from Debian's packages, and this is not a "
        f"Debian machine ({tmp_path / 'debian.sources'} is missing): set DEBIAN_MIRROR and run `make docker-images`, "
        "or use --stack local"
    )
