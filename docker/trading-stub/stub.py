"""Stub trading-service: the strict WebSocket contract of the connectivity gate (shared/contract.md).

Run it with `python stub.py`. Once bound it prints one line on stdout, `listening on HOST:PORT`
(the real port, which matters with STUB_PORT=0); everything else is logged on stderr.
SIGTERM or SIGINT stops it with exit code 0. A bad setting exits with code 2 and one line on stderr.

Settings, from the environment:
  STUB_HOST          address to bind (default 127.0.0.1)
  STUB_PORT          port to bind (default 8001; 0 picks a free one)
  JWT_SECRET         HS256 secret shared with the user-service, at least 32 characters (required)
  JWT_AUDIENCE       the `aud` a token must carry (default trademe-app)
  JWT_ISSUER         the `iss` a token must carry (default trademe-user-service)
  WS_PATH            the WebSocket endpoint (default /ws/realtime)
  AUTH_TIMEOUT       seconds a client has to send its auth message (default 10)
  MAX_MESSAGE_BYTES  largest message accepted; a larger one is closed with 1009 (default 2097152)
  STUB_ORIGINS       comma-separated allowed Origin values; a handshake without one of them gets
                     403. Unset or empty: no Origin check
  STUB_BREAK         comma-separated checks to disable, for the gate's mutation self-check:
                     auth-type, aud, iss, camel-case, signature, expiry, token-type, auth-timeout,
                     close-after-error, push-held (see BREAKS)

HTTP beside the WebSocket:
  GET /health                       200 `ok`
  GET /_stub/handshakes[?probe=X]   JSON list of the last 500 handshakes, oldest first (only those
                                    whose X-Gate-Probe header is X), each
                                    {"probe", "path", "protocol", "headers": [[name, value], ...],
                                     "peer", "accepted", "status", "error"}
  any other path                    404 `unknown path`

After `auth_success` the stub answers ping, subscribe, unsubscribe and get_stats
({"connections": authenticated connections now, "messages": messages received on this one,
auth included}), plus `{"type": "push", "count": N, "interval": SECONDS}`, which sends N frames
`{"type": "tick", "seq": 0..N-1, "sent_at": <time.time()>}` one every SECONDS.
"""

import asyncio
import collections
import contextlib
import json
import logging
import os
import re
import reprlib
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import jwt
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

logger = logging.getLogger("stub")

BREAKS = {
    "auth-type": "accept any `type` in the auth message",
    "aud": "skip the audience check",
    "iss": "skip the issuer check",
    "camel-case": "accept user_id / membership_level in place of userId / membershipLevel",
    "signature": "do not verify the signature",
    "expiry": "do not require or verify exp",
    "token-type": "accept a token whose type is not access",
    "auth-timeout": "wait for the auth message forever",
    "close-after-error": "send the error frame but do not close",
    "push-held": "hold pushed frames back and send them together, as a buffering proxy would",
}
BAD_MESSAGE, BAD_TOKEN = 4001, 4003
CLOSE_REASONS = {BAD_MESSAGE: "authentication failed", BAD_TOKEN: "invalid token"}
MIN_SECRET_CHARS = 32
MAX_TOKEN_CHARS = 2048
MAX_PUSH_COUNT, MAX_PUSH_INTERVAL = 1000, 5
KEPT_HANDSHAKES = 500
PROBE_HEADER = "X-Gate-Probe"
# websockets' debug message for each request it cannot parse: what went wrong, and the status it answers
# with (None: it hangs up without an answer).
UNPARSED = {
    "! no valid HTTP request": ("invalid HTTP request", None),
    "! request line too long": ("request line too long", HTTPStatus.REQUEST_URI_TOO_LONG),
    "! header fields too large": ("header fields too large", HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE),
}

# Each claim PyJWT must find, and the STUB_BREAK name that waives it.
REQUIRED_CLAIMS = {"iat": None, "aud": "aud", "iss": "iss", "exp": "expiry"}

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40
describe = _short.repr


class ConfigError(Exception):
    pass


class AuthError(Exception):
    """The first message does not authenticate: send `message` in an error frame, then close with `code`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    secret: str = field(repr=False)
    audience: str
    issuer: str
    ws_path: str
    auth_timeout: float
    max_message_bytes: int
    origins: frozenset[str]
    breaks: frozenset[str]


@dataclass(frozen=True)
class Identity:
    user_id: int
    membership: str


def _number(env: Mapping[str, str], name: str, default: str, kind: type[int] | type[float], low: float) -> int | float:
    raw = env.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value >= low:
        raise ConfigError(f"{name} must be at least {low}, got {raw!r}")
    return value


def _names(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def load_settings(env: Mapping[str, str]) -> Settings:
    secret = env.get("JWT_SECRET", "")
    if not secret:
        raise ConfigError("JWT_SECRET is not set")
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"JWT_SECRET is shorter than {MIN_SECRET_CHARS} characters")
    breaks = _names(env.get("STUB_BREAK", ""))
    unknown = sorted(breaks - BREAKS.keys())
    if unknown:
        raise ConfigError(f"STUB_BREAK: unknown {', '.join(unknown)}; known: {', '.join(BREAKS)}")
    port = _number(env, "STUB_PORT", "8001", int, 0)
    if port > 65535:
        raise ConfigError(f"STUB_PORT must be at most 65535, got {port}")
    return Settings(
        host=env.get("STUB_HOST", "127.0.0.1"),
        port=port,
        secret=secret,
        audience=env.get("JWT_AUDIENCE", "trademe-app"),
        issuer=env.get("JWT_ISSUER", "trademe-user-service"),
        ws_path=env.get("WS_PATH", "/ws/realtime"),
        auth_timeout=_number(env, "AUTH_TIMEOUT", "10", float, 0),
        max_message_bytes=_number(env, "MAX_MESSAGE_BYTES", "2097152", int, 1),
        origins=_names(env.get("STUB_ORIGINS", "")),
        breaks=breaks,
    )


def parse_object(message: str) -> dict | None:
    """The JSON object in `message`, or None when it is not JSON or not an object."""
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # deeply nested arrays exhaust the recursion limit
        return None
    return data if isinstance(data, dict) else None


def error(message: str) -> dict:
    return {"type": "error", "message": message}


async def send(ws: ServerConnection, frame: dict) -> None:
    await ws.send(json.dumps(frame))


def peer(address: tuple | None) -> str | None:
    return f"{address[0]}:{address[1]}" if address else None


def first_header(request: Request, name: str) -> str | None:
    values = request.headers.get_all(name)
    return values[0] if values else None


def handshake_record(*, protocol, peer_address, status, error, probe=None, path=None, headers=()) -> dict:
    """One entry of /_stub/handshakes."""
    return {
        "probe": probe,
        "path": path,
        "protocol": protocol,
        "headers": list(headers),
        "peer": peer(peer_address),
        "accepted": status == HTTPStatus.SWITCHING_PROTOCOLS,
        "status": status,
        "error": error,
    }


class UnparsedRequests(logging.Filter):
    """Records the handshakes websockets cannot parse, which never reach process_request.

    websockets reports them only in its debug log, before it answers (with 414 or 431) or hangs up:
    this filter sits on its logger at DEBUG, records those, and lets only warnings and errors through.
    """

    def __init__(self, handshakes: collections.deque) -> None:
        super().__init__()
        self.handshakes = handshakes

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        # A bare TCP connect (a readiness probe) ends in EOFError: it is not a handshake.
        if record.msg in UNPARSED and failure is not None and not isinstance(failure, EOFError):
            problem, status = UNPARSED[record.msg]
            text = f"{problem}: {failure}"
            versions = re.findall(r"HTTP/\d(?:\.\d)?", str(failure))  # the request line comes last
            connection = getattr(record, "websocket", None)
            self.handshakes.append(
                handshake_record(
                    protocol=versions[-1] if versions else None,
                    peer_address=connection.remote_address if connection else None,
                    status=status,
                    error=text,
                )
            )
            logger.info("unparsable handshake from %s: %r", self.handshakes[-1]["peer"], text)
        return record.levelno >= logging.WARNING


class Stub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.breaks = settings.breaks
        self.handshakes: collections.deque[dict] = collections.deque(maxlen=KEPT_HANDSHAKES)
        self.authenticated = 0

    # The opening handshake.

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/health":
            return connection.respond(HTTPStatus.OK, "ok")
        if path == "/_stub/handshakes":
            return self.handshakes_response(connection, request)
        if path != self.settings.ws_path:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown path")
        origins = request.headers.get_all("Origin")
        if self.settings.origins and (len(origins) != 1 or origins[0] not in self.settings.origins):
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed")
        return None

    def process_response(self, connection: ServerConnection, request: Request, response: Response) -> None:
        path = urlsplit(request.path).path
        if path == "/health" or path.startswith("/_stub/"):
            return
        failure = connection.protocol.handshake_exc
        status = response.status_code
        self.handshakes.append(
            handshake_record(
                probe=first_header(request, PROBE_HEADER),
                path=request.path,
                protocol=request.protocol,
                headers=list(request.headers.raw_items()),
                peer_address=connection.remote_address,
                status=status,
                error=str(failure) if failure else None,
            )
        )
        if status != HTTPStatus.SWITCHING_PROTOCOLS:
            reason = f" ({failure})" if failure else ""
            logger.info("%s %s: handshake refused with %d%s", request.path, self.handshakes[-1]["peer"], status, reason)

    def handshakes_response(self, connection: ServerConnection, request: Request) -> Response:
        query = parse_qs(urlsplit(request.path).query)
        records = [record for record in self.handshakes if "probe" not in query or record["probe"] in query["probe"]]
        response = connection.respond(HTTPStatus.OK, json.dumps(records))
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    # The WebSocket connection.

    async def handle(self, ws: ServerConnection) -> None:
        """Authenticate, then answer until the client leaves; log one line about how it went."""
        outcome = "closed before authenticating"
        with contextlib.suppress(ConnectionClosed):
            try:
                identity = await self.authenticate(ws)
            except AuthError as refusal:
                outcome = f"refused: {refusal.message}"
                await self.refuse(ws, refusal)
            else:
                outcome = f"user {identity.user_id} ({identity.membership!r}) authenticated"
                await self.session(ws, identity)
        await ws.wait_closed()
        logger.info("%s %s: %s; %s", ws.request.path, peer(ws.remote_address), outcome, ws.protocol.close_exc)

    async def authenticate(self, ws: ServerConnection) -> Identity:
        timeout = None if "auth-timeout" in self.breaks else self.settings.auth_timeout
        try:
            async with asyncio.timeout(timeout):
                message = await ws.recv()
        except TimeoutError:
            raise AuthError(BAD_MESSAGE, "authentication timeout") from None
        return self.verify_token(self.read_auth_message(message))

    async def refuse(self, ws: ServerConnection, refusal: AuthError) -> None:
        await send(ws, error(refusal.message))
        if "close-after-error" in self.breaks:
            await ws.wait_closed()
        else:
            await ws.close(refusal.code, CLOSE_REASONS[refusal.code])

    def read_auth_message(self, message: str | bytes) -> str:
        """The token of the auth message."""
        if isinstance(message, bytes):
            raise AuthError(BAD_MESSAGE, "the auth message must be a text frame, got a binary one")
        data = parse_object(message)
        if data is None:
            raise AuthError(BAD_MESSAGE, "the auth message must be a JSON object")
        if data.get("type") != "auth" and "auth-type" not in self.breaks:
            got = describe(data["type"]) if "type" in data else "no type"
            raise AuthError(BAD_MESSAGE, f"expected type 'auth', got {got}")
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise AuthError(BAD_MESSAGE, "token missing, empty or not a string")
        return token

    def verify_token(self, token: str) -> Identity:
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError(BAD_TOKEN, f"token rejected: longer than {MAX_TOKEN_CHARS} characters")
        checks = {
            "verify_signature": "signature" not in self.breaks,
            "verify_aud": "aud" not in self.breaks,
            "verify_iss": "iss" not in self.breaks,
            "verify_exp": "expiry" not in self.breaks,
            # Explicit, because turning off verify_signature turns these off by default.
            "verify_iat": True,
            "verify_nbf": True,
        }
        required = [claim for claim, waiver in REQUIRED_CLAIMS.items() if waiver not in self.breaks]
        try:
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=["HS256"],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={**checks, "require": required},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(BAD_TOKEN, f"token rejected: {exc}") from None
        return self.identity(claims)

    def claim(self, claims: dict, name: str, snake_name: str) -> object:
        if name not in claims and "camel-case" in self.breaks:
            return claims.get(snake_name)
        return claims.get(name)

    def identity(self, claims: dict) -> Identity:
        kind = claims.get("type")
        if kind != "access" and "token-type" not in self.breaks:
            raise AuthError(BAD_TOKEN, f"token rejected: type must be 'access', got {describe(kind)}")
        user_id = self.claim(claims, "userId", "user_id")
        if user_id is None:
            hint = " (it has snake_case user_id)" if "user_id" in claims else ""
            raise AuthError(BAD_TOKEN, f"token rejected: no userId claim{hint}")
        if isinstance(user_id, bool) or not (
            isinstance(user_id, int) or (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit())
        ):
            raise AuthError(BAD_TOKEN, f"token rejected: userId is not an integer: {describe(user_id)}")
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise AuthError(BAD_TOKEN, "token rejected: no email claim")
        membership = self.claim(claims, "membershipLevel", "membership_level")
        return Identity(int(user_id), membership if isinstance(membership, str) else "basic")

    async def session(self, ws: ServerConnection, identity: Identity) -> None:
        await send(ws, {"type": "auth_success", "message": "Authenticated", "user_id": identity.user_id})
        self.authenticated += 1
        try:
            messages = 1  # the auth message
            async for message in ws:
                messages += 1
                request = parse_object(message) if isinstance(message, str) else None
                if request is None:
                    await send(ws, error("expected a JSON object in a text frame"))
                elif request.get("type") == "push":
                    await self.push(ws, request)
                else:
                    await send(ws, self.reply(request, messages))
        finally:
            self.authenticated -= 1

    def reply(self, request: dict, messages: int) -> dict:
        match request.get("type"):
            case "ping":
                return {"type": "pong", "timestamp": time.time()}
            case "subscribe" | "unsubscribe" as kind:
                symbol = request.get("symbol")
                if not isinstance(symbol, str):
                    return error(f"{kind} needs a string symbol")
                return {"type": f"{kind}d", "symbol": symbol}
            case "get_stats":
                return {"type": "stats", "data": {"connections": self.authenticated, "messages": messages}}
            case "auth":
                return error("already authenticated")
            case kind:
                return error(f"unknown message type {describe(kind)}")

    async def push(self, ws: ServerConnection, request: dict) -> None:
        count, interval = request.get("count"), request.get("interval", 0)
        if not (
            type(count) is int
            and 0 <= count <= MAX_PUSH_COUNT
            and type(interval) in (int, float)
            and 0 <= interval <= MAX_PUSH_INTERVAL
        ):
            await send(ws, error(f"push needs count 0..{MAX_PUSH_COUNT} and interval 0..{MAX_PUSH_INTERVAL} seconds"))
            return
        held = []
        for seq in range(count):
            if seq:
                await asyncio.sleep(interval)
            held.append({"type": "tick", "seq": seq, "sent_at": time.time()})
            if "push-held" not in self.breaks:
                await send(ws, held.pop())
        for tick in held:
            await send(ws, tick)


async def run(settings: Settings) -> None:
    stub = Stub(settings)
    websockets_logger = logging.getLogger("websockets.server")
    websockets_logger.setLevel(logging.DEBUG)
    websockets_logger.addFilter(UnparsedRequests(stub.handshakes))
    if settings.breaks:
        logger.warning("STUB_BREAK: %s", "; ".join(BREAKS[name] for name in sorted(settings.breaks)))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serve(
        stub.handle,
        settings.host,
        settings.port,
        process_request=stub.process_request,
        process_response=stub.process_response,
        max_size=settings.max_message_bytes,
    ) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await stop.wait()
        logger.info("stopping")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = load_settings(os.environ)
    except ConfigError as problem:
        print(f"stub: {problem}", file=sys.stderr)
        return 2
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
