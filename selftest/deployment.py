"""A live deployment started outside the gate: the real nginx in front of a trading-service process."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fixtures.contract import CONTRACT
from fixtures.local_stack import running_nginx, running_service
from fixtures.nginx_rewrite import serve
from fixtures.nginx_runtime import installed_prefix

SECRET = secrets.token_urlsafe(48)


@contextmanager
def deployment(workdir: Path, site_file: Path, service_argv: list[str], env: dict[str, str]) -> Iterator[str]:
    """Yield the deployment's ws:// URL. The service gets SECRET, a free port and a 1 s auth timeout."""
    service_env = {"JWT_SECRET": SECRET, "STUB_PORT": "0", "PORT": "0", "AUTH_TIMEOUT": "1", **env}
    prefix = workdir / "nginx"
    prefix.mkdir()
    served = serve(site_file, installed_prefix(), None, prefix)
    with (
        running_service(service_argv, service_env, workdir / "service.log", "the trading-service") as backend,
        running_nginx(prefix, served, backend, CONTRACT.trading_address) as (proxy, _),
    ):
        yield f"ws://{proxy}"
