"""Parsing, querying and rewriting a site file, and the real `nginx -t` on the result."""

import copy
from pathlib import Path

import crossplane
import pytest

from fixtures import nginx_runtime
from fixtures.errors import GateSetupError
from fixtures.nginx_runtime import check_config, nginx_binary, write_main_conf
from fixtures.nginx_site import find_location, load_site, parse_seconds, rewrite_site

CONFS = Path(__file__).parent / "confs"
PRODUCTION_SITE = Path(__file__).parents[1] / "docker" / "nginx" / "trademe.conf"
LISTEN = "127.0.0.1:50000"
TRADING = "127.0.0.1:8001"
BACKEND = "127.0.0.1:50001"

requires_nginx = pytest.mark.skipif(nginx_binary() is None, reason="nginx not installed (apt-get install nginx-light)")

LOCATIONS = [
    pytest.param("/ws/realtime", ["=", "/ws/realtime"], id="exact-beats-prefix"),
    pytest.param("/ws/realtime/x", ["/ws/"], id="longest-prefix"),
    pytest.param("/static/a.png", ["^~", "/static/"], id="caret-tilde-prefix-skips-regexes"),
    pytest.param("/a.png", ["~", r"\.png$"], id="regex-beats-prefix"),
    pytest.param("/a.JPEG", ["~*", r"\.jpe?g$"], id="tilde-star-ignores-case"),
    pytest.param("/images/a.png", ["~", r"\.png$"], id="first-matching-regex-wins"),
    pytest.param("/images/a.gif", ["~", "^/images/"], id="later-regex-beats-longer-prefix"),
    pytest.param("/api/a.json", ["~", r"\.json$"], id="nested-regex-beats-outer-regex"),
    pytest.param("/about", ["/"], id="catch-all-prefix"),
]

TIMES = [
    pytest.param("3600", 3600, id="bare-number-is-seconds"),
    pytest.param("3600s", 3600, id="seconds"),
    pytest.param("60m", 3600, id="minutes"),
    pytest.param("1h", 3600, id="hours"),
    pytest.param("1d", 86400, id="days"),
    pytest.param("500ms", 0.5, id="milliseconds"),
    pytest.param("1h30m", 5400, id="combined-units"),
]

INVALID_SITES = [
    pytest.param("server { proxy_upgrade on; }\n", 'unknown directive "proxy_upgrade"', id="unknown-directive"),
    pytest.param(
        "server { location / { proxy_set_header Connection $connection_upgrade; } }\n",
        'unknown "connection_upgrade" variable',
        id="map-missing",
    ),
]


def without_lines(directives):
    """The directive tree without line numbers, to compare two files' structure."""
    shape = []
    for stmt in directives:
        block = {"block": without_lines(stmt["block"])} if "block" in stmt else {}
        shape.append({"directive": stmt["directive"], "args": stmt["args"], **block})
    return shape


def reparse(text):
    """Parse nginx text the way load_site parses a file."""
    payload = crossplane.parse_string(text, single=True, check_ctx=False)
    assert payload["errors"] == []
    return payload["config"][0]["parsed"]


def test_rewrite_changes_only_listen_and_trading_address():
    """Listens move to the gate's address and trading-service addresses to the backend; all else survives."""
    text = rewrite_site(load_site(CONFS / "rewrite-source.conf"), LISTEN, TRADING, BACKEND)
    assert without_lines(reparse(text)) == without_lines(load_site(CONFS / "rewrite-expected.conf"))


def test_rewrite_leaves_its_input_unchanged():
    """rewrite_site works on a copy of the parsed site."""
    directives = load_site(CONFS / "rewrite-source.conf")
    before = copy.deepcopy(directives)
    rewrite_site(directives, LISTEN, TRADING, BACKEND)
    assert directives == before


@requires_nginx
@pytest.mark.parametrize("site", [PRODUCTION_SITE, CONFS / "rewrite-source.conf"], ids=["production", "rewrite-source"])
def test_rewritten_site_passes_nginx_t(tmp_path, site):
    """The rewritten site is a configuration the real nginx accepts."""
    conf = write_main_conf(tmp_path, rewrite_site(load_site(site), LISTEN, TRADING, BACKEND))
    check_config(conf, tmp_path)


@requires_nginx
@pytest.mark.parametrize(("site_text", "nginx_message"), INVALID_SITES)
def test_invalid_site_reports_nginx_message(tmp_path, site_text, nginx_message):
    """A site nginx rejects raises GateSetupError carrying nginx's own [emerg] message."""
    conf = write_main_conf(tmp_path, site_text)
    with pytest.raises(GateSetupError, match="site file under test") as raised:
        check_config(conf, tmp_path)
    assert nginx_message in str(raised.value)


@requires_nginx
def test_invalid_site_quotes_the_offending_line(tmp_path):
    """nginx's line number is the rewritten copy's, so the message quotes that line's text."""
    conf = write_main_conf(tmp_path, "server {\n    listen 80;\n    proxy_upgrade on;\n}\n")
    with pytest.raises(GateSetupError, match=r"site\.conf:3: `proxy_upgrade on;`$"):
        check_config(conf, tmp_path)


def test_missing_nginx_names_the_package(tmp_path, monkeypatch):
    """Without an nginx binary the error says which package to install."""
    monkeypatch.setattr(nginx_runtime, "nginx_binary", lambda: None)
    conf = write_main_conf(tmp_path, "")
    with pytest.raises(GateSetupError, match="apt-get install nginx-light"):
        check_config(conf, tmp_path)


def test_missing_site_file_is_a_setup_error(tmp_path):
    """A site file that does not exist raises GateSetupError naming it."""
    with pytest.raises(GateSetupError, match=r"missing\.conf: nginx site file not found"):
        load_site(tmp_path / "missing.conf")


def test_syntax_error_names_file_and_line(tmp_path):
    """crossplane's syntax error comes back as one line: file:line: message."""
    site = tmp_path / "broken.conf"
    site.write_text("server {\n    listen 80;\n    location / {\n}\n")
    with pytest.raises(GateSetupError, match=r"broken\.conf:4: unexpected end of file, expecting \"}\""):
        load_site(site)


@pytest.mark.parametrize(("path", "expected_args"), LOCATIONS)
def test_find_location_follows_nginx_matching(path, expected_args):
    """Exact, then longest prefix (final if ^~), then regexes in order, else that prefix."""
    _, location = find_location(load_site(CONFS / "locations.conf"), path)
    assert location["args"] == expected_args


def test_find_location_uses_the_default_server():
    """With several servers, the one marked default_server answers."""
    server, location = find_location(load_site(CONFS / "two-servers.conf"), "/ws/realtime")
    assert (server["line"], location["args"]) == (6, ["/ws/"])


def test_find_location_without_match_is_none():
    """A path no location of the default server covers has no location."""
    assert find_location(load_site(CONFS / "two-servers.conf"), "/index.html") is None


@pytest.mark.parametrize(("value", "seconds"), TIMES)
def test_parse_seconds_reads_nginx_time_syntax(value, seconds):
    """nginx time values convert to seconds."""
    assert parse_seconds(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "1x", "h1"])
def test_parse_seconds_rejects_invalid_values(value):
    """A value nginx would not accept as a time raises GateSetupError."""
    with pytest.raises(GateSetupError, match="invalid nginx time value"):
        parse_seconds(value)
