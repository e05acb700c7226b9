"""Every WebSocket route of the app: the contract's routes and the bundle's URLs, each matched to the location of
the site file Nginx sends it to, with `make gate FRONTEND_DIST=...` running the bundle checks with the rest."""

import json
import subprocess
from pathlib import Path

import pytest

from selftest.gate_run import GATE_RUN_LIMIT, ROOT, run_gate

SELFTEST = Path(__file__).parent
SITES, BUNDLES = SELFTEST / "sites", SELFTEST / "bundles"
BACKTEST = f"--contract={SELFTEST / 'contracts' / 'backtest-route.toml'}"
ROUTE_TEST = "tests/test_routes.py::test_contract_route_lands_in_a_websocket_location"
BACKTEST_ID = "[api-v1-realtime-backtest-ws-{}]"
BUNDLE_TEST = "tests/test_frontend.py::test_bundle_dials_the_contract_endpoint"


def routes_of(run) -> dict[str, tuple]:
    """The route map verdict.json holds: each path's sources, location (file name:line) and WebSocket flag."""
    document = json.loads((ROOT / "reports" / "verdict.json").read_text())
    return {
        route["path"]: (tuple(route["sources"]), Path(route["location"] or "").name, route["websocket"])
        for route in document["routes"]
    }


def test_wrong_bundle_route_is_named_with_its_location(tmp_path):
    """A bundle that dials /ws/realtime and /api/v1/ai/ws/chat, and a site file whose regex API location takes
    the second: the bundle test fails, and the route map names both routes and where Nginx sends them."""
    run = run_gate(tmp_path, f"--nginx-conf={SITES / 'api-regex.conf'}", f"--frontend-dist={BUNDLES / 'two-routes'}")
    reaches = "/api/v1/ai/ws/chat reaches `location ~ ^/api/v1/` at"
    assert (run.exit_code, BUNDLE_TEST in run.failed, reaches in run.output) == (1, True, True), run.output[-3000:]
    assert routes_of(run) == {
        "/ws/realtime": (("contract", "bundle"), "api-regex.conf:17", True),
        "/api/v1/ai/ws/chat": (("bundle",), "api-regex.conf:12", False),
    }


def test_query_token_route_carried_by_its_location_passes(tmp_path):
    """With the backtest route in the contract and a site file that carries both routes, everything passes; the
    token in the query string is a security finding."""
    run = run_gate(
        tmp_path, f"--nginx-conf={SITES / 'two-routes.conf'}", BACKTEST, f"--frontend-dist={BUNDLES / 'backtest'}"
    )
    finding = "the token travels in the URL's query string"
    assert (run.exit_code, run.failed, finding in run.output) == (0, set(), True), run.output[-3000:]
    assert routes_of(run)["/api/v1/realtime-backtest/ws/{}"] == (("contract", "bundle"), "two-routes.conf:27", True)


def test_route_without_its_location_fails_naming_the_catching_location(tmp_path):
    """Without the backtest route's own location, its test fails, naming the regex location that catches it
    now and the location block to add."""
    run = run_gate(tmp_path, f"--nginx-conf={SITES / 'api-regex.conf'}", BACKTEST)
    expected = {
        ROUTE_TEST + BACKTEST_ID,
        "tests/test_routes.py::test_contract_route_upgrades_through_nginx" + BACKTEST_ID,
    }
    fix = "location ^~ /api/v1/realtime-backtest/ws/ {"
    assert (run.exit_code, run.failed, fix in run.output) == (1, expected, True), run.output[-3000:]
    assert "today it reaches `location ~ ^/api/v1/` at" in run.output


@pytest.mark.parametrize(("bundle", "code"), [("wrong-endpoint", 2), ("good-esbuild", 0)], ids=["bad", "good"])
def test_make_gate_runs_the_bundle_checks(bundle, code):
    """`make gate FRONTEND_DIST=...` checks the bundle with the rest of the gate: make's 2 on a bad one."""
    make = subprocess.run(
        ["make", "gate", "STACK=local", f"FRONTEND_DIST={BUNDLES / bundle}", "PYTEST_ARGS=-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )
    named = "the bundle dials /api/v1/ai/ws/chat, not /ws/realtime" in make.stdout  # the verdict names the fault
    assert (make.returncode, named) == (code, code != 0), make.stdout[-3000:]
