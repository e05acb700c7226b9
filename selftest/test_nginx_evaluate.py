"""The static evaluation of maps and trailing-slash redirects (ws_gate/nginx/evaluate.py) agrees with the real
nginx: each case is served by the installed binary on loopback, asked with a browser's handshake headers, and
its answer must equal both the evaluation and the value nginx's source says."""

import http.client
import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.evaluate import BrowserRequest, maps_of, trailing_slash_redirect, value_of
from ws_gate.nginx.site import Site, load_site

PAGE = BrowserRequest(host="trade.example.com", origin="https://trade.example.com")
# (map blocks, the variable asked for, the request, the value nginx gives it).
MAPS = {
    "signalr-connection-map": (
        'map $http_connection $v { "~*Upgrade" $http_connection; default keep-alive; }',
        "v",
        PAGE,
        "Upgrade",
    ),
    "upgrade-map-empty-closes": ("map $http_upgrade $v { default upgrade; '' close; }", "v", PAGE, "upgrade"),
    "exact-key-caseless": ("map $http_upgrade $v { WebSocket exact; default none; }", "v", PAGE, "exact"),
    "tilde-regex-keeps-case": ("map $http_connection $v { ~upgrade lower; default none; }", "v", PAGE, "none"),
    "tilde-star-regex-ignores-case": ("map $http_connection $v { ~*^upgrade$ any; default none; }", "v", PAGE, "any"),
    "exact-before-earlier-regex": ("map $http_upgrade $v { ~.* regex; websocket exact; }", "v", PAGE, "exact"),
    "regexes-in-order": ("map $http_connection $v { ~*grade first; ~*up second; }", "v", PAGE, "first"),
    "no-default-is-empty": ("map $http_origin $v { https://other.example other; }", "v", PAGE, ""),
    "empty-source-exact": ("map $http_x_absent $v { ~.* regex; '' empty; default d; }", "v", PAGE, "empty"),
    "empty-source-skips-regexes": ("map $http_x_absent $v { ~^$ regex; default d; }", "v", PAGE, "d"),
    "hostnames-wildcard": ("map $host $v { hostnames; *.example.com wild; default no; }", "v", PAGE, "wild"),
    "hostnames-star-not-bare": (
        "map $host $v { hostnames; *.example.com wild; default no; }",
        "v",
        BrowserRequest(host="example.com"),
        "no",
    ),
    "hostnames-dot-matches-bare": (
        "map $host $v { hostnames; .example.com dot; default no; }",
        "v",
        BrowserRequest(host="example.com:8443"),
        "dot",
    ),
    "http-host-keeps-port": (
        "map $http_host $v { trade.example.com:8443 port; default no; }",
        "v",
        BrowserRequest(host="trade.example.com:8443"),
        "port",
    ),
    "host-drops-port": (
        "map $host $v { trade.example.com name; default no; }",
        "v",
        BrowserRequest(host="Trade.Example.com:8443"),
        "name",
    ),
    "scheme": ("map $scheme $v { http plain; https tls; }", "v", BrowserRequest("trade.example.com", "http"), "plain"),
    "origin-regex": ('map $http_origin $v { "~^https://trade\\.example\\.com$" ok; default no; }', "v", PAGE, "ok"),
    "value-with-text": ('map $http_upgrade $v { default "to-$http_upgrade"; }', "v", PAGE, "to-websocket"),
    "chained-maps": (
        "map $http_upgrade $w { default upgrade; '' close; } map $w $v { upgrade chained; default no; }",
        "v",
        PAGE,
        "chained",
    ),
    "source-with-text": ("map $http_upgrade:$http_connection $v { websocket:upgrade both; }", "v", PAGE, "both"),
}
# (locations of a server, the status nginx answers /ws/realtime?token=t with, the Location's path and query).
WS_PROXY = "proxy_pass http://127.0.0.1:9;"
REDIRECTS = {
    "slash-location-redirects": (f"location /ws/realtime/ {{ {WS_PROXY} }}", 301, "/ws/realtime/?token=t"),
    "exact-location-stops-it": (
        f"location /ws/realtime/ {{ {WS_PROXY} }} location = /ws/realtime {{ return 200; }}",
        200,
        None,
    ),
    "prefix-location-stops-it": (
        f"location /ws/realtime/ {{ {WS_PROXY} }} location /ws/realtime {{ return 200; }}",
        200,
        None,
    ),
    "regex-does-not-stop-it": (
        f"location /ws/realtime/ {{ {WS_PROXY} }} location ~ ^/ws/realtime$ {{ return 200; }}",
        301,
        "/ws/realtime/?token=t",
    ),
    "nested-slash-location": (
        f"location /ws/ {{ location /ws/realtime/ {{ {WS_PROXY} }} }}",
        301,
        "/ws/realtime/?token=t",
    ),
    "without-proxy-pass-no-redirect": (
        "location /ws/realtime/ { return 200; } location / { return 204; }",
        204,
        None,
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def nginx(tmp_path_factory) -> Iterator[tuple[int, Site]]:
    """The installed nginx serving every case: one location a map case (`return 200 "$v"`), one server a
    redirect case (server_name <case>.test). Yields its port and the site file it serves, as the gate reads it."""
    binary = machine_nginx()
    if binary is None:
        pytest.fail("nginx is not installed (apt-get install nginx-light)")
    prefix = tmp_path_factory.mktemp("nginx-evaluate")
    port = free_port()
    maps = [text.replace("$v ", f"$v_{i} ").replace("$w", f"$w_{i}") for i, (text, *_) in enumerate(MAPS.values())]
    values = [f'location = /map/{i} {{ return 200 "$v_{i}"; }}' for i in range(len(MAPS))]
    servers = [
        f"server {{ listen 127.0.0.1:{port}; server_name {name}.test; {locations} }}"
        for name, (locations, *_) in REDIRECTS.items()
    ]
    temps = " ".join(
        f"{kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    site = prefix / "site.conf"  # a site file as sites-enabled holds it, one line per map and per server
    site.write_text(
        "\n".join([*maps, f"server {{ listen 127.0.0.1:{port} default_server; {' '.join(values)} }}", *servers])
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"daemon off; master_process off; pid {prefix}/nginx.pid; error_log {prefix}/error.log;\n"
        f"events {{ worker_connections 64; }}\nhttp {{ access_log off; {temps} include {site}; }}\n"
    )
    log = prefix / "stderr.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([*binary.command(), "-p", str(prefix), "-c", str(conf)], stderr=stderr)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start within 10 s: {log.read_text()}")
                time.sleep(0.05)
        yield port, load_site(site, prefix)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def ask(port: int, path: str, request: BrowserRequest) -> http.client.HTTPResponse:
    """nginx's answer to a GET of `path` carrying the browser's handshake headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    for name, value in request.headers().items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


@pytest.mark.parametrize("case", list(MAPS))
def test_map_evaluates_as_nginx_answers(nginx, case):
    port, site = nginx
    index = list(MAPS).index(case)
    _, variable, request, expected = MAPS[case]
    answered = ask(port, f"/map/{index}", request)
    assert answered.status == 200
    evaluated = value_of(f"{variable}_{index}", request, maps_of(site.directives))
    assert (evaluated, answered.body.decode()) == (expected, expected)


@pytest.mark.parametrize("case", list(REDIRECTS))
def test_trailing_slash_redirect_as_nginx_answers(nginx, case):
    port, site = nginx
    _, status, location = REDIRECTS[case]
    answered = ask(port, "/ws/realtime?token=t", BrowserRequest(host=f"{case}.test", scheme="http"))
    server = next(server for server in site.servers if server.names == (f"{case}.test",))
    redirect = trailing_slash_redirect(server.block, "/ws/realtime?token=t")
    assert answered.status == status
    if location is None:
        assert redirect is None
    else:
        sent = urlsplit(answered.getheader("Location"))
        assert f"{sent.path}?{sent.query}" == location
        assert (redirect.status, redirect.location) == (301, location)
        line = 2 + len(MAPS) + list(REDIRECTS).index(case)
        assert (redirect.stmt["args"], redirect.where) == (["/ws/realtime/"], f"{site.path}:{line}")
