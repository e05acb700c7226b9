"""Production's Nginx loads the site file: the nginx the run's dynamic cases run on (--nginx-version's release,
--nginx-bin, the machine's) accepts it under `nginx -t`. A file it refuses would not start in production; the
failure quotes Nginx's own message at the team's file:line, with the fix for that version."""

import pytest

from ws_gate.faults import Fault, Instruction, Report, SiteEdit, Where
from ws_gate.nginx import snippets
from ws_gate.nginx.runtime import SiteRefused
from ws_gate.nginx.site import Site
from ws_gate.nginx.versions import HTTP2_DIRECTIVE, SSL_DIRECTIVE

pytestmark = pytest.mark.fault("site-loads")

# The directives a release refuses whose fix is a parameter of listen.
FEATURES = {"ssl": SSL_DIRECTIVE, "http2": HTTP2_DIRECTIVE}


def test_production_nginx_loads_the_site_file(site_refused, gate_options):
    """`nginx -t` on the nginx under test accepts the site file as the gate serves it."""
    if gate_options.stack == "external":
        pytest.skip("not checked: --stack external runs no Nginx of the site file")
    if site_refused is not None:
        raise Fault(_report(site_refused, gate_options.site.site))


def _report(refused: SiteRefused, site: Site) -> Report:
    file, _, line = refused.where.rpartition(":")
    at = Where(file, int(line)) if line.isdigit() else None
    cause = f"{refused.nginx.label} refuses the site file, as production's Nginx would: {refused.message}"
    if refused.text.split(" ", 1)[0] in FEATURES:
        feature = FEATURES[refused.text.split(" ", 1)[0]]
        cause += f" ({feature.source}); drop `{refused.text};` at {refused.where}"
    got = f"`{refused.text};`" if refused.text else ""
    return Report("site-loads", cause, _fix(refused, site, at), ("nginx -t",), got, at)


def _fix(refused: SiteRefused, site: Site, at: Where | None) -> SiteEdit | Instruction:
    """`ssl on;` (removed by a newer nginx) becomes the `ssl` parameter of the server's listens; `http2 on;` (unknown
    to an older one) the `http2` parameter of its TLS listens. Either way the refused line goes."""
    directive = refused.text.split(" ", 1)[0]
    server = next((s for s in site.servers if at and any(_at(stmt, at) for stmt in s.block)), None)
    listens = [listen.stmt for listen in server.listens if listen.stmt] if server else []
    if not (directive in FEATURES and listens and at):
        return Instruction(f"change {refused.where or 'the site file'} so that {refused.nginx.label} loads it")
    first = next((stmt for stmt in listens if directive == "ssl" or "ssl" in stmt["args"]), listens[0])
    args = [*first["args"], "ssl", *(["http2"] if directive == "http2" else [])]
    return SiteEdit(
        Where(at.file, first["line"]), (snippets.listen(list(dict.fromkeys(args))),), snippets.listen(first["args"])
    )


def _at(stmt: dict, at: Where) -> bool:
    return stmt["line"] == at.line and (stmt["file"] == at.file or stmt["file"].endswith("/" + at.file))
