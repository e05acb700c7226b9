"""A gate run of its own, for a question the main run asks of Nginx (its families on a patched copy of the site
file, or on another nginx release): the same cases in a pytest process, in a folder of its own so that its reports
never touch the run's, answered with its verdict.json."""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ws_gate.layout import ROOT
from ws_gate.timeouts import UNIT

# Bounds a run of a few families on the local stack, which takes seconds.
SUBRUN_TIMEOUT = 120 * UNIT
# Set in a subrun's environment: a run that answers a question asks none of its own.
SUBRUN = "WS_GATE_SUBRUN"
# The families that judge Nginx itself: what a patched copy of the site file, or another release, must pass.
NGINX_FAMILIES = ("site-loads", "proxy-upgrade", "endpoint")


def run_gate(options: Sequence[str], families: Sequence[str]) -> dict:
    """The verdict document of a gate run with `options` (every path in them absolute) over the cases of
    `families` only; a run that wrote none is an error document saying how it ended."""
    with tempfile.TemporaryDirectory(prefix="ws-gate-subrun-") as folder:
        arguments = [
            *("--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"), "-q"),
            f"--families={','.join(families)}",
            *options,
            str(ROOT / "tests"),
        ]
        try:
            done = subprocess.run(
                [sys.executable, "-P", "-m", "pytest", *arguments],
                cwd=folder,
                env={**os.environ, SUBRUN: "1"},
                capture_output=True,
                text=True,
                timeout=SUBRUN_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return {"exit_code": 2, "error": f"did not end within {SUBRUN_TIMEOUT:g} s", "families": {}}
        try:
            return json.loads((Path(folder) / "reports" / "verdict.json").read_text())
        except (OSError, ValueError):
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            return {"exit_code": 2, "error": last[0], "families": {}}
