"""Reading a site file as production serves it (includes, servers, names), rewriting it for the test machine,
and the real `nginx -t` on the result."""

import copy
import ssl
from pathlib import Path

import crossplane
import pytest

from ws_gate.errors import GateSetupError
from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.rewrite import REFUSING_ADDRESS, rewrite_site, serve
from ws_gate.nginx.runtime import SiteRefused, check_config, write_main_conf
from ws_gate.nginx.site import Origin, find_location_chain, load_site, parse_seconds, reached_server, read_site
from ws_gate.tls import TlsFiles, mint

CONFS = Path(__file__).parent / "confs"
SITES = Path(__file__).parent / "sites"  # site files as teams write them
PREFIX = SITES / "prefix"  # a copy of a production host's /etc/nginx
PRODUCTION_SITE = Path(__file__).parents[1] / "docker" / "nginx" / "trademe.conf"
LISTENS = {443: "127.0.0.1:50443", 80: "127.0.0.1:50080", 8080: "127.0.0.1:50080"}
TRADING = "127.0.0.1:8001"
BACKEND = "127.0.0.1:50001"
FAKE_TLS = TlsFiles(Path("/tls/ca.pem"), Path("/tls/server.pem"), Path("/tls/server.key"), "spki")

requires_nginx = pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")

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

# Which server of names.conf (by its line) a page origin reaches, as nginx picks it.
SERVER_NAMES = [
    pytest.param("http://example.com", 5, id="exact-name"),
    pytest.param("http://shop.example.com", 9, id="leading-wildcard"),
    pytest.param("http://api.example.net", 13, id="trailing-wildcard"),
    pytest.param("http://ws7.example.org", 17, id="regex-name"),
    pytest.param("http://unknown.example.net", 1, id="default-server"),
    pytest.param("https://www.example.com", 21, id="tls-port"),
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
    """The directive tree without line numbers and files, to compare two files' structure."""
    shape = []
    for stmt in directives:
        block = {"block": without_lines(stmt["block"])} if "block" in stmt else {}
        shape.append({"directive": stmt["directive"], "args": stmt["args"], **block})
    return shape


def reparse(text):
    """Parse nginx text without following includes."""
    payload = crossplane.parse_string(text, single=True, check_ctx=False)
    assert payload["errors"] == []
    return payload["config"][0]["parsed"]


def rewritten(site_file, prefix=PREFIX):
    return rewrite_site(load_site(site_file, prefix), LISTENS, TRADING, BACKEND, Path("/logs"), FAKE_TLS)


def test_rewrite_changes_only_listen_tls_and_upstream_addresses():
    """Listens move to the gate's address for their port, TLS gets the run's certificate, trading-service
    addresses go to the backend and other services' to an address that refuses connections; all else survives."""
    expected = load_site(CONFS / "rewrite-expected.conf", PREFIX).directives
    assert without_lines(reparse(rewritten(CONFS / "rewrite-source.conf").text)) == without_lines(expected)


def test_rewrite_leaves_its_input_unchanged():
    """rewrite_site works on a copy of the parsed site."""
    site = load_site(CONFS / "rewrite-source.conf", PREFIX)
    before = copy.deepcopy(site.directives)
    rewrite_site(site, LISTENS, TRADING, BACKEND, Path("/logs"), FAKE_TLS)
    assert site.directives == before


def test_rewrite_says_each_change_in_one_line():
    """Every line of the certbot site that cannot exist on a test machine is named with what replaced it."""
    changes = rewritten(SITES / "certbot.conf").changes
    assert [change.split(": `", 1)[0].rsplit(":", 1)[1] for change in changes] == [
        "25", "37", "12", "26", "27", "28", "29",
    ]  # fmt: skip
    assert changes[-2].endswith("dropped: the file exists only on the production host; nginx's TLS defaults apply")


def test_rewrite_evaluates_variables_and_moves_logs():
    """proxy_pass through `set` and `map` variables reaches the backend, another service's the refusing address;
    log paths do not stay on production paths."""
    text = rewritten(CONFS / "variables.conf").text
    assert [s["args"] for s in reparse(text)[1]["block"] if s["directive"] in ("listen", "access_log", "error_log")] + [
        loc["block"][0]["args"] for loc in reparse(text)[1]["block"] if loc["directive"] == "location"
    ] == [
        ["127.0.0.1:50080"],
        ["/logs/trademe.access.log", "combined"],
        ["/logs/error.log", "warn"],
        [f"http://{BACKEND}"],
        [f"http://{BACKEND}"],
        [f"http://{REFUSING_ADDRESS}"],
    ]


@requires_nginx
@pytest.mark.parametrize(
    "site",
    [PRODUCTION_SITE, CONFS / "rewrite-source.conf", *sorted(SITES.glob("*.conf"))],
    ids=lambda path: path.stem,
)
def test_rewritten_site_passes_nginx_t(tmp_path, site):
    """The rewritten site, with a certificate minted for it when it speaks TLS, is a configuration the real
    nginx accepts: every file of the corpus can be served."""
    served = serve(read_site(site, PREFIX, None), tmp_path)
    listens = {port: f"127.0.0.1:{50000 + index}" for index, port in enumerate(served.ports)}
    text = rewrite_site(served.site, listens, TRADING, BACKEND, tmp_path, served.tls).text
    check_config(machine_nginx(), write_main_conf(tmp_path, text), tmp_path)


def test_includes_resolve_against_the_nginx_prefix():
    """`include proxy_params;` and `include snippets/*.conf;` read the prefix's files, each directive keeping
    its own file and line."""
    _, server = reached_server(load_site(SITES / "snippet.conf", PREFIX), None)
    headers = [
        (Path(s["file"]).name, s["line"], s["args"][0])
        for s in find_location_chain(server, "/ws/realtime")[-1]["block"]
        if s["directive"] == "proxy_set_header"
    ]
    assert headers == [
        ("websocket.conf", 3, "Upgrade"),
        ("websocket.conf", 4, "Connection"),
        ("proxy_params", 30, "Host"),
        ("proxy_params", 31, "X-Real-IP"),
        ("proxy_params", 32, "X-Forwarded-For"),
        ("proxy_params", 33, "X-Forwarded-Proto"),
    ]


def test_missing_include_names_file_line_and_prefix():
    """An include that is not TLS material and is not in the prefix is one line naming it and --nginx-prefix."""
    expected = r"missing-include\.conf:4: include snippets/not-there\.conf: .* --nginx-prefix"
    with pytest.raises(GateSetupError, match=expected):
        load_site(CONFS / "missing-include.conf", PREFIX)


def test_certbot_site_reaches_its_tls_server_by_default():
    """A page served over https reaches the 443 server; the port-80 server only redirects to https."""
    site = load_site(SITES / "certbot.conf", PREFIX)
    origin, server = reached_server(site, None)
    redirect = next(other for other in site.servers if other is not server and 80 in other.ports)
    assert (str(origin), server.stmt["line"], redirect.redirects_to_https()) == ("https://trade.example.com", 1, True)


@pytest.mark.parametrize(("origin", "line"), SERVER_NAMES)
def test_origin_reaches_the_server_nginx_picks(origin, line):
    """By port and TLS, then exact name, leading wildcard, trailing wildcard, first regex, else default_server."""
    assert load_site(CONFS / "names.conf", PREFIX).reached(Origin.parse(origin)).stmt["line"] == line


def test_origin_no_server_listens_for_is_a_setup_error():
    """An origin on a port no server listens on is one line that says so."""
    with pytest.raises(GateSetupError, match=r"no server listens for https://example\.com:8443"):
        load_site(CONFS / "names.conf", PREFIX).reached(Origin.parse("https://example.com:8443"))


def test_minted_certificate_verifies_with_the_run_ca(tmp_path):
    """The run's CA verifies the certificate minted for the site's name, and no other name."""
    tls = mint(tmp_path, ["trade.example.com"])
    context = ssl.create_default_context(cafile=tls.ca)
    context.load_cert_chain(tls.certificate, tls.key)  # the key belongs to the certificate
    assert (len(tls.spki), tls.certificate.read_text().count("BEGIN CERTIFICATE")) == (44, 1)


@requires_nginx
@pytest.mark.parametrize(("site_text", "nginx_message"), INVALID_SITES)
def test_invalid_site_reports_nginx_message(tmp_path, site_text, nginx_message):
    """A site nginx rejects raises SiteRefused, a finding of site-loads, carrying nginx's own [emerg] message."""
    conf = write_main_conf(tmp_path, site_text)
    with pytest.raises(SiteRefused, match="refuses the site file") as raised:
        check_config(machine_nginx(), conf, tmp_path)
    assert nginx_message in str(raised.value)


@requires_nginx
def test_invalid_site_quotes_the_offending_line(tmp_path):
    """nginx's line number is the rewritten copy's: the refusal carries it, for the bring-up to place the team's
    statement behind it."""
    site = tmp_path / "team.conf"
    site.write_text("server {\n    listen 80;\n\n    proxy_upgrade on;\n}\n")
    rewritten = rewrite_site(load_site(site, tmp_path), {80: "127.0.0.1:50080"}, TRADING, BACKEND, tmp_path)
    conf = write_main_conf(tmp_path, rewritten.text)
    with pytest.raises(SiteRefused) as raised:
        check_config(machine_nginx(), conf, tmp_path)
    stmt = rewritten.statement_at(tmp_path / "site.conf", raised.value.line)
    expected = ('unknown directive "proxy_upgrade"', 4, "proxy_upgrade")
    assert (raised.value.message, stmt["line"], stmt["directive"]) == expected


def test_missing_nginx_names_the_package(tmp_path):
    """Without an nginx binary the error says which package to install."""
    conf = write_main_conf(tmp_path, "")
    with pytest.raises(GateSetupError, match="apt-get install nginx-light"):
        check_config(None, conf, tmp_path)


def test_missing_site_file_is_a_setup_error(tmp_path):
    """A site file that does not exist raises GateSetupError naming it."""
    with pytest.raises(GateSetupError, match=r"missing\.conf: nginx site file not found"):
        load_site(tmp_path / "missing.conf", PREFIX)


def test_syntax_error_names_file_and_line(tmp_path):
    """crossplane's syntax error comes back as one line: file:line: message."""
    site = tmp_path / "broken.conf"
    site.write_text("server {\n    listen 80;\n    location / {\n}\n")
    with pytest.raises(GateSetupError, match=r"broken\.conf:4: unexpected end of file, expecting \"}\""):
        load_site(site, PREFIX)


@pytest.mark.parametrize(("path", "expected_args"), LOCATIONS)
def test_find_location_follows_nginx_matching(path, expected_args):
    """Exact, then longest prefix (final if ^~), then regexes in order, else that prefix."""
    _, server = reached_server(load_site(CONFS / "locations.conf", PREFIX), None)
    assert find_location_chain(server, path)[-1]["args"] == expected_args


def test_find_location_uses_the_default_server():
    """With several servers on one port and no name asked, the one marked default_server answers."""
    _, server = reached_server(load_site(CONFS / "two-servers.conf", PREFIX), None)
    assert (server.stmt["line"], find_location_chain(server, "/ws/realtime")[-1]["args"]) == (6, ["/ws/"])


def test_find_location_without_match_is_none():
    """A path no location of the server covers has no location."""
    _, server = reached_server(load_site(CONFS / "two-servers.conf", PREFIX), None)
    assert find_location_chain(server, "/index.html") is None


@pytest.mark.parametrize(("value", "seconds"), TIMES)
def test_parse_seconds_reads_nginx_time_syntax(value, seconds):
    """nginx time values convert to seconds."""
    assert parse_seconds(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "1x", "h1"])
def test_parse_seconds_rejects_invalid_values(value):
    """A value nginx would not accept as a time raises GateSetupError."""
    with pytest.raises(GateSetupError, match="invalid nginx time value"):
        parse_seconds(value)
