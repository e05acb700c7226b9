"""Only what the service needs fails a run: a correct WebSocket location that forwards no header passes the whole
gate with advice, a header the contract requires fails without it, a Host outside the service's allowed_hosts
fails on both sides, maps are judged as nginx evaluates them for a browser, and a trailing-slash location's 301 is
named at its line with a fix that passes."""

import json
from pathlib import Path

import pytest

from selftest.gate_run import run_gate
from selftest.mutants import Case
from selftest.test_nginx_lint import SITES, lint
from ws_gate.contract import HEADER_ADVICE
from ws_gate.nginx.lint import ADVICE, FAILURE, format_findings

CONTRACTS = Path(__file__).parent / "contracts"
PRODUCTION_HOSTS = CONTRACTS / "production-allowed-hosts.toml"
SITE_ORIGIN = "https://trade.example.com"
UPGRADE_TEST = "tests/test_proxy_upgrade.py::test_upgrade_answers_101_with_a_valid_accept"
# Correct WebSocket locations of common shapes that set none of the forwarded headers.
BARE_SITES = [
    pytest.param(SITES / "bare-regex-location.conf", id="regex-location-anchored-on-the-path"),
    pytest.param(SITES / "bare-exact-location.conf", id="exact-location"),
    pytest.param(SITES / "bare-nested-location.conf", id="location-nested-in-location-slash"),
    pytest.param(SITES / "bare-upstream-keepalive.conf", id="upstream-keepalive-and-an-empty-map-value"),
]


def edited(site: Path, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of `site` with `old` written as `new`."""
    text = site.read_text()
    assert old in text
    copy = tmp_path / site.name
    copy.write_text(text.replace(old, new))
    return copy


@pytest.mark.parametrize("site", BARE_SITES)
def test_a_location_without_forwarded_headers_gets_advice_only(site):
    """Each advised header is advice with its line and why, never a failure."""
    findings = lint(site)
    advised = {f.fix.split()[1] for f in findings if f.severity == ADVICE and f.rule == "advised-header"}
    assert ([f for f in findings if f.severity == FAILURE], advised) == ([], set(HEADER_ADVICE)), format_findings(
        findings
    )
    assert all("worth forwarding" in f.problem for f in findings if f.rule == "advised-header")


@pytest.mark.parametrize("site", BARE_SITES)
def test_a_location_without_forwarded_headers_passes_the_gate(tmp_path, site):
    """The whole gate on the local stack passes, its findings naming each missing header."""
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    advice = [line for line in run.output.splitlines() if "advice:" in line and "worth forwarding" in line]
    assert (run.exit_code, len(advice)) == (0, len(HEADER_ADVICE)), run.output[-3000:]


def test_a_location_without_upgrade_still_fails(tmp_path):
    site = edited(SITES / "bare-exact-location.conf", tmp_path, "proxy_set_header Upgrade $http_upgrade;\n", "")
    failed = [(f.rule, f.fix) for f in lint(site) if f.severity == FAILURE]
    assert failed == [("upgrade-header", "proxy_set_header Upgrade $http_upgrade;")]


def test_a_required_header_fails_statically_and_at_the_stub(tmp_path):
    """A contract that requires X-Forwarded-Proto fails a file without it, in the static check and at the stub."""
    site = SITES / "bare-regex-location.conf"
    findings = lint(site, required_headers=("X-Forwarded-Proto",))
    assert [(f.rule, f.line) for f in findings if f.severity == FAILURE] == [("x-forwarded-proto-header", 10)]
    contract = tmp_path / "contract.toml"
    contract.write_text('required_headers = ["X-Forwarded-Proto"]\n')
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={contract}")
    expected = {
        "tests/test_site_file.py::test_websocket_location_passes_the_static_check[x-forwarded-proto-header]",
        "tests/test_proxy_upgrade.py::test_backend_receives_the_forwarded_header[x-forwarded-proto]",
    }
    assert (run.exit_code, expected <= run.failed) == (1, True), run.output[-3000:]


def test_a_host_outside_allowed_hosts_fails_naming_both_sides(tmp_path):
    """Host $host on trade.example.com, with a service that allows localhost and 127.0.0.1: proxy-upgrade fails,
    naming the site file's line and ALLOWED_HOSTS, statically and at the stub's handshake."""
    site = SITES / "host-from-the-page.conf"
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={PRODUCTION_HOSTS}", f"--origin={SITE_ORIGIN}")
    message = run.output.split("test_upgrade_answers_101_with_a_valid_accept", 2)[-1]
    assert (run.exit_code, UPGRADE_TEST in run.failed) == (1, True), run.output[-3000:]
    assert all(part in message for part in ("proxy_set_header Host $host;", f"{site}:12", "ALLOWED_HOSTS")), message


def test_a_real_service_refusing_the_host_is_named_whatever_the_contract_says(tmp_path):
    """Starlette's TrustedHostMiddleware behind the gate, under the default contract (no allowed_hosts): its
    400 "Invalid host header" at the handshake names the site file's Host line and ALLOWED_HOSTS."""
    site = SITES / "host-from-the-page.conf"
    service_env = {"ALLOWED_HOSTS": "localhost,127.0.0.1"}
    case = Case("host-refused", "setting", UPGRADE_TEST, conf=site, options=(f"--origin={SITE_ORIGIN}",),
                backend="starlette", service_env=service_env)  # fmt: skip
    run = case.run(tmp_path)
    message = run.output.split("test_upgrade_answers_101_with_a_valid_accept", 2)[-1]
    assert (run.exit_code, UPGRADE_TEST in run.failed) == (1, True), run.output[-3000:]
    assert all(part in message for part in ("Host $host;", f"{site}:12", "ALLOWED_HOSTS")), message


def test_without_the_host_line_the_allowed_hosts_pass(tmp_path):
    site = edited(SITES / "host-from-the-page.conf", tmp_path, "proxy_set_header Host $host;\n", "")
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={PRODUCTION_HOSTS}", f"--origin={SITE_ORIGIN}")
    assert run.exit_code == 0, run.output[-3000:]


def test_no_host_advice_where_that_host_would_be_refused(tmp_path):
    site = edited(SITES / "host-from-the-page.conf", tmp_path, "proxy_set_header Host $host;\n", "")
    findings = lint(site, origin=SITE_ORIGIN, allowed_hosts=("localhost", "127.0.0.1"))
    assert [f for f in findings if "Host" in f.fix.split()[1:2]] == [], format_findings(findings)


def test_signalr_connection_map_passes_the_gate(tmp_path):
    """ASP.NET Core SignalR's map of the client's Connection header gives a browser's `Upgrade`."""
    site = SITES / "signalr-connection-map.conf"
    assert [f for f in lint(site) if f.severity == FAILURE] == []
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    assert run.exit_code == 0, run.output[-3000:]


def test_trailing_slash_location_names_the_redirect_and_its_fix_passes(tmp_path):
    """`location /ws/realtime/` makes nginx answer /ws/realtime with a 301: named at its line, with the location
    written without the slash, which passes the gate once applied."""
    site = SITES / "trailing-slash-location.conf"
    failed = [f for f in lint(site) if f.severity == FAILURE]
    assert [(f.rule, f.line, f.replaces) for f in failed] == [
        ("no-trailing-slash-redirect", 9, "location /ws/realtime/ { ... }")
    ], format_findings(failed)
    assert "301 Location: /ws/realtime/" in failed[0].problem
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    assert (run.exit_code, UPGRADE_TEST in run.failed, "301" in run.output) == (1, True, True), run.output[-3000:]
    lines = site.read_text().splitlines()
    end = lines.index("    }", failed[0].line - 1)
    fixed = tmp_path / "fixed.conf"
    fixed.write_text("\n".join([*lines[: failed[0].line - 1], failed[0].fix, *lines[end + 1 :]]) + "\n")
    assert [f for f in lint(fixed) if f.severity == FAILURE] == []
    (tmp_path / "fixed-run").mkdir()
    assert run_gate(tmp_path / "fixed-run", f"--nginx-conf={fixed}").exit_code == 0


def test_the_handshake_wins_over_a_static_finding_it_contradicts(tmp_path):
    """A Connection map keyed on the client's address, which the static check cannot know, fails statically; the
    handshake through Nginx upgrades, so the run passes with the finding as information, and the route map says
    the route passed."""
    site = SITES / "connection-by-client-address.conf"
    assert [f.rule for f in lint(site) if f.severity == FAILURE] == ["connection-header"]
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--reports={tmp_path / 'reports'}")
    contradicted = [line for line in run.output.splitlines() if "information: " in line and "got 101" in line]
    assert (run.exit_code, len(contradicted)) == (0, 2), run.output[-3000:]
    routes = json.loads((tmp_path / "reports" / "verdict.json").read_text())["routes"]
    assert [route["verdict"].split(":")[0] for route in routes] == ["passed"], routes


def test_the_location_the_gate_writes_carries_no_advised_header(tmp_path):
    """The whole location offered to a site without one holds only what the upgrade needs: no advised header (a
    Host the service might refuse among them), unless the contract requires it."""
    site = tmp_path / "site.conf"
    site.write_text("server {\n    listen 80;\n    server_name trade.example.com;\n}\n")
    fix = lint(site, allowed_hosts=("localhost", "127.0.0.1"))[0].fix
    assert ("proxy_set_header Host" in fix, "proxy_set_header X-Forwarded-For" in fix) == (False, False), fix
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in lint(site, required_headers=("X-Forwarded-Proto",))[0].fix
