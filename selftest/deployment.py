"""A live deployment started outside the gate: the real nginx in front of a trading-service process."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ws_gate.contract import Contract, load_contract
from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.rewrite import serve
from ws_gate.nginx.runtime import installed_prefix
from ws_gate.nginx.site import read_site
from ws_gate.stacks.local_stack import running_nginx, running_service

SECRET = secrets.token_urlsafe(48)


@contextmanager
def deployment(
    workdir: Path, site_file: Path, service_argv: list[str], env: dict[str, str], contract: Contract | None = None
) -> Iterator[str]:
    """Yield the deployment's ws:// URL (deployed_service's)."""
    with deployed_service(workdir, site_file, service_argv, env, contract) as (url, _):
        yield url


@contextmanager
def deployed_service(
    workdir: Path, site_file: Path, service_argv: list[str], env: dict[str, str], contract: Contract | None = None
) -> Iterator[tuple[str, str]]:
    """Yield the deployment's ws:// URL and the trading-service's HOST:PORT. The service gets SECRET, a free
    port, the contract (default: the default contract) and a 1 s auth timeout."""
    contract = replace(contract or load_contract(), auth_timeout=1)
    service_env = {
        "JWT_SECRET": SECRET,
        "STUB_PORT": "0",
        "PORT": "0",
        "AUTH_TIMEOUT": "1",
        "STUB_CONTRACT": contract.to_json(),
        **env,
    }
    prefix = workdir / "nginx"
    prefix.mkdir()
    served = serve(read_site(site_file, installed_prefix(), None), prefix)
    with (
        running_service(service_argv, service_env, workdir / "service.log", "the trading-service") as backend,
        running_nginx(machine_nginx(), prefix, served, backend, contract.trading_address) as (proxy, _),
    ):
        yield f"ws://{proxy}", backend
