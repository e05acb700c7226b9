"""Site files as teams really write them (../shared/nginx-pitfalls.md): upstream hosts only production's DNS
knows, PCRE regexes, `ssl on;`, placeholder and wildcard names, IPv6-only listens. Each is read, its server
reached with a Host a browser can send, rewritten, accepted by the real `nginx -t` and served by the gate."""

import socket
from pathlib import Path

import pytest

from selftest.gate_run import run_gate
from ws_gate.errors import GateSetupError
from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.rewrite import REFUSING, REFUSING_ADDRESS, rewrite_site, serve
from ws_gate.nginx.runtime import check_config, write_main_conf
from ws_gate.nginx.site import Origin, find_location_chain, load_site, reached_server, read_site, same_address
from ws_gate.timeouts import SHORT

SITES = Path(__file__).parent / "sites"
CONTRACTS = Path(__file__).parent / "contracts"
PREFIX = SITES / "prefix"
BACKEND = "127.0.0.1:50001"

requires_nginx = pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")

# The page origin the gate chooses for a site, the line of the server it reaches, and how it says the choice.
ORIGINS = [
    pytest.param("pcre-named-captures.conf", "http://ws-gate.example.net", 2, "a name it matches", id="regex-name"),
    pytest.param("ssl-on-mixed-case.conf", "https://trade.example.com", 8, "lowercased", id="ssl-on-mixed-case"),
    pytest.param("wildcard-names.conf", "http://ws-gate.example.com", 2, "a name it matches", id="leading-wildcard"),
    pytest.param("placeholder-names.conf", "http://localhost", 2, "this default server answers", id="placeholder"),
    pytest.param("catch-all.conf", "http://hub.domain.tld", 8, "lowercased", id="catch-all-skipped"),
    pytest.param("ipv6-only.conf", "http://trade.example.com", 2, "", id="ipv6-only-listen"),
]

# Host names a server_name matches, as nginx picks the server for them (names.conf has the same servers).
NAMES = [
    pytest.param("http://Shop.EXAMPLE.com", 9, id="wildcard-ignores-case"),
    pytest.param("http://API.example.net", 13, id="trailing-wildcard-ignores-case"),
    pytest.param("http://ws7.example.org", 17, id="pcre-regex"),
]

# Site, the contract's trading_address, and what each production address became (line: what the change says).
REWRITES = [
    pytest.param(
        "compose-upstream.conf",
        "trading-service:8001",
        {
            2: "dropped: production's DNS servers are not on the test machine",
            5: f"`server {BACKEND} max_fails=3 fail_timeout=10s`",
            10: f"`server {REFUSING_ADDRESS} weight=2`: {REFUSING}",
            12: f"`server {REFUSING_ADDRESS} backup`: {REFUSING}",
            33: f"`proxy_pass http://{REFUSING_ADDRESS}`: {REFUSING}",
            38: f"`proxy_pass http://{REFUSING_ADDRESS}`: {REFUSING}",
            42: f"`fastcgi_pass {REFUSING_ADDRESS}`: {REFUSING}",
        },
        id="compose-service-names",
    ),
    pytest.param(
        "unix-socket-upstream.conf",
        "unix:/run/trading.sock",
        {
            3: f"`server {REFUSING_ADDRESS} fail_timeout=0`: {REFUSING}",
            11: f"`proxy_pass http://{BACKEND}`",
            24: f"`proxy_pass http://{REFUSING_ADDRESS}/assets/`: {REFUSING}",
        },
        id="unix-sockets",
    ),
    pytest.param(
        "internal-dns.conf",
        "Trading.Internal.svc.cluster.local:8001",
        {
            2: "dropped: production's DNS servers are not on the test machine",
            11: f"`proxy_pass http://{BACKEND}`",
            24: f"`proxy_pass http://{REFUSING_ADDRESS}`: {REFUSING}",
        },
        id="cluster-dns-names",
    ),
    pytest.param(
        "ssl-on-mixed-case.conf",
        "127.0.0.1:8001",
        {9: "`listen 127.0.0.1:50443 ssl`"},
        id="ssl-on",
    ),
    pytest.param(
        "ipv6-only.conf",
        "127.0.0.1:8001",
        {3: "`listen 127.0.0.1:50080 default_server`", 21: "`listen 127.0.0.1:58080`", 22: "`listen 127.0.0.1:58080`"},
        id="ipv6-only",
    ),
]
LISTENS = {80: "127.0.0.1:50080", 443: "127.0.0.1:50443", 8080: "127.0.0.1:58080"}

ADDRESSES = [
    pytest.param("Trading-Service:8001", "trading-service:8001", True, id="host-names-ignore-case"),
    pytest.param("[::1]:8001", "localhost:8001", True, id="loopback-spellings"),
    pytest.param("backend", "backend:80", True, id="no-port-is-80"),
    pytest.param("unix:/run/app.sock", "unix:/run/app.sock", True, id="unix-socket-path"),
    pytest.param("unix:/run/App.sock", "unix:/run/app.sock", False, id="unix-path-keeps-case"),
    pytest.param("unix:/run/app.sock", "127.0.0.1:8001", False, id="unix-socket-is-not-tcp"),
]

# The whole gate on each kind of file, each with a correct WebSocket location for the contract: it runs and passes.
GATE_RUNS = [
    pytest.param("compose-upstream.conf", "compose-service.toml", id="compose-upstream"),
    pytest.param("pcre-named-captures.conf", None, id="pcre-named-captures"),
    pytest.param("ssl-on-mixed-case.conf", None, id="ssl-on-mixed-case"),
    pytest.param("ipv6-only.conf", None, id="ipv6-only"),
    pytest.param("placeholder-names.conf", None, id="placeholder-name"),
]


@pytest.mark.parametrize(("site", "origin", "line", "why"), ORIGINS)
def test_default_origin_reaches_the_server_by_a_name_a_browser_can_send(site, origin, line, why):
    """Placeholders, `_`, wildcards, regexes and capitals become a lowercase host name nginx picks the server
    for; the choice is said in one line when the file does not spell it out."""
    chosen, server = reached_server(load_site(SITES / site, PREFIX), None)
    said = why in chosen.why if why else chosen.why == ""
    assert (str(chosen), server.stmt["line"], said) == (origin, line, True), chosen.why


@pytest.mark.parametrize(("origin", "line"), NAMES)
def test_host_reaches_the_server_whose_name_matches_it(origin, line):
    """Names compare caselessly; regex names are PCRE."""
    site = load_site(Path(__file__).parent / "confs" / "names.conf", PREFIX)
    assert site.reached(Origin.parse(origin)).stmt["line"] == line


def test_pcre_named_capture_location_serves_the_endpoint():
    """`location ~ ^/ws/(?<channel>[a-z]+)$` is evaluated by PCRE2, as nginx does: it serves /ws/realtime."""
    _, server = reached_server(load_site(SITES / "pcre-named-captures.conf", PREFIX), None)
    assert find_location_chain(server, "/ws/realtime")[-1]["args"] == ["~", "^/ws/(?<channel>[a-z]+)$"]


def test_capital_in_a_server_name_regex_makes_it_caseless(tmp_path):
    """nginx compiles a server_name regex caselessly when it has a capital letter, and lowercases the Host."""
    site = tmp_path / "capital.conf"
    site.write_text("server { listen 80; }\nserver {\n    listen 80;\n    server_name ~^Trade\\.example\\.com$;\n}\n")
    assert load_site(site, PREFIX).reached(Origin.parse("http://trade.example.com")).stmt["line"] == 2


def test_regex_pcre_rejects_names_its_file_and_line(tmp_path):
    """A regex that nginx -t would reject too is one line naming file:line."""
    site = tmp_path / "bad-regex.conf"
    site.write_text("server {\n    listen 80;\n    location ~ ^/ws/(?<channel {\n    }\n}\n")
    _, server = reached_server(load_site(site, PREFIX), None)
    with pytest.raises(GateSetupError, match=r"bad-regex\.conf:3: nginx cannot compile the regex"):
        find_location_chain(server, "/ws/realtime")


@requires_nginx
@pytest.mark.parametrize(("site", "trading_address", "changes"), REWRITES)
def test_rewrite_moves_production_addresses_and_nginx_accepts_it(tmp_path, site, trading_address, changes):
    """The trading-service's address goes to the backend, every other host to an address that refuses
    connections, each said in one line; the real nginx accepts the result."""
    served = serve(read_site(SITES / site, PREFIX, None), tmp_path)
    rewritten = rewrite_site(served.site, LISTENS, trading_address, BACKEND, tmp_path, served.tls)
    unsaid = {
        line: expected
        for line, expected in changes.items()
        if not any(f"{site}:{line}: " in change and expected in change for change in rewritten.changes)
    }
    assert unsaid == {}, "\n".join(rewritten.changes)
    check_config(machine_nginx(), write_main_conf(tmp_path, rewritten.text), tmp_path)


@pytest.mark.parametrize(("first", "second", "same"), ADDRESSES)
def test_same_address_compares_as_sockets(first, second, same):
    """Host names caselessly, loopback spellings as one, unix sockets by path."""
    assert same_address(first, second) is same


def test_refusing_address_refuses_at_once():
    """Nothing listens on the address other services go to: a connect is refused, so nginx answers 502."""
    host, port = REFUSING_ADDRESS.rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=SHORT).close()


def test_origin_host_a_url_cannot_carry_is_a_setup_error():
    """--origin with a placeholder for a host is one line, never an IDNA traceback when the certificate is minted."""
    with pytest.raises(GateSetupError, match="your_server_fqdn is not a host name"):
        Origin.parse("https://YOUR_SERVER_FQDN")


@requires_nginx
@pytest.mark.parametrize(("site", "contract"), GATE_RUNS)
def test_gate_runs_and_passes_on_real_world_site(tmp_path, site, contract):
    """The gate serves the file on the real nginx in front of the stub, and its tests run and pass."""
    options = [f"--nginx-conf={SITES / site}", *([f"--contract={CONTRACTS / contract}"] if contract else [])]
    run = run_gate(tmp_path, *options)
    assert (run.exit_code, run.failed, bool(run.passed)) == (0, set(), True), run.output[-3000:]
