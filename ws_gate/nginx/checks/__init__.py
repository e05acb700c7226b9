"""The rules of the static check, one object each: its id (a finding's `rule`), the family it fails, the severity
of what it finds, what it looks for, and whether it decides that a location carries the WebSocket upgrade at all.
ws_gate/nginx/lint.py runs them; the SARIF rules, tests/test_site_file.py and the route map read this table."""

from collections.abc import Sequence
from dataclasses import dataclass

FAILURE = "failure"
ADVICE = "advice"
INFORMATION = "information"


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # a key of ws_gate.families.FAMILIES
    severity: str  # of its findings when they break the WebSocket; FAILURE, or ADVICE for a rule that only advises
    looks_for: str
    carries_upgrade: bool = False  # without it, a location does not carry the upgrade (the route map's test)


ENDPOINT = Rule(
    "a-location-proxies-the-endpoint",
    "endpoint",
    FAILURE,
    "a location of the server a browser reaches proxies the WebSocket path to the trading-service",
    carries_upgrade=True,
)
HTTP_1_1 = Rule("http-1-1-upstream", "proxy-upgrade", FAILURE, "HTTP/1.1 to the trading-service", carries_upgrade=True)
UPGRADE_HEADER = Rule(
    "upgrade-header", "proxy-upgrade", FAILURE, "the client's Upgrade header forwarded", carries_upgrade=True
)
CONNECTION_HEADER = Rule(
    "connection-header", "proxy-upgrade", FAILURE, "Connection: upgrade forwarded", carries_upgrade=True
)
OUTER_HEADERS = Rule(
    "outer-headers-reach-the-location",
    "proxy-upgrade",
    FAILURE,
    "no proxy_set_header of the location hides the outer levels' Upgrade and Connection",
    carries_upgrade=True,
)
PATH_KEPT = Rule(
    "path-not-rewritten",
    "proxy-upgrade",
    FAILURE,
    "the trading-service sees the path the browser dialled (no URI part, no rewrite)",
    carries_upgrade=True,
)
IDLE = Rule(
    "read-timeout-outlasts-idle",
    "proxy-upgrade",
    FAILURE,
    "a proxy_read_timeout that outlasts the contract's idle horizon, or the service's ping interval",
)
FORWARDED_PROTO_SCHEME = Rule(
    "x-forwarded-proto-carries-the-scheme",
    "proxy-upgrade",
    FAILURE,
    "X-Forwarded-Proto is the scheme the client used",
)
HOST_ALLOWED = Rule(
    "host-allowed",
    "proxy-upgrade",
    FAILURE,
    "the Host that reaches the trading-service is one of its allowed_hosts (its ALLOWED_HOSTS)",
)
NO_SLASH_REDIRECT = Rule(
    "no-trailing-slash-redirect",
    "endpoint",
    FAILURE,
    "no prefix location named the WebSocket path with a trailing slash makes nginx answer the path with a 301",
    carries_upgrade=True,
)
ADVISED_HEADER = Rule(
    "advised-header", "proxy-upgrade", ADVICE, "the headers worth forwarding that the service does not require"
)
BUFFERING = Rule("buffering", "proxy-upgrade", ADVICE, "proxy_buffering off, for streamed fallbacks")
CONNECT_TIMEOUT = Rule(
    "connect-timeout", "proxy-upgrade", ADVICE, "a proxy_connect_timeout a browser's handshake can wait out"
)
RULES = {
    rule.id: rule
    for rule in (
        ENDPOINT,
        HTTP_1_1,
        UPGRADE_HEADER,
        CONNECTION_HEADER,
        OUTER_HEADERS,
        PATH_KEPT,
        IDLE,
        FORWARDED_PROTO_SCHEME,
        HOST_ALLOWED,
        NO_SLASH_REDIRECT,
        ADVISED_HEADER,
        BUFFERING,
        CONNECT_TIMEOUT,
    )
}


def required_header(name: str) -> Rule:
    """The rule for a header the contract's service needs for its WebSocket (required_headers): Nginx sends it
    with its value."""
    return Rule(f"{name.lower()}-header", "proxy-upgrade", FAILURE, f"the {name} header forwarded")


def rules_for(required_headers: Sequence[str]) -> list[Rule]:
    """Every rule the check runs for a service that needs `required_headers`."""
    return [*RULES.values(), *(required_header(name) for name in required_headers)]


def rule_named(rule_id: str) -> Rule:
    """The rule of a finding: from the table, else a required header's."""
    return RULES.get(rule_id) or required_header(rule_id.removesuffix("-header"))
