"""The static check of the WebSocket location: each broken site gives exactly its finding, each correct one none
that fails, judged against the server a browser reaches, the Nginx version and the service's needs."""

import itertools
from pathlib import Path

import pytest

from ws_gate.nginx.lint import (
    ADVICE,
    FAILURE,
    INFORMATION,
    Finding,
    ServiceRules,
    check_site_file,
    failures,
    format_findings,
    lint_site,
)
from ws_gate.nginx.versions import parse

CONFS = Path(__file__).parent / "confs"
# Site files as teams write them, with the Nginx prefix their relative includes resolve against.
SITES = Path(__file__).parent / "sites"
PREFIX = SITES / "prefix"
PRODUCTION_SITE = Path(__file__).parents[1] / "docker" / "nginx" / "trademe.conf"
DEBIAN_12_NGINX = "1.22.1"


def lint(site: Path, origin: str | None = None, nginx_version: str | None = DEBIAN_12_NGINX, **rules) -> list[Finding]:
    """The static check of `site` with the contract's endpoint and trading-service address."""
    check = check_site_file(
        site, PREFIX, origin, ws_path="/ws/realtime", trading_address="127.0.0.1:8001",
        version=parse(nginx_version), rules=ServiceRules(**rules),
    )  # fmt: skip
    return lint_site(check)


def verdict(findings: list[Finding]) -> list[tuple]:
    """Each finding as (severity, fault, file relative to the corpus, line, fix)."""
    return [(f.severity, f.fault, str(Path(f.file).relative_to(SITES)), f.line, code(f.fix)) for f in findings]


CORRECT_SITES = [
    pytest.param(PRODUCTION_SITE, id="production-site"),
    pytest.param(CONFS / "ws-good.conf", id="minimal-location"),
    pytest.param(CONFS / "map-idiom.conf", id="connection-upgrade-map"),
    pytest.param(CONFS / "named-upstream.conf", id="named-upstream-with-keepalive"),
    pytest.param(CONFS / "exact-location.conf", id="exact-location"),
    pytest.param(CONFS / "long-timeouts.conf", id="timeouts-in-hours-and-days"),
    pytest.param(CONFS / "settings-inherited.conf", id="settings-inherited-from-http-and-server"),
    # nginx arms proxy_send_timeout only while a write to the service is blocked: it never cuts an idle session.
    pytest.param(CONFS / "send-timeout-short.conf", id="send-timeout-30s"),
    pytest.param(CONFS / "read-timeout-only.conf", id="read-timeout-only"),
    # nginx sends each proxy_set_header of a name whose value is not empty (Chatwoot's, Jenkins' published files).
    pytest.param(CONFS / "connection-set-twice.conf", id="connection-upgrade-then-empty"),
    pytest.param(CONFS / "connection-from-the-client.conf", id="connection-from-the-browser"),
    # nginx gives a browser's `Upgrade: websocket` the map's `websocket upgrade;` entry, whatever its default.
    pytest.param(CONFS / "map-default-not-upgrade.conf", id="map-keyed-on-websocket"),
]

# The whole WebSocket location a site without one is told to write (nginx 1.22.1, the default service rules), its
# comments left out.
LOCATION_FIX = (
    "location /ws/ { proxy_pass http://127.0.0.1:8001; proxy_http_version 1.1; "
    'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 3600s; }'
)


def code(fix: str) -> str:
    """The lines of a fix without their comments, on one line."""
    return " ".join(line.strip() for line in fix.splitlines() if not line.strip().startswith("#"))


# Each broken site: its file and the (fault, line, fix) of every expected finding.
BROKEN_SITES = [
    pytest.param(
        "upgrade-missing.conf",
        [("proxy-upgrade", 3, "proxy_set_header Upgrade $http_upgrade;")],
        id="upgrade-header-missing",
    ),
    pytest.param(
        "connection-empty.conf", [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')], id="connection-empty"
    ),
    pytest.param(
        "connection-close.conf", [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')], id="connection-close"
    ),
    pytest.param(
        "connection-undefined-variable.conf",
        [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')],
        id="connection-map-missing",
    ),
    pytest.param(
        "map-gives-close.conf", [("proxy-upgrade", 2, "default upgrade;")], id="map-gives-close-for-a-browser"
    ),
    pytest.param(
        "http-version-missing.conf", [("proxy-upgrade", 3, "proxy_http_version 1.1;")], id="http-version-missing"
    ),
    pytest.param("http-version-1.0.conf", [("proxy-upgrade", 5, "proxy_http_version 1.1;")], id="http-version-1-0"),
    pytest.param(
        "proxy-pass-trailing-slash.conf",
        [("proxy-upgrade", 4, "proxy_pass http://127.0.0.1:8001;")],
        id="proxy-pass-rewrites-path",
    ),
    pytest.param(
        "proxy-pass-other-service.conf",
        [("endpoint", 4, "proxy_pass http://127.0.0.1:8001;")],
        id="proxy-pass-to-other-service",
    ),
    pytest.param(
        "read-timeout-short.conf", [("proxy-upgrade", 12, "proxy_read_timeout 3600s;")], id="read-timeout-short"
    ),
    pytest.param(
        "read-timeout-missing.conf", [("proxy-upgrade", 3, "proxy_read_timeout 3600s;")], id="read-timeout-default"
    ),
    pytest.param(
        "rewrite-changes-the-path.conf",
        [("proxy-upgrade", 4, "drop this rewrite for the WebSocket path")],
        id="rewrite-changes-the-path",
    ),
    pytest.param(
        "named-location-fallback.conf",
        [("proxy-upgrade", 6, "proxy_http_version 1.1;")],
        id="try-files-falls-back-to-a-named-location",
    ),
    pytest.param(
        "location-header-overrides-server.conf",
        [
            ("proxy-upgrade", 9, "proxy_set_header Upgrade $http_upgrade;"),
            ("proxy-upgrade", 9, 'proxy_set_header Connection "upgrade";'),
        ],
        id="location-headers-hide-server-upgrade",
    ),
    pytest.param("no-ws-location.conf", [("endpoint", 3, LOCATION_FIX)], id="no-ws-location"),
    pytest.param(
        "ws-location-without-proxy-pass.conf", [("endpoint", 3, LOCATION_FIX)], id="ws-location-without-proxy-pass"
    ),
]

UPGRADE_FIX = "proxy_set_header Upgrade $http_upgrade;"
CONNECTION_FIX = 'proxy_set_header Connection "upgrade";'
FORWARDED_PROTO_FIX = "proxy_set_header X-Forwarded-Proto $scheme;"
REDIRECT_SEEN = (INFORMATION, "endpoint")
# The corpus: each site file and every finding it gives, as (severity, fault, file, line, fix).
CORPUS = [
    pytest.param("certbot.conf", [(*REDIRECT_SEEN, "certbot.conf", 32, "")], id="certbot-two-servers"),
    pytest.param(
        "certbot-ws-in-port-80.conf",
        [
            (*REDIRECT_SEEN, "certbot-ws-in-port-80.conf", 18, ""),
            (FAILURE, "endpoint", "certbot-ws-in-port-80.conf", 7, LOCATION_FIX),
        ],
        id="certbot-websocket-location-only-in-the-port-80-server",
    ),
    pytest.param("proxy-params.conf", [], id="include-proxy-params"),
    pytest.param("snippet.conf", [], id="include-snippet-and-proxy-params"),
    pytest.param(
        "proxy-params-hides-server-upgrade.conf",
        [
            (FAILURE, "proxy-upgrade", "prefix/proxy_params", 30, UPGRADE_FIX),
            (FAILURE, "proxy-upgrade", "prefix/proxy_params", 30, CONNECTION_FIX),
        ],
        id="proxy-params-hides-server-upgrade-headers",
    ),
    pytest.param("server-level-headers.conf", [], id="headers-inherited-from-the-server"),
    pytest.param(
        "redefinition-trap.conf",
        [
            (FAILURE, "proxy-upgrade", "redefinition-trap.conf", 11, UPGRADE_FIX),
            (FAILURE, "proxy-upgrade", "redefinition-trap.conf", 11, CONNECTION_FIX),
        ],
        id="redefinition-trap",
    ),
    pytest.param("map-idiom.conf", [], id="connection-upgrade-map"),
    pytest.param("upstream-keepalive.conf", [], id="upstream-with-zone-keepalive-and-a-backup"),
    pytest.param("exact-and-regex-locations.conf", [], id="exact-location-before-regex-ones"),
    pytest.param("regex-location.conf", [], id="regex-location"),
    pytest.param(
        "no-buffering-line.conf",
        [(ADVICE, "proxy-upgrade", "no-buffering-line.conf", 5, "proxy_buffering off;")],
        id="no-proxy-buffering-line",
    ),
    pytest.param(
        "tls-forwarded-proto-http.conf",
        [(ADVICE, "proxy-upgrade", "tls-forwarded-proto-http.conf", 16, FORWARDED_PROTO_FIX)],
        id="tls-with-forwarded-proto-http",
    ),
    pytest.param("tls-forwarded-proto-https.conf", [], id="tls-only-with-forwarded-proto-https"),
    pytest.param(
        "http-and-tls-forwarded-proto-https.conf",
        [(ADVICE, "proxy-upgrade", "http-and-tls-forwarded-proto-https.conf", 16, FORWARDED_PROTO_FIX)],
        id="http-and-tls-with-forwarded-proto-https",
    ),
    pytest.param("variable-proxy-pass.conf", [], id="proxy-pass-through-a-set-variable"),
    pytest.param(
        "variable-proxy-pass-with-uri.conf",
        [(FAILURE, "proxy-upgrade", "variable-proxy-pass-with-uri.conf", 7, "proxy_pass http://$trading;")],
        id="proxy-pass-through-a-variable-with-a-uri",
    ),
    pytest.param("map-chooses-upstream.conf", [], id="upstream-chosen-by-a-map"),
    pytest.param("no-listen.conf", [], id="server-without-listen"),
    pytest.param("localhost.conf", [], id="trading-service-as-localhost"),
    pytest.param("ipv6-loopback.conf", [], id="trading-service-as-ipv6-loopback"),
    pytest.param("globbed-include.conf", [], id="globbed-include-of-map-and-upstream"),
    pytest.param(
        "x-real-ip-blanked.conf",
        [(ADVICE, "proxy-upgrade", "x-real-ip-blanked.conf", 11, "proxy_set_header X-Real-IP $remote_addr;")],
        id="x-real-ip-set-to-empty",
    ),
]


@pytest.mark.parametrize("site", CORRECT_SITES)
def test_correct_site_has_no_failure(site):
    """A site that proxies /ws/realtime as a WebSocket passes the check (advice is not a failure)."""
    findings = [finding for finding in lint(site) if finding.severity == FAILURE]
    assert findings == [], format_findings(findings)


def test_long_connect_timeout_is_advice():
    """The production file's proxy_connect_timeout 120s lets a silent service host hold every handshake that
    long: advice, with the value to write."""
    findings = lint(PRODUCTION_SITE)
    assert [(f.severity, f.line, f.fix) for f in findings] == [(ADVICE, 29, "proxy_connect_timeout 10s;")]


@pytest.mark.parametrize(("conf", "expected"), BROKEN_SITES)
def test_broken_site_gives_its_finding(conf, expected):
    """Each misconfiguration is reported once, in its failure family, at its line, with the fixing line."""
    findings = lint(CONFS / conf)
    assert [(f.fault, f.line, code(f.fix)) for f in findings] == expected, format_findings(findings)
    assert {f.severity for f in findings} == {FAILURE}


@pytest.mark.parametrize("conf", ["no-ws-location.conf", "ws-location-without-proxy-pass.conf"])
@pytest.mark.parametrize("nginx_version", [DEBIAN_12_NGINX, None, "1.29.7"])
@pytest.mark.parametrize("ping_interval", [None, 25.0])
def test_location_fix_passes_the_check(conf, nginx_version, ping_interval, tmp_path):
    """The location a site without a WebSocket location is told to write makes it pass, each line under a comment
    saying why, with proxy_http_version only where the nginx version needs it."""
    (finding,) = lint(CONFS / conf, nginx_version=nginx_version, server_ping_interval=ping_interval)
    lines = (CONFS / conf).read_text().splitlines()
    at = finding.line - 1
    kept = lines[at + 3 :] if finding.replaces else lines[at:]  # the 3-line location it replaces, else before it
    fixed = tmp_path / conf
    fixed.write_text("\n".join([*lines[:at], *finding.fix.splitlines(), *kept]) + "\n")
    assert failures(lint(fixed, nginx_version=nginx_version, server_ping_interval=ping_interval)) == []
    fix = [line.strip() for line in finding.fix.splitlines()]
    # Each directive under a comment, or under one of its own name that is (the headers of one reason).
    uncommented = [
        line
        for before, line in itertools.pairwise(fix)
        if line.endswith(";") and not before.startswith("#") and before.split()[:1] != line.split()[:1]
    ]
    assert (uncommented, "proxy_http_version 1.1;" in fix) == ([], nginx_version != "1.29.7")


@pytest.mark.parametrize(("site", "expected"), CORPUS)
def test_corpus_site_gives_exactly_its_findings(site, expected):
    """A site file as teams write it gives exactly its findings: none that fails when it is correct."""
    findings = lint(SITES / site)
    assert verdict(findings) == expected, format_findings(findings)


def test_missing_buffering_is_advice():
    """A WebSocket location without proxy_buffering off works: nginx never buffers an upgraded connection."""
    findings = lint(CONFS / "buffering-missing.conf")
    assert [(f.severity, f.line, f.fix) for f in findings] == [(ADVICE, 3, "proxy_buffering off;")]


def test_redefinition_trap_names_both_lines():
    """A server-level header hidden by a location-level proxy_set_header names where it was set and what hides it."""
    findings = lint(SITES / "redefinition-trap.conf")
    assert findings[0].problem == (
        f"Upgrade header not forwarded: it is set at {SITES / 'redefinition-trap.conf'}:5, but the proxy_set_header "
        f"at {SITES / 'redefinition-trap.conf'}:11 makes nginx drop every outer proxy_set_header; write it in the "
        f"location at {SITES / 'redefinition-trap.conf'}:8"
    )


def test_websocket_location_in_an_unreached_server_is_named():
    """A WebSocket location only in the port-80 redirect server is named, with the server browsers reach."""
    site = SITES / "certbot-ws-in-port-80.conf"
    findings = lint(site)
    assert findings[1].problem == (
        f"no location proxies /ws/realtime: it is served by `location /`; the server at {site}:18 proxies it, but "
        f"browsers on this site reach {site}:1"
    )


@pytest.mark.parametrize(
    ("nginx_version", "expected"),
    [
        pytest.param("1.22.1", [(3, "proxy_http_version 1.1;")], id="debian-12"),
        pytest.param("1.29.6", [(3, "proxy_http_version 1.1;")], id="just-before-1-29-7"),
        pytest.param(None, [(3, "proxy_http_version 1.1;")], id="unknown-version"),
        pytest.param("1.29.7", [], id="http-1-1-by-default"),
    ],
)
def test_http_version_is_required_only_before_1_29_7(nginx_version, expected):
    """proxy_http_version 1.1 is needed only where nginx speaks HTTP/1.0 upstream by default."""
    findings = lint(CONFS / "http-version-missing.conf", nginx_version=nginx_version)
    assert [(f.line, f.fix) for f in findings] == expected, format_findings(findings)


def test_http_version_1_0_fails_on_any_version():
    """An explicit proxy_http_version 1.0 breaks the upgrade even where 1.1 is the default."""
    findings = lint(CONFS / "http-version-1.0.conf", nginx_version="1.29.7")
    assert [(f.line, f.fix) for f in findings] == [(5, "proxy_http_version 1.1;")], format_findings(findings)


@pytest.mark.parametrize(
    ("conf", "interval", "expected"),
    [
        pytest.param("read-timeout-missing.conf", 25, [], id="default-60s-over-25s-pings"),
        pytest.param("read-timeout-short.conf", 55, [(ADVICE, 12, "proxy_read_timeout 83s;")], id="60s-over-55s-pings"),
        pytest.param("read-timeout-short.conf", 60, [(FAILURE, 12, "proxy_read_timeout 90s;")], id="60s-at-60s-pings"),
        pytest.param("read-timeout-short.conf", 65, [(FAILURE, 12, "proxy_read_timeout 98s;")], id="60s-below-65s"),
        pytest.param("read-timeout-short.conf", 40, [], id="60s-over-40s-pings-by-half"),
    ],
)
def test_read_timeout_need_only_exceed_the_server_ping(conf, interval, expected):
    """nginx re-arms its read timer at every frame of the service: a read timeout above the ping interval keeps
    idle sessions; one within 1.5 intervals or 10 s of it is advice."""
    findings = lint(CONFS / conf, server_ping_interval=interval)
    assert [(f.severity, f.line, f.fix) for f in findings] == expected, format_findings(findings)


@pytest.mark.parametrize("required", [pytest.param((), id="none"), pytest.param(("Host",), id="host-only")])
def test_a_header_the_service_does_not_require_is_advice(required):
    """A header the service does not require may be missing: advice with the line to write and why."""
    findings = lint(CONFS / "forwarded-for-missing.conf", required_headers=required)
    fix = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
    assert [(f.severity, f.line, f.fix) for f in findings] == [(ADVICE, 3, fix)], format_findings(findings)
    assert "logs and rate limits" in findings[0].problem


def test_a_required_header_missing_fails():
    """A header the contract requires fails when missing, with the line to write."""
    findings = lint(CONFS / "forwarded-for-missing.conf", required_headers=("X-Forwarded-For",))
    fix = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
    assert [(f.severity, f.line, f.fix) for f in findings] == [(FAILURE, 3, fix)], format_findings(findings)


def test_the_server_the_origin_reaches_is_checked():
    """With --origin, the server a browser on that origin reaches is the one checked."""
    findings = lint(CONFS / "two-servers.conf", origin="http://localhost:8080")
    assert [(f.line, code(f.fix)) for f in findings] == [(8, LOCATION_FIX)], format_findings(findings)


def test_finding_renders_as_file_line_problem_fix():
    """A finding reads as `file:line: problem -> fix`, information without a fix as `file:line: problem`."""
    fix = "proxy_set_header Connection upgrade;"
    finding = Finding("site.conf", 7, "proxy-upgrade", "connection-header", "Connection is 'close'", fix)
    information = Finding("site.conf", 1, "endpoint", "a-location-proxies-the-endpoint", "not checked", "", INFORMATION)
    assert (str(finding), str(information)) == (
        "site.conf:7: Connection is 'close' -> proxy_set_header Connection upgrade;",
        "site.conf:1: not checked",
    )
