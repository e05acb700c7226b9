"""Every line the gate tells a team to write in its site file, built from the site's own names: the upstream it
already proxies to, the map variable it already has. Checks and diagnoses name what is wrong; the lines that fix
it come from here."""

import math

from ws_gate.nginx.versions import PROXY_READ_TIMEOUT

HTTP_1_1 = "proxy_http_version 1.1;"
UPGRADE = "proxy_set_header Upgrade $http_upgrade;"
CONNECTION_UPGRADE = '"upgrade"'  # the Connection value when the site has no map for it
BUFFERING_OFF = "proxy_buffering off;"
MAP_DEFAULT = "default upgrade;"
# The value each header the service reads is forwarded with; any other header is the client's own.
FORWARDED_VALUES = {
    "host": "$host",
    "x-real-ip": "$remote_addr",
    "x-forwarded-for": "$proxy_add_x_forwarded_for",
    "x-forwarded-proto": "$scheme",
}


def proxy_pass(upstream: str, scheme: str = "http") -> str:
    """The proxy_pass to `upstream` (host:port or an upstream block's name), with no URI part."""
    return f"proxy_pass {scheme}://{upstream};"


def proxy_pass_url(url: str) -> str:
    """The proxy_pass to `url` as the site writes it (variables kept), its URI part already cut off."""
    return f"proxy_pass {url};"


def connection(value: str = CONNECTION_UPGRADE) -> str:
    return f"proxy_set_header Connection {value};"


def forwarded_header(name: str) -> str:
    """The line that forwards header `name` with the value the service expects (the client's own for others)."""
    own = "$http_" + name.lower().replace("-", "_")
    return f"proxy_set_header {name} {FORWARDED_VALUES.get(name.lower(), own)};"


def host_header(value: str) -> str:
    """The Host line that sends the trading-service `value` (a name it allows, or nginx's variable)."""
    return f"proxy_set_header Host {value};"


def location(match: str, body: list[str]) -> list[str]:
    """A location for `match` holding `body` (lines already indented), as a site writes it: the trailing-slash
    location written without its slash, so nginx answers the path itself instead of redirecting it."""
    return [f"location {match} {{", *body, "}"]


def read_timeout(seconds: float) -> str:
    return f"proxy_read_timeout {math.ceil(seconds):g}s;"


def connect_timeout(seconds: int) -> str:
    return f"proxy_connect_timeout {seconds}s;"


def websocket_location(
    match: str,
    upstream: str,
    *,
    needs_http_1_1: bool,
    connection_value: str = CONNECTION_UPGRADE,
    idle_seconds: float,
    forwarded: tuple[str, ...] = (),
) -> list[str]:
    """The whole location block that carries the WebSocket upgrade for `match` (`/ws/`, `^~ /ws/`): only the lines
    nginx needs, each under a comment saying why."""
    lines = [
        f"location {match} {{",
        "    # the trading-service, with no URI part: it sees the path the browser dialled",
        f"    {proxy_pass(upstream)}",
    ]
    if needs_http_1_1:
        lines += ["    # this nginx speaks HTTP/1.0 upstream by default, which cannot upgrade", f"    {HTTP_1_1}"]
    lines += [
        "    # hop-by-hop headers: nginx does not forward them by itself",
        f"    {UPGRADE}",
        f"    {connection(connection_value)}",
    ]
    if forwarded:
        lines += ["    # the headers the trading-service needs (the contract's required_headers)"]
        lines += [f"    {forwarded_header(name)}" for name in forwarded]
    lines += [
        f"    # nginx closes a WebSocket silent this long (its default: {PROXY_READ_TIMEOUT:g} s)",
        f"    {read_timeout(idle_seconds)}",
        "}",
    ]
    return lines


def listen(args: list[str]) -> str:
    return f"listen {' '.join(args)};"
