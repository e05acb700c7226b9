"""Every deploy of a site file is an `nginx -s reload`: a session authenticated before it goes on answering, for
as long as the main configuration lets the old workers keep it."""

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.overlap import Probe, starts_early
from ws_gate.client.wsclient import NO_CLOSE_FRAME, dial
from ws_gate.contract import auth_message
from ws_gate.faults import FINDING, fault
from ws_gate.timeouts import LONG, SHORT

pytestmark = pytest.mark.fault("proxy-upgrade")

RELOADED = "gracefully shutting down"  # what each old worker logs once a reload has replaced it


@dataclass
class AcrossAReload:
    """One session across a reload: what it answered before and after, and how long it lived after."""

    before: str | None = None
    after: str | None = None
    survived: float | None = None  # seconds from the reload to the session's end; None: open at the wait's end
    close_code: int | None = None
    error: str | None = None


def _reload(command: tuple[str, ...], error_log: Path) -> None:
    """Reload Nginx and wait until an old worker has handed over."""
    seen = error_log.read_text(errors="replace").count(RELOADED)
    subprocess.run(command, check=True, capture_output=True, timeout=LONG)
    deadline = time.monotonic() + LONG
    while error_log.read_text(errors="replace").count(RELOADED) <= seen:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no worker logged {RELOADED!r} within {LONG:g} s of `nginx -s reload`")
        time.sleep(0.05)


async def _answer(ws, wait: float = LONG) -> str | None:
    async with asyncio.timeout(wait):
        return json.loads(await ws.recv()).get("type")


async def _across_a_reload(probe: Probe) -> AcrossAReload:
    seen = AcrossAReload()
    shutdown = probe.main.worker_shutdown_timeout
    try:
        async with dial(probe.ws_url, probe.dial_settings) as ws:
            await ws.send(auth_message(probe.contract, probe.mint()))
            seen.before = await _answer(ws)
            await asyncio.to_thread(_reload, probe.stack.reload_command, probe.stack.error_log)
            reloaded = time.monotonic()
            await ws.send(json.dumps({"type": "ping"}))
            seen.after = await _answer(ws)
            if shutdown is not None:
                await asyncio.wait_for(ws.wait_closed(), shutdown + LONG)
                seen.survived = time.monotonic() - reloaded
                seen.close_code = ws.close_code or NO_CLOSE_FRAME
    except (OSError, TimeoutError, subprocess.SubprocessError) as error:
        seen.error = f"{type(error).__name__}: {error}"
    return seen


@pytest.fixture
def requires_reload(stack) -> None:
    if stack.reload_command is None:
        pytest.skip("not run: the gate does not run this Nginx, so it cannot reload it")


@starts_early(_across_a_reload)
def test_session_survives_a_reload(ws_url, requires_reload, early_outcome, contract, gate_options, request):
    """An authenticated session answers ping after `nginx -s reload`; with worker_shutdown_timeout, it lives that
    long after the reload, which is a finding when it is shorter than the contract's session lifetime."""
    seen = early_outcome
    main = gate_options.main
    pong = contract.after_auth_types["ping"]
    if (seen.error, seen.before, seen.after) != (None, contract.auth_success_type, pong):
        raise fault(
            "proxy-upgrade",
            f"a session authenticated before `nginx -s reload` answered {seen.after!r} to ping after it",
            "reload Nginx (never restart it) to deploy a site file, so old workers keep their sessions",
            sent=["auth, then ping after `nginx -s reload`"],
            got=f"{seen.before!r}, then {seen.after!r} ({seen.error or 'no error'})",
        )
    if main.worker_shutdown_timeout is None:
        return
    where = main.line_of("worker_shutdown_timeout")
    if abs(seen.survived - main.worker_shutdown_timeout) >= SHORT:
        raise fault(
            "proxy-upgrade",
            f"{where}: worker_shutdown_timeout {main.worker_shutdown_timeout:g}s, but the session lived "
            f"{seen.survived} s after the reload",
            f"find what else ends sessions after a reload: only worker_shutdown_timeout ({where}) should",
            got=f"close {seen.close_code} after {seen.survived} s",
        )
    if seen.survived < contract.session_lifetime:
        request.node.user_properties.append(
            (
                FINDING,
                f"{where}: worker_shutdown_timeout ends live sessions {seen.survived:.1f} s after a reload (the "
                f"contract expects sessions of {contract.session_lifetime:g} s; the client saw close "
                f"{seen.close_code}): the frontend must reconnect with backoff on close",
            )
        )
