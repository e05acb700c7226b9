"""The gate's options as data, one table: fixtures/options.py fills pytest's parser from it and the `ws-gate`
command its own (ws_gate/cli.py), so that an option is declared once. No pytest here."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ws_gate.nginx.runtime import DEFAULT_WORKER_CONNECTIONS
from ws_gate.reports.verdict import NOT_CHECKED
from ws_gate.settings import CROSS_SITE_ORIGIN, ORIGIN_POLICIES, STUB_AUTH_TIMEOUT
from ws_gate.stacks import STACKS

# The groups of the table, as the gate's own command line will show them.
GROUPS = ("what to test", "the contract", "the frontend", "the token", "output and reports")


@dataclass(frozen=True)
class Option:
    """One option of the gate, as data: pytest's parser is filled from OPTIONS, and any other parser can be."""

    name: str  # --stack
    group: str  # one of GROUPS
    help: str
    default: object = None
    type: Callable | None = None
    choices: tuple[str, ...] | None = None
    env: str | None = None  # the environment variable that gives the value when the command line does not

    @property
    def dest(self) -> str:
        return self.name.removeprefix("--").replace("-", "_")

    def parser_arguments(self) -> dict:
        """The keyword arguments of pytest's addoption, as of argparse's add_argument."""
        help = f"{self.help} (env {self.env})" if self.env else self.help
        given = {"default": self.default, "type": self.type, "choices": self.choices, "help": help}
        return {name: value for name, value in given.items() if value is not None or name == "default"}


OPTIONS = (
    Option(
        "--stack",
        "what to test",
        "where Nginx and the trading-service run (default auto: docker when an engine answers, else local)",
        default="auto",
        choices=("auto", *STACKS),
    ),
    Option(
        "--nginx-conf",
        "what to test",
        "the Nginx site file under test (default: docker/nginx/trademe.conf; with --stack external, "
        "only checked statically when given)",
        type=Path,
    ),
    Option(
        "--backend-url",
        "what to test",
        "http://HOST:PORT of an already running trading-service to put behind Nginx instead of the stub",
    ),
    Option(
        "--jwt-secret",
        "the token",
        "the JWT secret shared with the trading-service (default: random per run, none with --stack external)",
        env="WS_E2E_JWT_SECRET",
    ),
    Option(
        "--token",
        "the token",
        "a real access token, for a live target whose secret the gate does not have",
        env="WS_E2E_TOKEN",
    ),
    Option(
        "--nginx-prefix",
        "what to test",
        "a copy of the production host's /etc/nginx, where the site file's relative includes resolve "
        "(default: the installed Nginx's)",
        type=Path,
    ),
    Option(
        "--nginx-version",
        "what to test",
        "the nginx release the cases run on: 1.22, 1.26, 1.30 (Debian's), a full version, or several for a matrix "
        "(default: the machine's, or the release that loads the site file)",
    ),
    Option("--nginx-bin", "what to test", "an nginx executable to run the cases on"),
    Option("--contract", "the contract", "a TOML file overriding ws_gate/contract.toml", type=Path),
    Option(
        "--trading-address",
        "the contract",
        "the trading-service address the site file proxies to (default: the contract's, 127.0.0.1:8001)",
    ),
    Option(
        "--load",
        "what to test",
        "the load probe: N concurrent sessions through Nginx, each authenticating and pinging (default 0: off)",
        default=0,
        type=int,
    ),
    Option(
        "--worker-connections",
        "what to test",
        f"worker_connections of the gate's own Nginx (default: --nginx-main's, else {DEFAULT_WORKER_CONNECTIONS}; "
        "each WebSocket takes two)",
        type=int,
    ),
    Option(
        "--nginx-main",
        "what to test",
        "the team's main nginx.conf, whose worker_shutdown_timeout, worker_connections and "
        "worker_rlimit_nofile the gate's Nginx takes",
        type=Path,
    ),
    Option(
        "--auth-timeout",
        "the contract",
        f"the service's auth timeout in seconds (stub: {STUB_AUTH_TIMEOUT:g}; other backends: the contract's)",
        type=float,
    ),
    # The stacks' own options, which resolve() hands them in GateOptions.
    Option(
        "--backend-image",
        "what to test",
        "the team's trading-service image to run behind Nginx instead of the stub (--stack docker)",
    ),
    Option(
        "--backend-secret-env",
        "what to test",
        "the environment variable through which that image takes the JWT secret (default: JWT_SECRET)",
        default="JWT_SECRET",
    ),
    Option(
        "--backend-port",
        "what to test",
        "--backend-image's port (default 8001); external: the service's port on the target's host",
        type=int,
    ),
    Option("--target", "what to test", "ws://HOST[:PORT] or wss://HOST[:PORT] of the deployment under test"),
    Option("--ca-file", "what to test", "a CA bundle to verify a wss target with", type=Path),
    # Browsers always send Origin: with --origin, every client of the gate sends it (Stack.dial_settings).
    Option("--origin", "what to test", "the Origin header every client of the gate sends, as a page's would"),
    Option(
        "--origin-policy",
        "what to test",
        f"a handshake from Origin {CROSS_SITE_ORIGIN}: enforce expects 403; report (default) takes 403 "
        "or reports an upgrade",
        default="report",
        choices=tuple(ORIGIN_POLICIES),
    ),
    Option(
        "--frontend-dist",
        "the frontend",
        "a built frontend (the dist/ folder of `npm run build`) to check for the WebSocket URL and auth message",
        type=Path,
    ),
    Option(
        "--reports",
        "output and reports",
        "the folder of the reports: verdict.json, junit.xml, summary.md, SARIF, report.html, site.patch",
        default=Path("reports"),
        type=Path,
    ),
    Option(
        "--summary",
        "output and reports",
        "where to write the Markdown verdict (default: summary.md in the --reports folder)",
        type=Path,
    ),
    Option(
        "--root",
        "output and reports",
        "the repository root that the reports' paths are relative to (default: the working folder; "
        "under GitHub Actions, its workspace)",
        type=Path,
    ),
    Option(
        "--console",
        "output and reports",
        "what the console shows: the gate's verdict (verdict: ws-gate's default) or pytest's own report "
        "(pytest: pytest's default, for debugging the gate itself)",
        default="pytest",
        choices=("verdict", "pytest"),
    ),
    Option(
        "--families",
        "output and reports",
        "FAMILY,...: run only these families' cases",
        default="",
    ),
    Option(
        "--require",
        "output and reports",
        f"FAMILY,...: fail the run when one of these families ends '{NOT_CHECKED}' (as --families, or all)",
        default="",
    ),
)
