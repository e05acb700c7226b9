"""Run the gate as a user would, in a child pytest, and read which of its tests failed."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A whole gate run takes seconds; this only stops a hung child from hanging the self-tests.
GATE_RUN_LIMIT = 180


@dataclass
class GateRun:
    exit_code: int
    output: str
    failed: set[str]
    passed: set[str]
    skipped: set[str]
    skip_reasons: dict[str, str]  # each skipped test's reason
    junit: Path


def _test_id(case: ET.Element) -> str:
    module = case.get("classname", "").replace(".", "/")
    return f"{module}.py::{case.get('name')}"


def run_gate(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> GateRun:
    junit = tmp_path / "junit.xml"
    if not any(option.startswith("--stack") for option in options):
        options = ("--stack=local", *options)  # the self-tests that want Docker say so
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", f"--junitxml={junit}", "-q", *options],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )
    outcomes: dict[str, set[str]] = {"failed": set(), "passed": set(), "skipped": set()}
    reasons = {}
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            ending = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
            kind = "passed" if ending is None else ending.tag
            outcomes[{"error": "failed", "failure": "failed"}.get(kind, kind)].add(_test_id(case))
            if kind == "skipped":
                reasons[_test_id(case)] = ending.get("message", "")
    return GateRun(proc.returncode, proc.stdout + proc.stderr, **outcomes, skip_reasons=reasons, junit=junit)
