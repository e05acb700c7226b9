"""The gate has teeth: each broken system fails the test named for its fault, correct variants pass."""

import copy
from pathlib import Path

import crossplane
import pytest

from fixtures.contract import CONTRACT
from fixtures.nginx_site import find_location, load_site
from fixtures.options import DEFAULT_SITE
from selftest.gate_run import run_gate

CONFS = Path(__file__).parent / "confs"
UPGRADE_TEST = "tests/test_proxy_upgrade.py::test_upgrade_answers_101_with_a_valid_accept"
TOKEN_TEST = "tests/test_token_claims.py::test_defective_token_is_refused_with_4003"
AUTH_TEST = "tests/test_auth_message.py::test_wrong_first_message_is_refused_with_4001"


def without(name, first_arg=None):
    """Drop directive `name` (with that first argument) from the WebSocket location."""
    return lambda block: [
        stmt for stmt in block if not (stmt["directive"] == name and first_arg in (None, stmt["args"][0]))
    ]


def replaced(name, *args):
    """Give directive `name` of the WebSocket location other arguments."""
    return lambda block: [{**stmt, "args": list(args)} if stmt["directive"] == name else stmt for stmt in block]


SITE_MUTANTS = [
    pytest.param(without("proxy_set_header", "Upgrade"), UPGRADE_TEST, id="upgrade-header-dropped"),
    pytest.param(without("proxy_http_version"), UPGRADE_TEST, id="http-version-dropped"),
    pytest.param(replaced("proxy_pass", "http://127.0.0.1:8001/"), UPGRADE_TEST, id="proxy-pass-strips-path"),
]

STUB_MUTANTS = [
    pytest.param("aud", f"{TOKEN_TEST}[wrong-aud]", id="aud-check-off"),
    pytest.param("auth-type", f"{AUTH_TEST}[authenticate-of-the-outage]", id="auth-type-check-off"),
    pytest.param("camel-case", f"{TOKEN_TEST}[snake-case-claims]", id="camel-case-check-off"),
]

CORRECT_SITES = [
    pytest.param(CONFS / "map-idiom.conf", id="connection-upgrade-map"),
    pytest.param(CONFS / "named-upstream.conf", id="named-upstream-with-keepalive"),
    pytest.param(CONFS / "exact-location.conf", id="exact-location"),
    pytest.param(CONFS / "long-timeouts.conf", id="longer-timeouts"),
]


def _mutated_site(tmp_path: Path, edit) -> Path:
    site = copy.deepcopy(load_site(DEFAULT_SITE))
    _, location = find_location(site, CONTRACT.ws_path)
    location["block"] = edit(location["block"])
    path = tmp_path / "mutant.conf"
    path.write_text(crossplane.build(site))
    return path


def test_gate_passes_on_the_default_stack(tmp_path):
    """The production site file in front of the stub passes every case, none skipped."""
    run = run_gate(tmp_path)
    assert (run.exit_code, run.failed, run.skipped) == (0, set(), set()), run.output[-3000:]
    assert len(run.passed) >= 60


@pytest.mark.parametrize(("edit", "catcher"), SITE_MUTANTS)
def test_broken_site_fails_the_test_named_for_it(tmp_path, edit, catcher):
    """A site file with one WebSocket line broken fails the gate, in the test for that fault."""
    run = run_gate(tmp_path, f"--nginx-conf={_mutated_site(tmp_path, edit)}")
    assert (run.exit_code, catcher in run.failed) == (1, True), run.output[-3000:]


@pytest.mark.parametrize(("check", "catcher"), STUB_MUTANTS)
def test_broken_backend_fails_the_test_named_for_it(tmp_path, check, catcher):
    """The stub with one contract check disabled fails the gate, in the test for that check."""
    run = run_gate(tmp_path, env={"STUB_BREAK": check})
    assert (run.exit_code, catcher in run.failed) == (1, True), run.output[-3000:]


@pytest.mark.parametrize("site", CORRECT_SITES)
def test_correct_site_variant_passes(tmp_path, site):
    """Other correct ways to write the WebSocket location pass the gate: no false alarm."""
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    assert (run.exit_code, run.failed) == (0, set()), run.output[-3000:]
