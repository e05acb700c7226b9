"""An authenticated WebSocket session held idle through an idle check's plan (ws_gate/nginx/idle_check.py), and
what became of it: whether Nginx cut it, and whether the gate's own client and stub kept the plan's timing, without
which a cut says nothing about Nginx."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import Frame, Opcode

from ws_gate.client.wsclient import NO_CLOSE_FRAME, PLAIN, DialSettings, decode, describe, dial, message_type
from ws_gate.contract import Contract, auth_message
from ws_gate.nginx.idle_check import IdlePlan

HEARTBEAT = 0.05  # seconds between two looks at the client's event loop, which a busy machine may hold up


@dataclass(frozen=True)
class Late:
    """Something of the gate's own that came later than the plan: `by` test seconds, when it was due `due`
    seconds after the handshake."""

    what: str
    due: float
    by: float

    def __str__(self) -> str:
        return f"{self.what} {self.by:.2f} s late at {self.due:.2f} s"


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
    late: list[Late] = field(default_factory=list)  # what came later than the plan's tolerance

    @property
    def unclear(self) -> bool:
        """A cut that came after something of the gate's own was late: the machine, not Nginx, may have made it."""
        return self.cut_after is not None and bool(self.late_before_the_cut)

    @property
    def late_before_the_cut(self) -> list[Late]:
        return [late for late in self.late if self.cut_after is not None and late.due < self.cut_after]

    def too_busy(self) -> str:
        """What was late, for the inconclusive verdict."""
        worst = sorted(self.late_before_the_cut, key=lambda late: -late.by)[:3]
        return (
            f"{'; '.join(map(str, worst))}, more than the {self.plan.tolerance:.2f} s the plan allows, before Nginx "
            f"closed the session after {self.cut_after:.2f} s; {self.plan.describe()}"
        )

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
    handshake, then send the contract's ping and expect its answer within `wait`; note what of the gate's own came
    late meanwhile: the client's ping, the stub's pings, the client's event loop. Never raises for what the server
    does."""
    auth, ping = auth_message(contract, token), json.dumps({"type": "ping"})
    hold = f"(nothing for {plan.hold:.2f} s = {plan.production(plan.hold):.0f} s in production)"
    outcome = IdleOutcome(url, [describe(auth), hold, describe(ping)], plan)
    pings: list[float] = []
    opened = None
    try:
        async with dial(url, settings, create_connection=_noting_pings(pings)) as ws:
            outcome.status = ws.response.status_code
            opened = time.monotonic()
            async with _loop_watched(opened, plan, outcome.late):
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
                _note(outcome.late, "the client's ping", plan.hold, time.monotonic() - opened - plan.hold, plan)
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
    if opened is not None:
        _note_stub_pings(outcome, [arrival - opened for arrival in pings])
    return outcome


def _noting_pings(arrivals: list[float]) -> type[ClientConnection]:
    """A client connection that notes when each of the service's pings arrives (the library answers them)."""

    class NotingPings(ClientConnection):
        def process_event(self, event) -> None:
            super().process_event(event)
            if isinstance(event, Frame) and event.opcode is Opcode.PING:
                arrivals.append(time.monotonic())

    return NotingPings


@asynccontextmanager
async def _loop_watched(opened: float, plan: IdlePlan, late: list[Late]) -> AsyncIterator[None]:
    """Notes each time the event loop was held up longer than the plan's tolerance, while the context lasts."""

    async def heartbeat() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(HEARTBEAT)
            held = time.monotonic() - before - HEARTBEAT
            _note(late, "the client's event loop", before + HEARTBEAT - opened, held, plan)

    watching = asyncio.create_task(heartbeat())
    try:
        yield
    finally:
        watching.cancel()
        with suppress(asyncio.CancelledError):
            await watching


def _note(late: list[Late], what: str, due: float, by: float, plan: IdlePlan) -> None:
    if by > plan.tolerance:
        late.append(Late(what, due, by))


def _note_stub_pings(outcome: IdleOutcome, arrivals: list[float]) -> None:
    """Each of the stub's pings that came more than the tolerance after its interval, and the one still awaited
    when Nginx cut the session."""
    plan = outcome.plan
    if plan.scaled_ping is None:
        return
    previous = 0.0
    for arrival in arrivals:
        _note(outcome.late, "the stub's ping", previous + plan.scaled_ping, arrival - previous - plan.scaled_ping, plan)
        previous = arrival
    if outcome.cut_after is not None:
        awaited = outcome.cut_after - previous - plan.scaled_ping
        _note(outcome.late, "the stub's ping", previous + plan.scaled_ping, awaited, plan)
