"""A service with every leniency of the production trading-service (contract.md) is reported within 15 s,
each leniency named in the verdict: the cases a silent service leaves waiting run at once."""

import time

from selftest.mutants import LENIENCIES, LENIENT

REPORTED_WITHIN = 15.0  # seconds, the whole gate run, start-up included


def test_lenient_service_is_reported_fast_with_each_leniency_named(tmp_path):
    """Exit 1 within 15 s; each leniency's test fails and its fix is in the verdict."""
    started = time.monotonic()
    run = LENIENT.run(tmp_path)
    took = time.monotonic() - started
    verdict = run.output.split("ws-gate verdict", 1)[-1]
    fixes = {
        "open-after-bad-frame": "never leave the socket open",
        "auth-timeout": "close unauthenticated connections after the auth timeout",
        "camel-case": "refuse snake_case user_id / membership_level",
        "aud-optional": "require aud",
        "exp-optional": '"require": ["exp", "iat"]',
    }
    unnamed = [name for name, fix in fixes.items() if fix not in verdict]
    uncaught = [name for name, test in LENIENCIES.items() if test not in run.failed]
    assert (run.exit_code, uncaught, unnamed) == (1, [], []), run.output[-3000:]
    assert took < REPORTED_WITHIN, f"reported in {took:.1f} s, over {REPORTED_WITHIN:g} s"
