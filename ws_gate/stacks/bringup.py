"""The one bring-up of the gate's Nginx, whichever stack runs it (the local and idle stacks as a child process, the
Docker stack in a container), and the one environment of the gate's stub."""

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

from ws_gate.nginx.binary import NginxBinary
from ws_gate.nginx.rewrite import RewrittenSite, ServedSite, team_line
from ws_gate.nginx.runtime import MainSettings, SiteRefused, check_config, raise_on_alerts, write_main_conf
from ws_gate.settings import GateOptions

# What the self-tests set to break the stub on purpose, passed on to it wherever it runs.
STUB_BREAKS = ("STUB_BREAK", "MAX_MESSAGE_BYTES")

Running = TypeVar("Running")


@contextmanager
def nginx_up(
    nginx: NginxBinary | None,
    prefix: Path,
    served: ServedSite,
    rewritten: RewrittenSite,
    launch: Callable[[list[str]], AbstractContextManager[Running]],
    *,
    worker_connections: int,
    main: MainSettings,
    say: Callable[[str], None],
) -> Iterator[Running]:
    """Nginx in `prefix` serving `rewritten`: nginx.conf written around it, `nginx -t` run through `nginx`, then
    started by `launch(ARGS)` (ARGS: `-p PREFIX -c CONF`), which returns once its ports answer; what the rewrite
    changed is said once it serves. At the end its error log must hold no alert."""
    conf = write_main_conf(prefix, rewritten.text, worker_connections, main)
    try:
        check_config(nginx, conf, prefix)
    except SiteRefused as refused:  # said at the team's own line, not at the rewritten copy's
        stmt = rewritten.statement_at(prefix / "site.conf", refused.line)
        raise refused.placed(*team_line(stmt)) from None
    with launch(["-p", str(prefix), "-c", str(conf)]) as running:
        for change in [*rewritten.changes, served.origin.why]:
            if change:
                say(change)
        yield running
    raise_on_alerts(prefix)


def stub_environment(options: GateOptions, secret: str, **contract_changes) -> dict[str, str]:
    """The stub's environment: the JWT secret it checks tokens with, the contract it serves (with
    `contract_changes`, the idle check's scaled ping interval) and the self-tests' breaks."""
    env = {"JWT_SECRET": secret, "STUB_CONTRACT": options.stub_contract(**contract_changes)}
    return env | {name: os.environ[name] for name in STUB_BREAKS if name in os.environ}
