"""The JWT secret never appears in what a failing run prints or writes, not even an end of it where pytest
shortens a long value."""

import secrets

from selftest.gate_run import run_gate

# No end of the secret this long, or longer, may show in a report.
PIECE = 12


def test_failing_run_shows_no_part_of_the_secret(tmp_path):
    """A load probe that fails shows the gate's options in its traceback: the secret is not among them."""
    secret = secrets.token_urlsafe(48)
    run = run_gate(
        tmp_path,
        "-k",
        "test_proxy_holds_concurrent_sessions",
        "--load=300",
        "--worker-connections=64",
        env={"WS_E2E_JWT_SECRET": secret},
    )
    written = run.output + run.junit.read_text()
    pieces = {secret, secret[:PIECE], secret[-PIECE:]}
    shown = [piece for piece in pieces if piece in written]
    assert (run.exit_code, "gate_options = GateOptions(" in written, shown) == (1, True, []), run.output[-3000:]
