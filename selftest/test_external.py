"""Pre-deploy verification: the gate against a deployment it did not start, with a verdict by fault."""

import json
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from selftest.deployment import SECRET, deployment
from selftest.gate_run import run_gate
from selftest.mutants import INDEPENDENT, STARLETTE_SERVICE, in_location, mutated_site, requires_node_service, without
from ws_gate.client.tokens import TokenFactory
from ws_gate.contract import load_contract
from ws_gate.layout import DEFAULT_SITE
from ws_gate.nginx.binary import machine_nginx
from ws_gate.stacks.local_stack import STUB_SCRIPT as STUB

EXTERNAL = ["--stack=external", "--auth-timeout=1"]


def _external_gate(tmp_path, url, *options, secret=SECRET):
    return run_gate(
        tmp_path, *EXTERNAL, f"--target={url}", *options, env={"WS_E2E_JWT_SECRET": secret} if secret else None
    )


@pytest.mark.parametrize(
    "service", [pytest.param("starlette", id="starlette"), pytest.param("node", id="node", marks=requires_node_service)]
)
def test_correct_deployment_passes(tmp_path, service):
    """Nginx with the production site file in front of a correct service that is not the gate's stub
    (Starlette and uvicorn, or Node's ws and jsonwebtoken, each on its defaults): exit 0, nothing failed."""
    argv, _ = INDEPENDENT[service]
    with deployment(tmp_path, DEFAULT_SITE, argv, {}) as url:
        run = _external_gate(tmp_path, url, f"--nginx-conf={DEFAULT_SITE}")
    assert (run.exit_code, run.failed) == (0, set()), run.output[-3000:]
    assert "through Nginx only      passed" in run.output


def test_the_target_server_is_named_in_every_report(tmp_path):
    """Before a deploy the Server header the target answers is in verdict.json and JUnit; a --nginx-version it
    contradicts is a warning in the verdict, not a failure."""
    with deployment(tmp_path, DEFAULT_SITE, [sys.executable, str(STUB)], {}) as url:
        run = _external_gate(tmp_path, url, "--nginx-version=1.30", f"--reports={tmp_path / 'reports'}")
    verdict = json.loads((tmp_path / "reports" / "verdict.json").read_text())
    server = f"nginx/{machine_nginx().version}"
    properties = {prop.get("name"): prop.get("value") for prop in ET.parse(run.junit).iter("property")}
    assert (run.exit_code, verdict["stack"]["server"], properties["server"]) == (0, server, server), run.output
    assert f"warning: --nginx-version 1.30 disagrees with the target's Server: {server}" in run.output


def test_missing_upgrade_header_is_named_in_the_verdict(tmp_path):
    """A deployment whose Nginx drops the Upgrade header fails, and the verdict names the proxy fault."""
    site = mutated_site(tmp_path, in_location(without("proxy_set_header", "Upgrade")))
    with deployment(tmp_path, site, [sys.executable, str(STUB)], {}) as url:
        run = _external_gate(tmp_path, url)
    assert run.exit_code == 1, run.output[-3000:]
    assert "Nginx upgrade proxying  FAILED" in run.output
    assert "proxy_set_header Upgrade $http_upgrade;" in run.output


def test_backend_accepting_snake_case_claims_is_named_in_the_verdict(tmp_path):
    """A service that accepts user_id instead of userId fails the token-claims family."""
    with deployment(tmp_path, DEFAULT_SITE, [sys.executable, str(STUB)], {"STUB_BREAK": "camel-case"}) as url:
        run = _external_gate(tmp_path, url)
    assert run.exit_code == 1, run.output[-3000:]
    assert "tests/test_token_claims.py::test_snake_case_claims_follow_the_contract_policy" in run.failed
    assert "token claims            FAILED" in run.output


def test_without_secret_only_secret_free_cases_run(tmp_path):
    """With no secret and no token, the cases that need one skip with one stated reason; the rest pass, the idle
    check on the site file included (its stub has a secret of its own)."""
    with deployment(tmp_path, DEFAULT_SITE, [sys.executable, str(STUB)], {}) as url:
        run = _external_gate(tmp_path, url, f"--nginx-conf={DEFAULT_SITE}", secret=None)
    assert (run.exit_code, run.failed) == (0, set()), run.output[-3000:]
    assert "tests/test_idle_timeout.py::test_idle_session_outlives_the_read_timeout" in run.passed
    assert "tests/test_token_claims.py::test_defective_token_is_refused_with_4003[alg-none]" in run.passed
    assert "tests/test_token_claims.py::test_defective_token_is_refused_with_4003[wrong-aud]" in run.skipped
    assert "needs the JWT secret" in run.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("ws://127.0.0.1:9", "127.0.0.1:9 is not reachable", id="unreachable"),
        pytest.param("ws://no-such-host.invalid", "DNS lookup of no-such-host.invalid failed", id="dns-failure"),
        pytest.param("http://example.test", "--target must look like ws://", id="not-a-websocket-url"),
        pytest.param("ws://[::1", "is not a valid URL", id="invalid-url"),
    ],
)
def test_bad_target_is_one_line_in_seconds(tmp_path, target, message):
    """A target the gate cannot use ends the run with exit 2 and one line, no traceback, within 20 s."""
    started = time.monotonic()
    run = _external_gate(tmp_path, target)
    assert (run.exit_code, message in run.output, "Traceback" in run.output) == (2, True, False), run.output
    assert time.monotonic() - started < 20


def test_required_families_fail_the_run_when_not_checked(tmp_path):
    """--require=all with neither secret nor token exits 1, naming the token family and why it could not run."""
    with deployment(tmp_path, DEFAULT_SITE, [sys.executable, str(STUB)], {}) as url:
        run = _external_gate(tmp_path, url, "--require=all", secret=None)
    assert (run.exit_code, run.failed) == (1, set()), run.output[-3000:]
    assert "required family token-claims (token claims) was not checked: not run: building this token needs" in (
        run.output
    )


def test_real_token_for_another_user_passes(tmp_path):
    """With only a real access token for user 42 (no secret), the valid path expects user 42 and passes; the
    run says which cases that token lets it run."""
    factory = TokenFactory(SECRET, load_contract())
    token = factory.sign(factory.claims(**{factory.contract.user_id_claim: "42"}))
    with deployment(tmp_path, DEFAULT_SITE, [sys.executable, str(STARLETTE_SERVICE)], {}) as url:
        run = run_gate(tmp_path, *EXTERNAL, f"--target={url}", env={"WS_E2E_TOKEN": token})
    assert (run.exit_code, run.failed) == (0, set()), run.output[-3000:]
    assert "tests/test_token_claims.py::test_valid_token_authenticates_with_its_user_id" in run.passed
    assert "--token authenticates as user 42 (its userId claim): the valid path" in run.output
