"""The Docker stack: the gate runs the same cases there as on the local stack, keeps its teeth, and leaves no
container or network behind, even when interrupted."""

import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import docker
import pytest

from selftest.gate_run import GATE_RUN_LIMIT, ROOT, run_gate
from selftest.mutants import DEFAULT_STACK, MUTANTS, VARIANTS, Case
from selftest.test_independent_backend import STUB_ONLY_REASON, STUB_ONLY_TESTS
from ws_gate.contract import load_contract
from ws_gate.stacks import docker_stack
from ws_gate.stacks.docker_stack import RUN_LABEL

DOCKER_MUTANTS = [
    case
    for case in MUTANTS
    if case.id in ("upgrade-header-dropped", "stub-aud-check-off", "x-forwarded-proto-http-on-tls")
]
HTTPS_SITE = next(case for case in VARIANTS if case.id == "certbot-https-site")
STACK_UP = "ws-gate: docker stack: "


def on_docker(case: Case) -> Case:
    """The same case on the Docker stack."""
    return dataclasses.replace(case, options=(*case.options, "--stack=docker"))


def left_behind(client: docker.DockerClient, output: str) -> list[str]:
    """The containers and networks still labelled with the run whose output this is."""
    run = re.search(rf"{re.escape(RUN_LABEL)}=(\w+)", output)
    assert run, f"the run did not say its label:\n{output[-3000:]}"
    selector = {"label": f"{RUN_LABEL}={run[1]}"}
    containers = client.containers.list(all=True, filters=selector)
    return [item.name for item in [*containers, *client.networks.list(filters=selector)]]


def test_gate_runs_the_same_cases_as_on_the_local_stack(tmp_path, requires_docker, default_stack_run):
    """The production site file in front of the stub container passes exactly what passes on the local stack."""
    local = default_stack_run
    run = on_docker(DEFAULT_STACK).run(tmp_path)
    assert DEFAULT_STACK.verdict(run) == (True, "passed"), run.output[-3000:]
    assert (run.passed, run.skipped) == (local.passed, local.skipped), run.output[-3000:]
    assert len(run.passed) >= 60
    assert left_behind(requires_docker, run.output) == []


def test_https_site_passes_over_wss(tmp_path, requires_docker):
    """The certbot-style HTTPS site passes the whole catalog over wss:// in containers, browser included, with
    TLS minted for the run; the run says which production lines it replaced."""
    run = on_docker(HTTPS_SITE).run(tmp_path)
    assert HTTPS_SITE.verdict(run) == (True, "passed"), run.output[-3000:]
    browser = "tests/test_frontend.py::test_browser_on_the_nginx_origin_authenticates"
    replaced = "certbot.conf:28: `include /etc/letsencrypt/options-ssl-nginx.conf` -> dropped"
    assert (browser in run.passed, replaced in run.output, "for https://trade.example.com:" in run.output) == (
        True,
        True,
        True,
    ), run.output[-3000:]
    assert left_behind(requires_docker, run.output) == []


@pytest.mark.parametrize("mutant", [pytest.param(case, id=case.id) for case in DOCKER_MUTANTS])
def test_mutant_fails_on_the_docker_stack(tmp_path, requires_docker, mutant):
    """A broken site file in the Nginx container, or a broken stub container (STUB_BREAK reaches it), fails the
    gate in the test named for the fault."""
    run = on_docker(mutant).run(tmp_path)
    assert mutant.verdict(run) == (True, "caught"), f"{mutant.catcher} did not fail\n{run.output[-3000:]}"
    assert left_behind(requires_docker, run.output) == []


def test_interrupted_run_leaves_nothing_behind(requires_docker):
    """Ctrl-C while the gate runs on the Docker stack still removes its containers and network."""
    gate = subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests", "-q", "--stack=docker"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a shell's background job ignores it
    )
    output = ""
    while STACK_UP not in output and gate.poll() is None:  # the session's timeout bounds this
        output += gate.stdout.readline()
    gate.send_signal(signal.SIGINT)
    output += gate.communicate(timeout=GATE_RUN_LIMIT)[0]
    assert gate.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert left_behind(requires_docker, output) == []


def test_no_engine_is_one_line(tmp_path):
    """--stack docker without a Docker engine ends at once with one line and exit code 2."""
    run = run_gate(tmp_path, "--stack=docker", env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert run.exit_code == 2, run.output[-3000:]
    assert "ws-gate: no Docker engine answers: start dockerd or use --stack local" in run.output


@pytest.fixture
def team_image(requires_docker) -> Iterator[str]:
    """A trading-service image of the team's kind: the stub's code with the contract baked in, taking only the JWT
    secret from the environment, as --backend-image runs it."""
    client = requires_docker
    stub = docker_stack._image(
        client, lambda line: None, "stub", docker_stack._bases(client, lambda line: None)["stub"]
    )
    dockerfile = f"FROM {stub}\nENV STUB_CONTRACT={json.dumps(load_contract().to_json())}\n"
    tag = "ws-gate-selftest-team:latest"
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True)
    yield tag
    client.images.remove(tag, force=True)


def test_team_image_is_not_taken_for_the_stub(tmp_path, requires_docker, team_image):
    """--stack docker --backend-image IMG runs IMG as the trading-service, not the gate's stub: the run passes, says
    so, and the tests that read the stub's records skip, saying why."""
    run = run_gate(tmp_path, "--stack=docker", f"--backend-image={team_image}")
    needs_stub = {
        test.split("::")[-1].split("[")[0]
        for test, reason in run.skip_reasons.items()
        if reason.startswith(STUB_ONLY_REASON)
    }
    up = next((line for line in run.output.splitlines() if line.startswith(STACK_UP)), "")
    assert (run.exit_code, run.failed, ", the trading-service at " in up, needs_stub) == (
        0,
        set(),
        True,
        STUB_ONLY_TESTS,
    ), run.output[-3000:]
    assert left_behind(requires_docker, run.output) == []
