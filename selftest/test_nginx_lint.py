"""The static check of the WebSocket location: each broken site gives exactly its finding."""

from pathlib import Path

import pytest

from fixtures.nginx_lint import Finding, format_findings, lint_site

CONFS = Path(__file__).parent / "confs"
PRODUCTION_SITE = Path(__file__).parents[1] / "docker" / "nginx" / "trademe.conf"

CORRECT_SITES = [
    pytest.param(PRODUCTION_SITE, id="production-site"),
    pytest.param(CONFS / "ws-good.conf", id="minimal-location"),
    pytest.param(CONFS / "map-idiom.conf", id="connection-upgrade-map"),
    pytest.param(CONFS / "named-upstream.conf", id="named-upstream-with-keepalive"),
    pytest.param(CONFS / "exact-location.conf", id="exact-location"),
    pytest.param(CONFS / "long-timeouts.conf", id="timeouts-in-hours-and-days"),
    pytest.param(CONFS / "settings-inherited.conf", id="settings-inherited-from-http-and-server"),
]

# Each broken site: its file and the (fault, line, fix) of every expected finding.
BROKEN_SITES = [
    pytest.param("upgrade-missing.conf", [("proxy-upgrade", 3, "proxy_set_header Upgrade $http_upgrade;")],
                 id="upgrade-header-missing"),
    pytest.param("connection-empty.conf", [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')],
                 id="connection-empty"),
    pytest.param("connection-close.conf", [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')],
                 id="connection-close"),
    pytest.param("connection-undefined-variable.conf",
                 [("proxy-upgrade", 7, 'proxy_set_header Connection "upgrade";')], id="connection-map-missing"),
    pytest.param("map-default-not-upgrade.conf", [("proxy-upgrade", 2, "default upgrade;")],
                 id="map-default-not-upgrade"),
    pytest.param("http-version-missing.conf", [("proxy-upgrade", 3, "proxy_http_version 1.1;")],
                 id="http-version-missing"),
    pytest.param("http-version-1.0.conf", [("proxy-upgrade", 5, "proxy_http_version 1.1;")],
                 id="http-version-1-0"),
    pytest.param("proxy-pass-trailing-slash.conf", [("proxy-upgrade", 4, "proxy_pass http://127.0.0.1:8001;")],
                 id="proxy-pass-rewrites-path"),
    pytest.param("proxy-pass-other-service.conf", [("endpoint", 4, "proxy_pass http://127.0.0.1:8001;")],
                 id="proxy-pass-to-other-service"),
    pytest.param("read-timeout-short.conf", [("proxy-upgrade", 12, "proxy_read_timeout 3600s;")],
                 id="read-timeout-short"),
    pytest.param("read-timeout-missing.conf", [("proxy-upgrade", 3, "proxy_read_timeout 3600s;")],
                 id="read-timeout-default"),
    pytest.param("send-timeout-short.conf", [("proxy-upgrade", 13, "proxy_send_timeout 3600s;")],
                 id="send-timeout-short"),
    pytest.param("buffering-missing.conf", [("proxy-upgrade", 3, "proxy_buffering off;")],
                 id="buffering-missing"),
    pytest.param("forwarded-for-missing.conf",
                 [("proxy-upgrade", 3, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")],
                 id="forwarded-for-missing"),
    pytest.param("location-header-overrides-server.conf",
                 [("proxy-upgrade", 6, "proxy_set_header Upgrade $http_upgrade;"),
                  ("proxy-upgrade", 6, 'proxy_set_header Connection "upgrade";')],
                 id="location-headers-hide-server-upgrade"),
    pytest.param("no-ws-location.conf",
                 [("endpoint", 3, "location /ws/ { proxy_pass http://127.0.0.1:8001; }")], id="no-ws-location"),
    pytest.param("ws-location-without-proxy-pass.conf",
                 [("endpoint", 3, "proxy_pass http://127.0.0.1:8001;")], id="ws-location-without-proxy-pass"),
]


@pytest.mark.parametrize("site", CORRECT_SITES)
def test_correct_site_has_no_findings(site):
    """A site that proxies /ws/realtime as a WebSocket passes the check."""
    findings = lint_site(site)
    assert findings == [], format_findings(findings)


@pytest.mark.parametrize(("conf", "expected"), BROKEN_SITES)
def test_broken_site_gives_its_finding(conf, expected):
    """Each misconfiguration is reported once, in its failure family, at its line, with the fixing line."""
    findings = lint_site(CONFS / conf)
    assert [(f.fault, f.line, f.fix) for f in findings] == expected, format_findings(findings)


def test_shadowed_header_names_the_pitfall():
    """A server-level header hidden by location-level proxy_set_header says why it is missing."""
    findings = lint_site(CONFS / "location-header-overrides-server.conf")
    assert "set on line 3, but an inner proxy_set_header stops nginx inheriting it" in findings[0].problem


def test_finding_renders_as_file_line_problem_fix():
    """A finding reads as `file:line: problem -> fix`."""
    finding = Finding("site.conf", 7, "proxy-upgrade", "Connection is 'close'", "proxy_set_header Connection upgrade;")
    assert str(finding) == "site.conf:7: Connection is 'close' -> proxy_set_header Connection upgrade;"
