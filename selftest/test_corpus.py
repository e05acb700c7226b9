"""The corpus of site files modelled on real public ones (selftest/corpus/SOURCES.tsv): the gate runs every one
(no exit 2), and on each the static check and the real Nginx, time-scaled, agree aspect by aspect."""

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from selftest.differential import Comparison, compare
from selftest.gate_run import run_gate
from ws_gate.errors import GateSetupError
from ws_gate.nginx.binary import machine_nginx

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


def _compare(site: Path) -> Comparison | str:
    try:
        return compare(site, contract_of(site), PREFIX)
    except GateSetupError as error:
        return str(error)


@pytest.fixture(scope="module")
def comparisons() -> dict[Path, Comparison | str]:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return dict(zip(SITES, pool.map(_compare, SITES), strict=True))


def test_corpus_holds_a_hundred_sites_with_their_sources():
    """At least 100 site files, each with its contract and its source recorded."""
    sources = (CORPUS / "SOURCES.tsv").read_text().splitlines()[1:]
    recorded = {line.split("\t")[0] for line in sources}
    assert (
        len(SITES) >= 100,
        sorted(s.stem for s in SITES if s.stem not in recorded or not contract_of(s).is_file()),
    ) == (True, [])


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
