"""What Nginx computes for the request a browser sends on a WebSocket handshake: the value of a `map`
variable, and the redirect a trailing-slash location answers, as the real binary does (nginx's
ngx_http_map_module, ngx_http_map_find and ngx_http_core_find_static_location)."""

from collections.abc import Mapping
from dataclasses import dataclass

from ws_gate.nginx.site import VARIABLE, location_match, regex_match

# The handlers that set a prefix location's auto_redirect (nginx: `clcf->auto_redirect = 1` when the location's
# name ends with a slash).
AUTO_REDIRECT = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass", "grpc_pass")


@dataclass(frozen=True)
class BrowserRequest:
    """A browser's WebSocket handshake from a page at scheme://host (host as the URL spells it, port included
    when not the default)."""

    host: str
    scheme: str = "https"
    origin: str | None = None
    path: str = "/ws/realtime"

    def headers(self) -> dict[str, str]:
        """Its headers that nginx variables read, by lowercase name."""
        sent = {"host": self.host, "connection": "Upgrade", "upgrade": "websocket", "sec-websocket-version": "13"}
        return sent | ({"origin": self.origin} if self.origin is not None else {})

    def variable(self, name: str) -> str | None:
        """The value of nginx's $name for this request; None for a variable this module does not know."""
        if name.startswith("http_"):
            return self.headers().get(name.removeprefix("http_").replace("_", "-"), "")
        # $host: the Host header without its port (an IPv6 literal keeps its brackets), in lower case.
        host = self.host if self.host.endswith("]") else self.host.rsplit(":", 1)[0]
        known = {
            "host": host.lower(),
            "scheme": self.scheme,
            "uri": self.path,
            "request_uri": self.path,
        }
        return known.get(name)


def maps_of(directives: list[dict]) -> dict[str, dict]:
    """The http-level map blocks of a parsed configuration, by the variable each defines (without `$`)."""
    return {
        stmt["args"][1].removeprefix("$"): stmt
        for stmt in directives
        if stmt["directive"] == "map" and len(stmt["args"]) == 2
    }


def value_of(name: str, request: BrowserRequest, maps: Mapping[str, dict]) -> str | None:
    """$name for `request`: a map's result when a map defines it, else the request's own variable; None when
    it cannot be known without running nginx."""
    if name in maps:
        return evaluate_map(maps[name], request, maps)
    return request.variable(name)


def evaluate_map(stmt: dict, request: BrowserRequest, maps: Mapping[str, dict]) -> str | None:
    """The value nginx gives the map's variable for `request`: the source value (text and variables) looked up
    case-insensitively among the exact keys (and, with `hostnames`, the wildcard ones), then tried against the
    regexes in the order written (`~` case-sensitive, `~*` not; none for an empty source), else `default`
    (empty without one). The value's variables are replaced by their values. None: unknown."""
    source = interpolate(stmt["args"][0], request, maps)
    if source is None:
        return None
    # `hostnames` and `volatile` alone on their line are flags, not keys.
    flags = {entry["directive"] for entry in stmt["block"] if not entry["args"]}
    entries = [entry for entry in stmt["block"] if entry["args"] and entry["directive"] != "include"]
    hostnames = "hostnames" in flags
    if hostnames and source.endswith("."):
        source = source[:-1]
    default = next((entry for entry in entries if entry["directive"] == "default"), None)
    exact = {}
    for entry in entries:
        key = entry["directive"]
        if key != "default" and not key.startswith("~"):
            exact.setdefault(key.removeprefix("\\").lower(), entry)
    chosen = exact.get(source.lower()) or (_wildcard_match(exact, source.lower()) if hostnames else None)
    if chosen is None and source:
        chosen = next((entry for entry in entries if _map_regex_matches(entry, source)), None)
    chosen = chosen or default
    if chosen is None:
        return ""
    return interpolate(chosen["args"][0], request, maps)


def _map_regex_matches(entry: dict, source: str) -> bool:
    key = entry["directive"]
    if not key.startswith("~"):
        return False
    caseless = key.startswith("~*")
    return regex_match(key[2:] if caseless else key[1:], source, caseless, entry) is not None


def _wildcard_match(exact: Mapping[str, dict], host: str) -> dict | None:
    """A hostnames map's wildcard keys: `*.example.com` and `.example.com` (the longest first, `.example.com`
    also matching example.com itself), then `www.example.*`."""
    if f".{host}" in exact:
        return exact[f".{host}"]
    labels = host.split(".")
    for start in range(1, len(labels)):
        suffix = ".".join(labels[start:])
        entry = exact.get(f"*.{suffix}") or exact.get(f".{suffix}")
        if entry:
            return entry
    for end in range(len(labels) - 1, 0, -1):
        entry = exact.get(".".join(labels[:end]) + ".*")
        if entry:
            return entry
    return None


def interpolate(text: str, request: BrowserRequest, maps: Mapping[str, dict]) -> str | None:
    """`text` with each $name or ${name} replaced by its value; None when one is unknown."""
    parts, end = [], 0
    for variable in VARIABLE.finditer(text):
        value = value_of(variable.group(1) or variable.group(2), request, maps)
        if value is None:
            return None
        parts += [text[end : variable.start()], value]
        end = variable.end()
    return "".join([*parts, text[end:]])


@dataclass(frozen=True)
class Redirect:
    """nginx's answer to a path that names a trailing-slash location without its slash."""

    status: int
    location: str  # the Location's path: the location's name (with `?args` when the request had some)
    stmt: dict  # the location

    @property
    def where(self) -> str:
        return f"{self.stmt.get('file', '')}:{self.stmt['line']}".lstrip(":")


def trailing_slash_redirect(block: list[dict], target: str) -> Redirect | None:
    """The 301 nginx answers `target` (a path, with its query) with inside the server (or location) `block`: at
    some level a prefix location named the path + "/" passes to a backend (proxy_pass and its kin) and no location
    there is named the path itself (`location = /x` or `location /x`). A regex location matching the path does not
    stop it: nginx redirects before it tries regexes."""
    path, _, query = target.partition("?")
    found = _slashed_location(block, path)
    return Redirect(301, path + "/" + (f"?{query}" if query else ""), found) if found else None


def _slashed_location(block: list[dict], path: str) -> dict | None:
    locations = [stmt for stmt in block if stmt["directive"] == "location"]
    named = {location_match(stmt): stmt for stmt in locations}
    if ("=", path) in named:
        return None
    if ("", path) not in named and ("^~", path) not in named:
        for modifier in ("", "^~"):
            slashed = named.get((modifier, path + "/"))
            if slashed and any(stmt["directive"] in AUTO_REDIRECT for stmt in slashed["block"]):
                return slashed
    prefixes = [stmt for (modifier, name), stmt in named.items() if modifier in ("", "^~") and path.startswith(name)]
    if not prefixes:
        return None
    longest = max(prefixes, key=lambda stmt: len(location_match(stmt)[1]))
    return _slashed_location(longest["block"], path)
