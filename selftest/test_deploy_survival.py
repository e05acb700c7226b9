"""Deploy survival as the gate measures it: with the team's worker_shutdown_timeout, a session lives that long
after a reload, and the gate reports it as a finding with the directive's file:line."""

import re

from selftest.gate_run import run_gate

SHUTDOWN_TIMEOUT = 10  # seconds, as a main nginx.conf might set it
MAIN_CONF = f"""user www-data;
worker_processes auto;
pid /run/nginx.pid;

events {{
    worker_connections 768;
}}

worker_shutdown_timeout {SHUTDOWN_TIMEOUT}s;

http {{
    include /etc/nginx/sites-enabled/*;
}}
"""
LIVED = re.compile(r"nginx\.conf:9: worker_shutdown_timeout ends live sessions ([\d.]+) s after a reload")


def test_worker_shutdown_timeout_is_measured_and_reported(tmp_path):
    """The session lives about 10 s after the reload (within a second), and the finding names nginx.conf:9."""
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN_CONF)
    run = run_gate(tmp_path, f"--nginx-main={main}", "-k", "test_session_survives_a_reload")
    lived = LIVED.search(run.output)
    assert (run.exit_code, bool(lived)) == (0, True), run.output[-3000:]
    assert abs(float(lived[1]) - SHUTDOWN_TIMEOUT) < 1, lived[0]
