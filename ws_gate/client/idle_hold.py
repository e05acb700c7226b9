"""An authenticated WebSocket session held idle through an idle check's plan (ws_gate/nginx/idle_check.py), and
what became of it."""

import asyncio
import json
import time
from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ws_gate.client.wsclient import NO_CLOSE_FRAME, PLAIN, DialSettings, decode, describe, dial, message_type
from ws_gate.contract import Contract, auth_message
from ws_gate.nginx.idle_check import IdlePlan


@dataclass
class IdleOutcome:
    url: str
    sent: list[str]  # what the client sent, tokens masked, and the idle hold between
    plan: IdlePlan
    status: int | None = None  # the handshake's HTTP status; None: no answer
    authenticated: bool = False
    cut_after: float | None = None  # test seconds after the handshake when Nginx closed the session
    close_code: int | None = None
    answered: bool = False  # the message sent at the end of the hold got its answer
    error: str | None = None

    @property
    def alive(self) -> bool:
        """Authenticated, and no cut before the end of the hold; a cut first seen past the horizon, when a busy
        machine held the check up, came after the session had lived through it."""
        if not self.authenticated:
            return False
        if self.cut_after is None:
            return self.answered
        return self.plan.ping_interval is None and self.cut_after >= self.plan.horizon * self.plan.factor

    def got(self) -> str:
        if self.status != 101:
            return f"no idle session: {self.error or f'HTTP {self.status} at the handshake'}"
        if not self.authenticated:
            return f"no idle session: the authentication was not answered ({self.error or 'no frame'})"
        if self.cut_after is not None:
            lived = "the session lived through the horizon: " if self.alive else ""
            how = "without a close frame (1006)" if self.close_code == NO_CLOSE_FRAME else f"with {self.close_code}"
            return (
                f"{lived}Nginx closed the idle session {how} after {self.cut_after:.2f} s = "
                f"{self.plan.production(self.cut_after):.0f} s in production; {self.plan.describe()}"
            )
        if not self.answered:
            return f"the session was open after {self.plan.hold:.2f} s but did not answer ({self.error})"
        return (
            f"the session lived {self.plan.hold:.2f} s idle = {self.plan.production(self.plan.hold):.0f} s in "
            f"production; {self.plan.describe()}"
        )


async def hold_idle(
    url: str, contract: Contract, token: str, plan: IdlePlan, wait: float, settings: DialSettings = PLAIN
) -> IdleOutcome:
    """Open `url`, authenticate with `token` as `contract` says, send nothing for `plan.hold` seconds after the
    handshake, then send the contract's ping and expect its answer within `wait`. Never raises for what the
    server does."""
    auth, ping = auth_message(contract, token), json.dumps({"type": "ping"})
    hold = f"(nothing for {plan.hold:.2f} s = {plan.production(plan.hold):.0f} s in production)"
    outcome = IdleOutcome(url, [describe(auth), hold, describe(ping)], plan)
    try:
        async with dial(url, settings) as ws:
            outcome.status = ws.response.status_code
            opened = time.monotonic()
            await ws.send(auth)
            async with asyncio.timeout(wait):
                answer = decode(await ws.recv())
            outcome.authenticated = message_type(answer) == contract.auth_success_type
            if not outcome.authenticated:
                outcome.error = f"the service answered {answer!r}"
                return outcome
            try:
                # Frames of the service's own (its pings are control frames, answered by the client library).
                async with asyncio.timeout(max(0.0, opened + plan.hold - time.monotonic())):
                    while True:
                        await ws.recv()
            except TimeoutError:
                pass
            await ws.send(ping)
            async with asyncio.timeout(wait):
                while message_type(decode(await ws.recv())) != contract.after_auth_types["ping"]:
                    pass
            outcome.answered = True
    except InvalidStatus as refused:
        outcome.status = refused.response.status_code
    except ConnectionClosed as closed:
        outcome.cut_after = round(time.monotonic() - opened, 3) if outcome.authenticated else None
        outcome.close_code = closed.rcvd.code if closed.rcvd else NO_CLOSE_FRAME
        outcome.error = f"closed with {outcome.close_code}"
    except (OSError, InvalidHandshake, TimeoutError) as failure:
        outcome.error = str(failure) or type(failure).__name__
    return outcome
