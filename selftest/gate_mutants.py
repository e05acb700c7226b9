"""Mutants of the gate's own code, for the `gate` cases of selftest/mutants.py: loaded into a gate run with
`-p selftest.gate_mutants`, this plugin breaks the one thing WS_GATE_MUTANT names, as a regression would."""

import os

from ws_gate.nginx import binary, releases, rewrite
from ws_gate.nginx.site import same_address


def _ignores_nginx_version() -> None:
    """The dynamic cases run the machine's nginx whatever --nginx-version says."""
    releases.release_binary = lambda version, say: binary.machine_nginx()


def _drops_the_team_upstream() -> None:
    """The rewriter sends only the contract's own address to the backend; the team's host goes nowhere."""
    contract_address = "127.0.0.1:8001"

    def address(self, production: str) -> str:
        return self.backend_address if same_address(production, contract_address) else rewrite.REFUSING_ADDRESS

    rewrite._Rewriter._address = address


BREAKS = {"ignores-nginx-version": _ignores_nginx_version, "drops-the-team-upstream": _drops_the_team_upstream}
VARIABLE = "WS_GATE_MUTANT"

if os.environ.get(VARIABLE) in BREAKS:
    BREAKS[os.environ[VARIABLE]]()
