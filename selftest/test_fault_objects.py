"""Every gate case that fails says so with a Fault (ws_gate/faults.py): its cause and its fix reach the verdict as
data, never a test id. A site file without a WebSocket location gets one Nginx fix, the whole location block, in
the terminal's verdict, summary.md and verdict.json alike."""

import json

import pytest

from selftest.gate_run import ROOT, run_gate
from selftest.mutants import LENIENT, MUTANTS, UPGRADE

CONFS = ROOT / "selftest" / "confs"
# Broken stacks of every kind the mutants hold: the site file (the upgrade, a forwarded header, the idle timeout,
# the endpoint's location) and the stub (the auth message, the tokens, every leniency of the production service).
BROKEN = [
    pytest.param(case, id=case.id)
    for case in MUTANTS
    if case.id
    in (
        "http-version-dropped",
        "accept-header-hidden",
        "host-header-dropped",
        "read-timeout-60s",
        "location-wss-prefix",
        "stub-auth-type-check-off",
        "stub-token-type-check-off",
    )
]


def _verdict() -> dict:
    return json.loads((ROOT / "reports" / "verdict.json").read_text())


@pytest.mark.parametrize("case", [*BROKEN, pytest.param(LENIENT, id=LENIENT.id)])
def test_every_failing_case_raises_a_fault(case, tmp_path):
    """Each failure of the run carries a Fault: a cause and a fix, and each fault in verdict.json names the tests
    that raised it."""
    run = case.run(tmp_path)
    verdict = _verdict()
    without = [failure["test"] for failure in verdict["failures"] if failure["fix"] is None]
    raised = {test for fault in verdict["faults"] for test in fault["tests"]}
    assert (run.exit_code, without, run.failed - raised) == (1, [], set()), run.output[-3000:]


def test_missing_location_gets_the_whole_block_once(tmp_path):
    """No WebSocket location: every family it fails offers the same fix, the whole location block, at the site
    file's line; summary.md and verdict.json carry it, and no test id stands for a fix."""
    site = CONFS / "no-ws-location.conf"
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    verdict = _verdict()
    summary = (ROOT / "reports" / "summary.md").read_text()
    fixes = {fix for family in verdict["families"].values() for fix in family["fixes"]}
    (block,) = [fault for fault in verdict["faults"] if fault["fix"]["kind"] == "SiteEdit" and fault["fix"]["write"]]
    assert (run.exit_code, block["families"], block["fix"]["at"]) == (
        1,
        ["endpoint", "proxy-upgrade"],
        {"file": str(site.relative_to(ROOT)), "line": 3, "offset": None},  # relative to the root the run stood in
    ), run.output[-3000:]
    code = [line.strip() for line in block["fix"]["write"] if not line.strip().startswith("#")]
    assert (code[0], code[-1], "proxy_set_header Upgrade $http_upgrade;" in code) == ("location /ws/ {", "}", True)
    assert [fix for fix in fixes if "tests/" in fix or "::" in fix] == []
    shown = block["fix_summary"]
    assert (shown in fixes, shown in summary, shown in run.output) == (True, True, True)
    assert UPGRADE in run.failed
