"""The gate's mutants and correct variants: one table for the pytest self-test (test_mutation_score.py)
and `make selfcheck` (selfcheck.py).

A mutant is one fault put into the stack the gate runs on: the production site file with one line of its
WebSocket location changed (`site`), the stub with one contract check disabled or its pushed frames held
back, through STUB_BREAK (`stub`), one setting of the stub or the gate changed (`setting`), or the gate's own
code broken as a regression would break it (`gate`, selftest/gate_mutants.py). Each must
fail the gate, in the test named for it. A correct variant (`variant`) is another right way to build the
stack: the gate must pass.

Faults no gate test can catch are left out rather than faked: `proxy_buffering` changes nothing on an upgraded
connection (Nginx never buffers one), so a location without it is a correct variant; and Nginx's
worker_connections lives in the main configuration the gate writes, not in the site file under test.
The HTTPS mutants change the certbot-style site (`sites/certbot.conf`), which the gate serves over wss://.
"""

import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import crossplane
import pytest

from selftest.gate_run import GateRun, run_gate
from ws_gate.contract import load_contract
from ws_gate.layout import DEFAULT_SITE
from ws_gate.nginx import patch
from ws_gate.nginx.runtime import installed_prefix
from ws_gate.nginx.site import Server, Site, find_location_chain, load_site, reached_server
from ws_gate.stacks.local_stack import running_service

CONFS = Path(__file__).parent / "confs"
SITES = Path(__file__).parent / "sites"  # site files as teams write them
VERSIONED = SITES / "versions"  # site files whose fate depends on the nginx release
PREFIX = f"--nginx-prefix={SITES / 'prefix'}"  # a copy of a production host's /etc/nginx
HTTPS_SITE = SITES / "certbot.conf"
UPGRADE_HEADERS = ("Upgrade", "Connection")
CONTRACTS = Path(__file__).parent / "contracts"
TWO_MIB_LIMIT = f"--contract={CONTRACTS / 'two-mib-limit.toml'}"
PING_EVERY_SECOND = f"--contract={CONTRACTS / 'ping-every-second.toml'}"
PING_55 = f"--contract={CONTRACTS / 'ping-every-55s.toml'}"
PING_65 = f"--contract={CONTRACTS / 'ping-every-65s.toml'}"
FORWARDED_REQUIRED = f"--contract={CONTRACTS / 'forwarded-headers-required.toml'}"
PRODUCTION_HOSTS = f"--contract={CONTRACTS / 'production-allowed-hosts.toml'}"
BACKENDS = Path(__file__).parent / "backends"
STARLETTE_SERVICE = BACKENDS / "starlette_service.py"
NODE_SERVICE = BACKENDS / "node" / "service.js"
# The Node service runs once `make node-service` (part of `make selftest`) has installed its pinned packages.
requires_node_service = pytest.mark.skipif(
    not (NODE_SERVICE.parent / "node_modules").is_dir() or shutil.which("node") is None,
    reason="the Node service's packages are not installed: make node-service (needs Node.js and npm)",
)
# Independent trading-services: how to start each, and what it is called in a report.
INDEPENDENT = {
    "starlette": ([sys.executable, str(STARLETTE_SERVICE)], "the Starlette trading-service"),
    "node": (["node", str(NODE_SERVICE)], "the Node ws trading-service"),
}
# Seconds, for a backend the self-test starts: short, so the timeout cases stay fast, and as long as the stub's,
# so that a loaded machine still sends every auth message of the cases that start together in time.
BACKEND_AUTH_TIMEOUT = "2"
SITE_ORIGIN = "http://trademe.example"  # the production site file serves plain http

UPGRADE = "tests/test_proxy_upgrade.py::test_upgrade_answers_101_with_a_valid_accept"
FORWARDED = "tests/test_proxy_upgrade.py::test_backend_receives_the_forwarded_header"
STATIC = "tests/test_site_file.py::test_websocket_location_passes_the_static_check"
FIRST_MESSAGE = "tests/test_auth_message.py::test_wrong_first_message_is_refused_with_4001"
SILENT_CLIENT = "tests/test_auth_message.py::test_silent_client_is_closed_by_the_auth_timeout"
TOKEN = "tests/test_token_claims.py::test_defective_token_is_refused_with_4003"
SNAKE_CASE = "tests/test_token_claims.py::test_snake_case_claims_follow_the_contract_policy"
TOO_BIG = "tests/test_transport.py::test_message_over_the_size_limit_is_closed_with_1009"
AT_THE_LIMIT = "tests/test_transport.py::test_message_at_the_size_limit_is_answered"
CROSS_SITE = "tests/test_handshake_limits.py::test_cross_site_origin_follows_the_origin_policy"
CROWD = "tests/test_transport.py::test_unauthenticated_crowd_is_closed_while_a_client_gets_in"
PUSHED = "tests/test_proxy_upgrade.py::test_pushed_frames_are_not_buffered"
PINGS = "tests/test_proxy_upgrade.py::test_service_pings_within_its_interval"
PLAIN_GET = "tests/test_endpoint.py::test_plain_get_is_not_upgraded"
IDLE = "tests/test_idle_timeout.py::test_idle_session_outlives_the_read_timeout"

Edit = Callable[[dict], dict]  # a change to the WebSocket location statement (crossplane's dict)
SiteEdit = Callable[[Site], None]  # a change to the parsed site, in place


def _matches(stmt: dict, name: str, first_arg: str | None) -> bool:
    return stmt["directive"] == name and first_arg in (None, stmt["args"][0])


def without(name: str, first_arg: str | None = None) -> Edit:
    """Drop directive `name` (with that first argument) from the WebSocket location."""
    return lambda location: {
        **location,
        "block": [stmt for stmt in location["block"] if not _matches(stmt, name, first_arg)],
    }


def replaced(name: str, *args: str, first_arg: str | None = None) -> Edit:
    """Give directive `name` (with that first argument) of the WebSocket location other arguments."""
    return lambda location: {
        **location,
        "block": [
            {**stmt, "args": list(args)} if _matches(stmt, name, first_arg) else stmt for stmt in location["block"]
        ],
    }


def header(name: str, value: str) -> Edit:
    """Set the proxy_set_header of `name` to `value`."""
    return replaced("proxy_set_header", name, value, first_arg=name)


def added(name: str, *args: str) -> Edit:
    """Add directive `name` at the end of the WebSocket location."""
    return lambda location: {
        **location,
        "block": [*location["block"], {"directive": name, "line": location["line"], "args": list(args)}],
    }


def answering_plain_gets(location: dict) -> dict:
    """The WebSocket location answering a request without Upgrade itself, with 200, and proxying the others."""
    answer = {"directive": "return", "line": location["line"], "args": ["200", "ok"]}
    check = {"directive": "if", "line": location["line"], "args": ["$http_upgrade", "=", ""], "block": [answer]}
    return {**location, "block": [check, *location["block"]]}


def without_forwarded_headers(location: dict) -> dict:
    """The WebSocket location with no proxy_set_header but Upgrade and Connection."""
    return {
        **location,
        "block": [
            stmt
            for stmt in location["block"]
            if not (stmt["directive"] == "proxy_set_header" and stmt["args"][0] not in UPGRADE_HEADERS)
        ],
    }


def moved(prefix: str) -> Edit:
    """Serve the WebSocket location at another prefix."""
    return lambda location: {**location, "args": [prefix]}


def _websocket_location(site: Site) -> tuple[Server, dict]:
    """The server the page origin reaches, and its location for the WebSocket path."""
    _, server = reached_server(site, None)
    return server, find_location_chain(server, load_contract().ws_path)[-1]


def in_location(edit: Edit) -> SiteEdit:
    """Apply `edit` to the WebSocket location of the server the page origin reaches."""

    def apply(site: Site) -> None:
        server, location = _websocket_location(site)
        server.stmt["block"] = [edit(stmt) if stmt is location else stmt for stmt in server.block]

    return apply


def upgrade_headers_at_server_level(site: Site) -> None:
    """The redefinition trap: Upgrade and Connection move to the server, while the location keeps its other
    proxy_set_header lines, so nginx no longer passes the server's down to it."""
    server, location = _websocket_location(site)
    moved = [s for s in location["block"] if _matches(s, "proxy_set_header", None) and s["args"][0] in UPGRADE_HEADERS]
    location["block"] = [stmt for stmt in location["block"] if stmt not in moved]
    server.stmt["block"] = [*moved, *server.block]


def websocket_location_in_the_redirect_server(site: Site) -> None:
    """The WebSocket location sits in the port-80 server, which pages served over https never reach."""
    server, location = _websocket_location(site)
    server.stmt["block"] = [stmt for stmt in server.block if stmt is not location]
    redirect = next(other for other in site.servers if other.redirects_to_https())
    redirect.stmt["block"] = [*redirect.block, location]


def mutated_site(workdir: Path, edit: SiteEdit, base: Path = DEFAULT_SITE) -> Path:
    """The site file `base` changed by `edit`, written into `workdir`."""
    site = load_site(base, installed_prefix())
    edit(site)
    path = workdir / "mutant.conf"
    path.write_text(crossplane.build(site.directives))
    return path


@contextmanager
def independent_backend(workdir: Path, name: str, secret: str, more_env: dict[str, str]) -> Iterator[str]:
    """An independent trading-service of INDEPENDENT on a free port: its http:// URL."""
    env = {"JWT_SECRET": secret, "PORT": "0", "AUTH_TIMEOUT": BACKEND_AUTH_TIMEOUT, **more_env}
    argv, what = INDEPENDENT[name]
    with running_service(argv, env, workdir / f"{name}.log", what) as address:
        yield f"http://{address}"


@dataclass(frozen=True)
class Case:
    """One stack to run the gate on. `catcher`: the gate test that must fail; None: the gate must pass."""

    id: str
    kind: str  # site, stub, setting or variant
    catcher: str | None
    edit: SiteEdit | None = None  # a mutated site file: `conf`, else the production one
    conf: Path | None = None  # another site file
    env: dict[str, str] = field(default_factory=dict)  # for the gate, and so for the stub it starts
    options: tuple[str, ...] = ()
    backend: str | None = None  # an independent service of INDEPENDENT in place of the stub
    service_env: dict[str, str] = field(default_factory=dict)  # for that service

    def run(self, workdir: Path) -> GateRun:
        # The local stack (run_gate's default): its stub takes STUB_BREAK and its settings from the gate's
        # environment.
        options = list(self.options)
        env = dict(self.env)
        if self.edit:
            options.append(f"--nginx-conf={mutated_site(workdir, self.edit, self.conf or DEFAULT_SITE)}")
        elif self.conf:
            options.append(f"--nginx-conf={self.conf}")
        with ExitStack() as cleanup:
            if self.backend:
                env["WS_E2E_JWT_SECRET"] = secrets.token_urlsafe(48)
                secret = env["WS_E2E_JWT_SECRET"]
                url = cleanup.enter_context(independent_backend(workdir, self.backend, secret, self.service_env))
                options += [f"--backend-url={url}", f"--auth-timeout={BACKEND_AUTH_TIMEOUT}"]
            return run_gate(workdir, *options, env=env)

    def verdict(self, run: GateRun) -> tuple[bool, str]:
        """Whether the gate did what this case expects, and what it did."""
        if run.exit_code not in (0, 1):
            return False, f"the gate could not run (exit {run.exit_code})"
        if self.catcher is None and run.failed:
            return False, f"false alarm: {', '.join(sorted(run.failed))}"
        if self.catcher is None:
            return run.exit_code == 0, "passed"
        if self.catcher in run.failed:
            return True, "caught"
        elsewhere = f", failed only {', '.join(sorted(run.failed))}" if run.failed else ""
        return False, f"missed{elsewhere}"


def site(name: str, edit: Edit, catcher: str, *options: str) -> Case:
    return Case(name, "site", catcher, edit=in_location(edit), options=options)


def https_site(name: str, edit: SiteEdit, catcher: str, *options: str) -> Case:
    """A mutant of the certbot-style HTTPS site, run over wss:// as its pages would."""
    return Case(name, "site", catcher, edit=edit, conf=HTTPS_SITE, options=options)


def gate(break_name: str, catcher: str, conf: Path, *options: str) -> Case:
    """The gate's own code broken (selftest/gate_mutants.py), on a site file it must judge right."""
    env = {"WS_GATE_MUTANT": break_name}
    return Case(
        f"gate-{break_name}", "gate", catcher, conf=conf, env=env, options=("-p", "selftest.gate_mutants", *options)
    )


def stub(check: str, catcher: str) -> Case:
    return Case(f"stub-{check}-check-off", "stub", catcher, env={"STUB_BREAK": check})


# Every leniency of the production trading-service at once (contract.md): each must be named in the verdict.
LENIENCIES = {
    "open-after-bad-frame": f"{FIRST_MESSAGE}[not-json]",
    "auth-timeout": SILENT_CLIENT,
    "camel-case": SNAKE_CASE,
    "aud-optional": f"{TOKEN}[missing-aud]",
    "exp-optional": f"{TOKEN}[no-exp]",
}
LENIENT = Case("production-leniencies", "stub", SILENT_CLIENT, env={"STUB_BREAK": ",".join(LENIENCIES)})


MUTANTS = [
    # Without proxy_http_version only Debian sid's nginx upgrades: run on the machine's, the upgrade fails.
    gate("ignores-nginx-version", UPGRADE, VERSIONED / "no-http-version.conf", "--nginx-version=1.30"),
    gate("drops-the-team-upstream", UPGRADE, VERSIONED / "compose-upstream.conf"),
    site("upgrade-header-dropped", without("proxy_set_header", "Upgrade"), UPGRADE),
    site("connection-header-dropped", without("proxy_set_header", "Connection"), UPGRADE),
    site("connection-empty", header("Connection", ""), UPGRADE),
    site("connection-close", header("Connection", "close"), UPGRADE),
    site("http-version-dropped", without("proxy_http_version"), UPGRADE),
    site("http-1.0", replaced("proxy_http_version", "1.0"), UPGRADE),
    site("proxy-pass-strips-the-path", replaced("proxy_pass", "http://127.0.0.1:8001/"), UPGRADE),
    site("proxy-pass-rewrites-the-path", replaced("proxy_pass", "http://127.0.0.1:8001/api/"), UPGRADE),
    site("proxy-pass-to-another-port", replaced("proxy_pass", "http://127.0.0.1:8002"), UPGRADE),
    site("location-wss-prefix", moved("/wss/"), UPGRADE),
    site("location-below-the-endpoint", moved("/ws/realtime/"), UPGRADE),
    site("accept-header-hidden", added("proxy_hide_header", "Sec-WebSocket-Accept"), UPGRADE),
    site("plain-get-answered-200", answering_plain_gets, PLAIN_GET),
    # Under a contract that requires the forwarding headers; by default they are advice (VARIANTS).
    site("host-header-dropped", without("proxy_set_header", "Host"), f"{FORWARDED}[host]", FORWARDED_REQUIRED),
    site("x-real-ip-dropped", without("proxy_set_header", "X-Real-IP"), f"{FORWARDED}[x-real-ip]", FORWARDED_REQUIRED),
    site(
        "x-forwarded-for-dropped",
        without("proxy_set_header", "X-Forwarded-For"),
        f"{FORWARDED}[x-forwarded-for]",
        FORWARDED_REQUIRED,
    ),
    site(
        "x-forwarded-proto-dropped",
        without("proxy_set_header", "X-Forwarded-Proto"),
        f"{FORWARDED}[x-forwarded-proto]",
        FORWARDED_REQUIRED,
    ),
    site(
        "x-forwarded-proto-always-https",
        header("X-Forwarded-Proto", "https"),
        f"{FORWARDED}[x-forwarded-proto]",
        FORWARDED_REQUIRED,
    ),
    # Host $host sends the page's host, which the service in production mode does not list.
    Case("host-not-in-allowed-hosts", "setting", UPGRADE, options=(PRODUCTION_HOSTS, f"--origin={SITE_ORIGIN}")),
    # `location /ws/realtime/`: nginx answers /ws/realtime with a 301 a browser's WebSocket does not follow.
    Case("trailing-slash-location", "site", UPGRADE, conf=SITES / "trailing-slash-location.conf"),
    site("read-timeout-60s", replaced("proxy_read_timeout", "60s"), IDLE),
    # Only the send timeout set: the read timeout is nginx's 60 s, and nothing else keeps an idle session.
    site("send-timeout-only", without("proxy_read_timeout"), IDLE),
    # Nginx's default 60 s read timeout, and a service that pings only every 65 s.
    Case(
        "read-60s-pings-65s", "site", IDLE, edit=in_location(replaced("proxy_read_timeout", "60s")), options=(PING_65,)
    ),
    https_site("upgrade-headers-hidden-by-the-location", upgrade_headers_at_server_level, UPGRADE),
    https_site(
        "x-forwarded-proto-http-on-tls",
        in_location(header("X-Forwarded-Proto", "http")),
        f"{FORWARDED}[x-forwarded-proto]",
        FORWARDED_REQUIRED,
    ),
    https_site("websocket-location-only-on-port-80", websocket_location_in_the_redirect_server, UPGRADE),
    stub("auth-type", f"{FIRST_MESSAGE}[authenticate-of-the-outage]"),
    stub("aud", f"{TOKEN}[wrong-aud]"),
    stub("aud-optional", f"{TOKEN}[missing-aud]"),
    stub("iss", f"{TOKEN}[wrong-iss]"),
    stub("camel-case", SNAKE_CASE),
    stub("signature", f"{TOKEN}[wrong-secret]"),
    stub("expiry", f"{TOKEN}[expired]"),
    stub("exp-optional", f"{TOKEN}[no-exp]"),
    stub("token-type", f"{TOKEN}[refresh-type]"),
    stub("auth-timeout", SILENT_CLIENT),
    stub("close-after-error", f"{FIRST_MESSAGE}[not-json]"),
    stub("open-after-bad-frame", f"{FIRST_MESSAGE}[not-json]"),
    LENIENT,
    Case("pushed-frames-held", "stub", PUSHED, env={"STUB_BREAK": "push-held"}),
    # The contract holds the service to 2 MiB; the stub takes another limit.
    Case(
        "max-message-16-mib",
        "setting",
        f"{TOO_BIG}[text]",
        env={"MAX_MESSAGE_BYTES": str(16 * 1024 * 1024)},
        options=(TWO_MIB_LIMIT,),
    ),
    Case(
        "max-message-1-mib",
        "setting",
        AT_THE_LIMIT,
        env={"MAX_MESSAGE_BYTES": str(1024 * 1024)},
        options=(TWO_MIB_LIMIT,),
    ),
    Case("origin-not-checked-under-enforce", "setting", CROSS_SITE, options=("--origin-policy=enforce",)),
    Case("worker-connections-64", "setting", CROWD, options=("--worker-connections=64",)),
    # uvicorn's default ping interval, 20 s, under a contract that promises a ping every second.
    Case(
        "service-pings-less-often-than-the-contract",
        "setting",
        PINGS,
        backend="starlette",
        options=(PING_EVERY_SECOND,),
    ),
]

DEFAULT_STACK = Case("production-site", "variant", None)
VARIANTS = [
    Case("connection-upgrade-map", "variant", None, conf=CONFS / "map-idiom.conf"),
    Case("named-upstream-with-keepalive", "variant", None, conf=CONFS / "named-upstream.conf"),
    Case("exact-match-location", "variant", None, conf=CONFS / "exact-location.conf"),
    # ASP.NET Core SignalR's map of the client's Connection header, which a browser sends as Upgrade.
    Case("signalr-connection-map", "variant", None, conf=SITES / "signalr-connection-map.conf"),
    Case("bare-location-nested-in-location-slash", "variant", None, conf=SITES / "bare-nested-location.conf"),
    Case("longer-timeouts", "variant", None, conf=CONFS / "long-timeouts.conf"),
    Case("no-proxy-buffering-line", "variant", None, edit=in_location(without("proxy_buffering"))),
    # The trading-service's WebSocket reads none of the forwarding headers: without them the gate only advises.
    Case("forwarded-headers-left-out", "variant", None, edit=in_location(without_forwarded_headers)),
    # Without a Host line Nginx sends the proxy_pass address, which the service in production mode lists.
    Case(
        "host-line-left-out-under-allowed-hosts",
        "variant",
        None,
        edit=in_location(without("proxy_set_header", "Host")),
        options=(PRODUCTION_HOSTS, f"--origin={SITE_ORIGIN}"),
    ),
    # nginx arms the send timeouts only while a write is blocked: an idle session never meets them.
    Case("read-timeout-only", "variant", None, edit=in_location(without("proxy_send_timeout"))),
    Case("send-timeout-60s", "variant", None, edit=in_location(replaced("proxy_send_timeout", "60s"))),
    # Every ping of the service re-arms Nginx's read timer: 60 s outlasts pings every 55 s.
    Case(
        "read-60s-pings-55s",
        "variant",
        None,
        edit=in_location(replaced("proxy_read_timeout", "60s")),
        options=(PING_55,),
    ),
    Case("certbot-https-site", "variant", None, conf=HTTPS_SITE),
    Case("compose-service-upstream", "variant", None, conf=VERSIONED / "compose-upstream.conf"),
    Case(
        "no-http-version-on-sid",
        "variant",
        None,
        conf=VERSIONED / "no-http-version.conf",
        options=("--nginx-version=1.30",),
    ),
    Case("snippet-from-the-nginx-prefix", "variant", None, conf=SITES / "snippet.conf", options=(PREFIX,)),
    Case("debian-proxy-params", "variant", None, conf=SITES / "proxy-params.conf"),
    Case("headers-inherited-from-the-server", "variant", None, conf=SITES / "server-level-headers.conf"),
    Case(
        "origin-checked-under-enforce",
        "variant",
        None,
        env={"STUB_ORIGINS": SITE_ORIGIN},
        options=("--origin-policy=enforce", f"--origin={SITE_ORIGIN}"),
    ),
    Case(
        "snake-case-accepted-by-the-contract",
        "variant",
        None,
        options=(f"--contract={CONFS / 'accept-snake-case.toml'}",),
    ),
    Case("size-limit-in-the-contract", "variant", None, options=(TWO_MIB_LIMIT,)),
    Case(
        "another-apps-contract",
        "variant",
        None,
        conf=SITES / "another-app.conf",
        options=(f"--contract={CONTRACTS / 'another-app.toml'}",),
    ),
]
STARLETTE = Case("starlette-service", "variant", None, backend="starlette")
NODE = Case("node-ws-service", "variant", None, backend="node")
STARLETTE_PINGING = Case(
    "starlette-service-pinging-as-the-contract-says",
    "variant",
    None,
    backend="starlette",
    options=(PING_EVERY_SECOND,),
    service_env={"PING_INTERVAL": "0.5"},
)

CASES = [*MUTANTS, DEFAULT_STACK, *VARIANTS, STARLETTE, STARLETTE_PINGING, NODE]


# The checkout the gate runs from; a gate mutant runs from a copy of it.
CHECKOUT = Path(__file__).resolve().parent.parent
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "reports", "node_modules", "__pycache__", ".ruff_cache")


@dataclass(frozen=True)
class GateMutant:
    """A fault put into the gate itself: one edit of its own source, in a copy of the checkout. The self-test
    named for it must fail when the gate runs from that copy."""

    id: str
    file: str  # relative to the checkout
    found: str
    write: str
    catcher: str

    @contextmanager
    def applied(self, workdir: Path) -> Iterator[dict[str, str]]:
        """The copy with the edit made: the environment under which `ws-gate` runs it."""
        copy = workdir / "gate"
        shutil.copytree(CHECKOUT, copy, ignore=NOT_COPIED)
        source = copy / self.file
        text = source.read_text()
        assert text.count(self.found) == 1, f"{self.id}: {self.found!r} is not once in {self.file}"
        source.write_text(text.replace(self.found, self.write))
        yield {"PYTHONPATH": str(copy)}


OUTAGE = "selftest/test_outage.py"
GATE_MUTANTS = [
    # When the handshake through Nginx fails, the service-side families skip instead of dialling the service.
    GateMutant(
        "stops-at-the-first-failing-layer",
        "fixtures/stack.py",
        "return stack.ws_url() if handshake.status == 101 else stack.service_ws_url()",
        "return stack.ws_url() if handshake.status == 101 else None",
        OUTAGE,
    ),
    # A JWT with the wrong claims ends the run as bad input (exit 2), as a value that is no JWT does.
    GateMutant(
        "wrong-claims-jwt-is-bad-input",
        "ws_gate/client/tokens.py",
        "        # The identity the valid token authenticates as",
        "        if self.judgement is not None and not self.judgement.accepted:\n"
        "            from ws_gate.errors import GateSetupError\n"
        "            raise GateSetupError(f'{GIVEN} has no numeric userId claim to authenticate as')\n"
        "        # The identity the valid token authenticates as",
        OUTAGE,
    ),
]


def _verify_without_running(site_patch, gate, contract, run=None) -> patch.Verification:
    said = "the patch makes site-loads, proxy-upgrade and endpoint pass on nginx (not run)"
    return patch.Verification(True, said, 0.0)


# Mutants of the gate's library, in process: one function of ws_gate replaced, which the self-test named for it must
# catch (selftest/test_site_patch.py::test_gate_mutant_is_caught).
LIBRARY_MUTANTS = {
    # A site-file patch offered as the fix without the run on the real Nginx that verifies it.
    "patch-offered-unverified": ((patch, "verify"), _verify_without_running),
}
