"""What the self-tests share."""

import pytest

from selftest.gate_run import GateRun
from selftest.mutants import DEFAULT_STACK


@pytest.fixture(scope="session")
def default_stack_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The gate on the production site file in front of the stub, on the local stack, run once for the
    self-tests that read it."""
    return DEFAULT_STACK.run(tmp_path_factory.mktemp("default-stack"))
