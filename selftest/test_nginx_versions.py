"""Production's nginx is the judge: `--nginx-version` runs the dynamic cases on that Debian release's own binary, on
the local stack and on the Docker stack alike, and the version matrix (`ws-gate --nginx-version 1.22,1.26,1.30`)
gives each release's verdict in one table. Where the releases differ (HTTP/1.1 upstream by default from 1.29.7,
`ssl on;` removed and `http2 on;` added in 1.25.1), each verdict is that release's."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from selftest.gate_run import run_gate
from selftest.mutants import VERSIONED
from ws_gate.errors import GateSetupError
from ws_gate.nginx import releases
from ws_gate.stacks import external_stack

STACKS = ["local", "docker"]
VERSIONS = [release.family for release in releases.RELEASES]
# Each site file's verdict per release: the families that fail there (of site-loads, proxy-upgrade, endpoint).
EXPECTED = {
    "no-http-version.conf": {
        "1.22": {"proxy-upgrade", "endpoint"},
        "1.26": {"proxy-upgrade", "endpoint"},
        "1.30": set(),
    },
    "ssl-on.conf": {"1.22": set(), "1.26": {"site-loads"}, "1.30": {"site-loads"}},
    "http2-on.conf": {"1.22": {"site-loads"}, "1.26": set(), "1.30": set()},
}
# The team's line nginx refuses in each file, and nginx's own words for it.
REFUSED = {"ssl-on.conf": (5, 'unknown directive "ssl"'), "http2-on.conf": (4, 'unknown directive "http2"')}
# The matrix runs three gate runs side by side; on a loaded machine each takes up to a minute.
MATRIX_LIMIT = 300


def matrix(tmp_path: Path, stack: str, site: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`ws-gate --nginx-version 1.22,1.26,1.30` on `site`: its output and each version's verdict.json."""
    options = [f"--stack={stack}", f"--nginx-conf={VERSIONED / site}", f"--nginx-version={','.join(VERSIONS)}"]
    done = subprocess.run(
        [sys.executable, "-m", "ws_gate", *options], cwd=tmp_path, capture_output=True, text=True, timeout=MATRIX_LIMIT
    )
    return done, json.loads((tmp_path / "reports" / "matrix.json").read_text())


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        request.getfixturevalue("requires_docker")
    for family in VERSIONS:
        try:
            releases.release_binary(family, say=lambda line: None)
        except GateSetupError as error:
            pytest.skip(f"Debian's nginx {family} cannot be had here: {error}")
    return request.param


@pytest.mark.parametrize("site", list(EXPECTED))
def test_each_release_judges_the_site_file_as_it_would_in_production(tmp_path, stack, site):
    """Each version's verdict names the binary that ran, and fails exactly the families that release fails; the
    matrix prints one table and exits 1 since some version fails."""
    done, verdicts = matrix(tmp_path, stack, site)
    failing = {
        version: {f for f, r in verdict["families"].items() if r["status"] == "failed"}
        for version, verdict in verdicts.items()
    }
    ran = {version: verdict["nginx"]["version"].rsplit(".", 1)[0] for version, verdict in verdicts.items()}
    assert (failing, ran, done.returncode) == (EXPECTED[site], {v: v for v in VERSIONS}, 1), done.stdout[-3000:]
    assert done.stdout.count("nginx version matrix") == 1
    failed_on = [version for version in VERSIONS if EXPECTED[site][version]]
    assert f"the site file fails on {', '.join(failed_on)}" in done.stdout


@pytest.mark.parametrize("site", list(REFUSED))
def test_a_refused_site_file_quotes_nginx_at_the_team_line(tmp_path, site):
    """On the release that refuses it, the site-loads fault quotes nginx's message at the team's own line (not
    the rewritten copy's), exit 1, and every dynamic case is not checked for that one reason."""
    version = next(v for v in VERSIONS if "site-loads" in EXPECTED[site][v])
    run = run_gate(tmp_path, f"--nginx-conf={VERSIONED / site}", f"--nginx-version={version}")
    line, message = REFUSED[site]
    assert (run.exit_code, f"versions/{site}:{line}" in run.output, message in run.output) == (1, True, True)
    assert run.failed == {"tests/test_site_loads.py::test_production_nginx_loads_the_site_file"}, run.output[-3000:]
    reasons = {reason for test, reason in run.skip_reasons.items() if "not checked: nginx" in reason}
    assert [f"versions/{site}:{line}" in reason for reason in reasons] == [True]
    label = releases.release_binary(version, say=lambda line: None).label
    assert f'<property name="nginx" value="{label}" />' in run.junit.read_text()


def test_the_nearest_release_runs_a_file_the_machine_nginx_refuses(tmp_path):
    """Without --nginx-version, a file the machine's nginx cannot load runs on the nearest release that loads it,
    and the run says so."""
    run = run_gate(tmp_path, f"--nginx-conf={VERSIONED / 'http2-on.conf'}", "--families=site-loads,proxy-upgrade")
    assert (run.exit_code, "the nearest release that loads the site file" in run.output) == (0, True), run.output[
        -3000:
    ]


def test_compose_upstream_fixes_keep_the_team_host(tmp_path):
    """A compose service name is the trading-service: the gate says so, and its fix keeps trading-service:8001."""
    run = run_gate(tmp_path, f"--nginx-conf={VERSIONED / 'compose-path-replaced.conf'}")
    fixes = [line for line in run.output.splitlines() if "fix:" in line]
    assert "taken as the trading-service" in run.output
    assert any("proxy_pass http://trading-service:8001;" in fix for fix in fixes), "\n".join(fixes)
    assert not any("127.0.0.1:8001" in fix for fix in fixes), "\n".join(fixes)


@pytest.mark.parametrize(
    ("server", "given", "lines"),
    [
        ("nginx/1.26.3", "1.26", ["the target answers Server: nginx/1.26.3"]),
        ("nginx/1.26.3", None, ["the target answers Server: nginx/1.26.3"]),
        ("nginx", "1.30.6", ["the target answers Server: nginx"]),
        (None, "1.30", []),
    ],
)
def test_an_external_target_server_header_is_said(server, given, lines):
    """Before a deploy the target's Server header is said, as it answers."""
    assert external_stack.server_lines(server, given) == lines


def test_a_version_the_server_header_contradicts_is_a_warning():
    """--nginx-version 1.30 against a target that answers nginx/1.22.1: a warning, not a failure."""
    said = external_stack.server_lines("nginx/1.22.1", "1.30")
    assert [line.split(":")[0] for line in said] == ["the target answers Server", "warning"]
    assert "give --nginx-version 1.22.1" in said[1]
