"""The corpus of site files modelled on real public ones (selftest/corpus/SOURCES.tsv): the gate runs every one
(no exit 2), and on each the static check and the real Nginx, time-scaled, agree aspect by aspect."""

import random
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from selftest.differential import Comparison, compare
from selftest.gate_run import run_gate
from ws_gate.errors import GateSetupError
from ws_gate.nginx import releases
from ws_gate.nginx.binary import NginxBinary, machine_nginx
from ws_gate.nginx.site import load_site

CORPUS = Path(__file__).parent / "corpus"
PREFIX = CORPUS / "prefix"  # the production hosts' /etc/nginx files the sites include
SITES = sorted((CORPUS / "sites").glob("*.conf"))
# Comparisons at once: each mostly waits out its idle hold, and more would load the machine past the check's margin.
AT_ONCE = 4
# Published files the real nginx itself refuses (`nginx -t`): the gate must say so in one line, as nginx does.
REJECTED_BY_NGINX = {
    "kaleem-api-socketio-include-broken": 'the duplicate "request_id" variable',
    "minio-docs-nginx-dedicated-dns": 'upstream "minio" may not have port 9000',
    "minio-docs-nginx-subdomain": 'upstream "minio" may not have port 9000',
}
# Apps whose own published files use Nginx's default or a short read timeout, kept by their services' pings.
PUBLISHED_APPS = ["home-assistant-docs", "jellyfin-docs-https", "mattermost-docs-ssl-http2"]
IDLE_TEST = "tests/test_idle_timeout.py::test_idle_session_outlives_the_read_timeout"
# The whole gate on a few files, the same few every run.
GATE_SAMPLE = random.Random(19).sample([site for site in SITES if site.stem not in REJECTED_BY_NGINX], 4)

pytestmark = pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")


def contract_of(site: Path) -> Path:
    return CORPUS / "contracts" / f"{site.stem}.toml"


# An anti-hang guard for a sweep of the whole corpus (some 45 s on a quiet machine; pytest.ini's 60 s is a case's).
SWEEP_LIMIT = pytest.mark.timeout(600)
# What nginx 1.25.1 removed, read from the files themselves: each of these is refused from that release on.
SSL_ON = re.compile(r"^\s*ssl\s+on;", re.MULTILINE)


def _compare(site: Path, nginx: NginxBinary | None = None) -> Comparison | str:
    try:
        return compare(site, contract_of(site), PREFIX, nginx)
    except GateSetupError as error:
        return str(error)


def _all(nginx: NginxBinary | None = None) -> dict[Path, Comparison | str]:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return dict(zip(SITES, pool.map(lambda site: _compare(site, nginx), SITES), strict=True))


@pytest.fixture(scope="module")
def comparisons() -> dict[Path, Comparison | str]:
    return _all()


def test_corpus_holds_a_hundred_sites_with_their_sources():
    """At least 100 site files, each with its contract and its source recorded."""
    sources = (CORPUS / "SOURCES.tsv").read_text().splitlines()[1:]
    recorded = {line.split("\t")[0] for line in sources}
    assert (
        len(SITES) >= 100,
        sorted(s.stem for s in SITES if s.stem not in recorded or not contract_of(s).is_file()),
    ) == (True, [])


@SWEEP_LIMIT  # the first case waits for the module's sweep
@pytest.mark.parametrize("site", SITES, ids=[site.stem for site in SITES])
def test_static_check_agrees_with_nginx(comparisons, site):
    """The gate runs the file, and Nginx shows what the static check says of its WebSocket location."""
    comparison = comparisons[site]
    if site.stem in REJECTED_BY_NGINX:
        refused = ("refuses the site file" in str(comparison), REJECTED_BY_NGINX[site.stem] in str(comparison))
        assert refused == (True, True), f"{site.name}: expected nginx's refusal, got {comparison}"
        return
    assert not isinstance(comparison, str), f"{site.name}: the gate cannot run it (exit 2): {comparison}"
    assert comparison.disagreements() == [], f"{site.name}: " + "; ".join(comparison.notes)


@SWEEP_LIMIT
@pytest.mark.parametrize("version", [release.family for release in releases.RELEASES[1:]])
def test_each_release_agrees_with_the_static_check_it_picks(version):
    """On Debian's 1.26 and 1.30 too, the static check of that version and that version's real Nginx agree on every
    file it loads; it refuses exactly the published files nginx refuses everywhere and those with `ssl on;`, and
    the static check foretells each refusal of `ssl on;`."""
    try:
        nginx = releases.release_binary(version, say=lambda line: None)
    except GateSetupError as error:
        pytest.skip(f"Debian's nginx {version} cannot be had here: {error}")
    problems, refused = [], set()
    for site, comparison in _all(nginx).items():
        if isinstance(comparison, str):
            refused.add(site.stem)
            foretold = bool(releases.refused(load_site(site, PREFIX).directives, nginx.version))
            if foretold != ('unknown directive "ssl"' in comparison):
                problems.append(f"{site.name}: the static check {'foretold' if foretold else 'missed'}: {comparison}")
        elif comparison.disagreements():
            problems.append(f"{site.name}: " + "; ".join(comparison.disagreements() + comparison.notes))
    ssl_on = {site.stem for site in SITES if SSL_ON.search(site.read_text())}
    assert (problems, refused) == ([], set(REJECTED_BY_NGINX) | ssl_on)


@pytest.mark.parametrize("site", GATE_SAMPLE, ids=[site.stem for site in GATE_SAMPLE])
def test_whole_gate_runs_the_site(tmp_path, site):
    """The whole gate runs its tests on the file: it passes or names faults, never ends in a setup error."""
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={contract_of(site)}", f"--nginx-prefix={PREFIX}")
    assert (run.exit_code in (0, 1), len(run.passed | run.failed) > 0) == (True, True), run.output[-2000:]


@pytest.mark.parametrize("site", [CORPUS / "sites" / f"{name}.conf" for name in PUBLISHED_APPS], ids=PUBLISHED_APPS)
def test_published_app_site_passes_the_whole_gate(tmp_path, site):
    """Home Assistant's, Jellyfin's and Mattermost's own published files pass under contracts with their services'
    ping intervals, the idle session held time-scaled between the pings."""
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={contract_of(site)}", f"--nginx-prefix={PREFIX}")
    assert (run.exit_code, IDLE_TEST in run.passed) == (0, True), run.output[-3000:]
