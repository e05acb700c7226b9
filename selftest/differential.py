"""The static check against the real Nginx, on one site file: what the static check says of the WebSocket location
(does the request reach the service, with the upgrade headers, over HTTP/1.1, on its path; does an idle session
live) and what the real Nginx, time-scaled, shows of the same request, aspect by aspect. Nginx's behaviour is the
ground truth: a disagreement is a bug in the static check or in the gate's reading of the file."""

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from ws_gate.client.idle_hold import hold_idle
from ws_gate.client.tokens import TokenFactory
from ws_gate.client.wsclient import exchange
from ws_gate.contract import load_contract
from ws_gate.nginx import releases
from ws_gate.nginx.binary import NginxBinary
from ws_gate.nginx.idle_check import plan_for
from ws_gate.nginx.lint import ENDPOINT, FAILURE, IDLE_RULE, SiteCheck, lint_site
from ws_gate.nginx.site import find_location_chain
from ws_gate.settings import GateOptions
from ws_gate.stacks.local_stack import scaled
from ws_gate.timeouts import LONG

# Each aspect of the WebSocket location, with the static rules that fail it.
REACHES = "reaches-the-service"
ASPECTS = {
    REACHES: {ENDPOINT},
    "upgrade-headers": {"upgrade-header", "connection-header", "outer-headers-reach-the-location"},
    "http-1-1": {"http-1-1-upstream"},
    "path-kept": {"path-not-rewritten"},
    "idle-session-lives": {IDLE_RULE},
}
# Access control that needs what only production has (an auth service, users' passwords): compared statically only.
ACCESS_CONTROL = ("auth_request", "auth_basic")


@dataclass
class Comparison:
    site: Path
    static: dict[str, bool]  # aspect -> the static check passes it
    nginx: dict[str, bool] = field(default_factory=dict)  # aspect -> the real Nginx shows it; absent: not observable
    notes: list[str] = field(default_factory=list)

    def disagreements(self) -> list[str]:
        """Where the two differ; past a location the static check finds unreached, nothing is compared."""
        compared = self.nginx if self.static["reaches-the-service"] else {REACHES: self.nginx.get(REACHES)}
        return [
            f"{aspect}: static check says {'ok' if self.static[aspect] else 'broken'}, "
            f"nginx shows {'ok' if shown else 'broken'}"
            for aspect, shown in compared.items()
            if shown is not None and shown != self.static[aspect]
        ]


def compare(site_file: Path, contract_file: Path, prefix: Path, nginx: NginxBinary | None = None) -> Comparison:
    """Both verdicts on `site_file`, on `nginx` (as --nginx-version runs it), else as the gate runs it without:
    the machine's nginx, or the nearest release that loads the file; raises GateSetupError where the gate could not
    run it (its exit 2)."""
    contract = load_contract(contract_file)
    options = GateOptions.local_stub(site_file, contract, prefix)
    if nginx is None and options.nginx:
        nginx = releases.loading_binary(options.site.site.directives, options.nginx, lambda line: None)
    if nginx is not None:
        options = replace(options, nginx=nginx, nginx_version=nginx.version)
    site, server = options.site.site, options.site.server
    check = SiteCheck.of(options.site, contract, contract.trading_address, options.nginx_version)
    findings = lint_site(replace(check, rules=replace(check.rules, required_headers=())))
    failed = {finding.rule for finding in findings if finding.severity == FAILURE}
    comparison = Comparison(site_file, {aspect: not (rules & failed) for aspect, rules in ASPECTS.items()})
    chain = find_location_chain(server, contract.ws_path) or []
    levels = [server.block, *(location["block"] for location in chain)]
    asks = next((s for level in levels for s in level if s["directive"] in ACCESS_CONTROL), None)
    if asks and asks["args"] != ["off"]:
        comparison.notes.append(f"{asks['file']}:{asks['line']}: {asks['directive']} asks for credentials first")
        return comparison  # which exist only in production: Nginx answers 401 or 500 on a test machine
    plan = plan_for(site, server, contract)
    with scaled(options, plan, options.jwt_secret) as stack:
        mint = TokenFactory(options.jwt_secret, contract)
        settings = stack.dial_settings(origin=None)
        handshake = asyncio.run(exchange(stack.ws_url(contract.ws_path), wait=0, settings=settings))
        records = stack.handshakes(handshake.probe)
        if not records:
            comparison.nginx["reaches-the-service"] = False
            comparison.notes.append(f"the service saw no request; the client got {handshake.got()}")
            return comparison
        seen = records[-1]
        headers = {name.lower(): value for name, value in seen["headers"]}
        comparison.nginx = {
            "reaches-the-service": True,
            "upgrade-headers": headers.get("upgrade", "").lower() == "websocket"
            and "upgrade" in headers.get("connection", "").lower(),
            "http-1-1": seen["protocol"] == "HTTP/1.1",
            "path-kept": (seen["path"] or "").split("?")[0] == contract.ws_path,
        }
        if handshake.status != 101:
            comparison.notes.append(f"no WebSocket through Nginx ({handshake.got()}): idle sessions not observable")
        elif not plan.resolvable:
            comparison.notes.append(f"proxy_read_timeout {plan.read_timeout:g} s is too close to call, time-scaled")
        else:
            idle = asyncio.run(hold_idle(stack.ws_url(), contract, mint(), plan, LONG, settings))
            comparison.nginx["idle-session-lives"] = idle.alive
            comparison.notes.append(idle.got())
    return comparison
