"""What the self-tests share."""

from collections.abc import Iterator
from contextlib import closing

import docker
import pytest

from selftest.gate_run import GateRun
from selftest.mutants import DEFAULT_STACK
from ws_gate.errors import GateSetupError
from ws_gate.stacks.docker_stack import engine


@pytest.fixture(scope="session")
def default_stack_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The gate on the production site file in front of the stub, on the local stack, run once for the
    self-tests that read it."""
    return DEFAULT_STACK.run(tmp_path_factory.mktemp("default-stack"))


@pytest.fixture(scope="module")
def requires_docker() -> Iterator[docker.DockerClient]:
    """A client of the Docker engine; without one, the tests that need it skip, saying so."""
    try:
        client = engine()
    except GateSetupError as error:
        pytest.skip(f"needs a Docker engine: {error}")
    with closing(client):
        yield client
