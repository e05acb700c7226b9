"""The gate has teeth: each mutant of selftest/mutants.py fails the gate in the test named for it, and each
correct variant passes it. `make selfcheck` runs the same table and prints the score."""

import pytest

from selftest.mutants import MUTANTS, VARIANTS

MIN_GATE_CASES = 120


def test_gate_passes_on_the_default_stack(default_stack_run):
    """The production site file in front of the stub passes, with at least 120 cases run."""
    run = default_stack_run
    assert (run.exit_code, run.failed, len(run.passed) >= MIN_GATE_CASES) == (0, set(), True), run.output[-3000:]


@pytest.mark.parametrize("mutant", [pytest.param(case, id=case.id) for case in MUTANTS])
def test_mutant_fails_the_test_named_for_it(tmp_path, mutant):
    """A stack with one fault fails the gate, in the test for that fault."""
    run = mutant.run(tmp_path)
    assert mutant.verdict(run) == (True, "caught"), f"{mutant.catcher} did not fail\n{run.output[-3000:]}"


@pytest.mark.parametrize("variant", [pytest.param(case, id=case.id) for case in VARIANTS])
def test_correct_variant_passes(tmp_path, variant):
    """Another right way to build the stack passes the gate: no false alarm."""
    run = variant.run(tmp_path)
    assert variant.verdict(run) == (True, "passed"), run.output[-3000:]
