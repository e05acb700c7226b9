"""Stub trading-service: the strict WebSocket contract of the connectivity gate (shared/contract.md).

Run it with `python stub.py`. Once bound it prints one line on stdout, `listening on HOST:PORT`
(the real port, which matters with STUB_PORT=0); everything else is logged on stderr.
SIGTERM or SIGINT stops it with exit code 0. A bad setting exits with code 2 and one line on stderr.

Settings, from the environment:
  STUB_CONTRACT      the contract the stub enforces, as JSON (required): the path and the app's other
                     WebSocket routes (a token in the query string authenticates those that say so),
                     the auth message
                     type, aud, iss, the claim names, the token type and length, the close codes,
                     the auth timeout, the answers after auth, the message size limit (null: the
                     WebSocket library's default) and the interval of the stub's own pings (null:
                     none), and the Host values the service accepts (allowed_hosts; absent or null:
                     any). The gate hands it the contract it runs with; by hand:
                     STUB_CONTRACT="$(python -m ws_gate.contract [PATH])" from the repository
  STUB_HOST          address to bind (default 127.0.0.1)
  STUB_PORT          port to bind (default 8001; 0 picks a free one)
  JWT_SECRET         HS256 secret shared with the user-service, at least 32 characters (required)
  MAX_MESSAGE_BYTES  for the gate's mutation self-check: a message size limit other than the contract's
  STUB_ORIGINS       comma-separated allowed Origin values; a handshake without one of them gets
                     403. Unset or empty: no Origin check
  STUB_BREAK         comma-separated checks to disable, for the gate's mutation self-check:
                     auth-type, aud, aud-optional, iss, camel-case, signature, expiry, exp-optional,
                     token-type, auth-timeout, close-after-error, open-after-bad-frame, push-held,
                     pings-late (see BREAKS)

HTTP beside the WebSocket:
  GET /health                       200 `ok`
  GET /_stub/handshakes[?probe=X]   JSON list of the last 500 handshakes, oldest first (only those
                                    whose X-Gate-Probe header is X), each
                                    {"probe", "path", "protocol", "headers": [[name, value], ...],
                                     "peer", "accepted", "status", "error"}
  any other path                    404 `unknown path`

After `auth_success` the stub answers ping, subscribe, unsubscribe and get_stats, with the contract's
answer types
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
    "aud-optional": "accept a token with no aud",
    "iss": "skip the issuer check",
    "camel-case": "accept user_id / membership_level in place of userId / membershipLevel",
    "signature": "do not verify the signature",
    "expiry": "do not require or verify exp",
    "exp-optional": "accept a token with no exp",
    "token-type": "accept a token whose type is not access",
    "auth-timeout": "wait for the auth message forever",
    "close-after-error": "send the error frame but do not close",
    "open-after-bad-frame": "leave the socket open, sending nothing, after a first frame that is no JSON object",
    "push-held": "hold pushed frames back and send them together, as a buffering proxy would",
    "pings-late": "ping at 1.5 times the contract's interval, as a stub held up by a busy machine",
}
LATE_PINGS = 1.5  # times the contract's ping interval, under STUB_BREAK=pings-late
# The kinds of refusal: each closes with the contract's close code of that name.
BAD_MESSAGE, BAD_TOKEN = "close_bad_message", "close_bad_token"
CLOSE_REASONS = {BAD_MESSAGE: "authentication failed", BAD_TOKEN: "invalid token"}
# The legacy spellings of the user-service's claims (contract.md), taken only under snake_case_claims = "accept".
SNAKE_CASE = {"user_id_claim": "user_id", "membership_claim": "membership_level"}
CONTRACT_KEYS = [
    *("ws_path", "auth_type", "auth_success_type", "error_type", "audience", "issuer", "user_id_claim"),
    *("membership_claim", "token_type", "max_token_length", "snake_case_claims", "close_bad_message"),
    *("close_bad_token", "auth_timeout", "after_auth_types", "max_message_bytes", "server_ping_interval"),
    "routes",
]
MIN_SECRET_CHARS = 32
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

# Each claim PyJWT must find, and the STUB_BREAK names that waive it.
REQUIRED_CLAIMS = {"iat": set(), "aud": {"aud", "aud-optional"}, "iss": {"iss"}, "exp": {"expiry", "exp-optional"}}

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40
describe = _short.repr


class ConfigError(Exception):
    pass


class AuthError(Exception):
    """The first message does not authenticate: send `message` in an error frame, then close with the close
    code of `kind`. `unreadable`: the first frame held no JSON object."""

    def __init__(self, kind: str, message: str, unreadable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.unreadable = unreadable


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    secret: str = field(repr=False)
    contract: dict
    max_message_bytes: int | None
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
    contract = _contract(env.get("STUB_CONTRACT", ""))
    limit = contract["max_message_bytes"]
    return Settings(
        host=env.get("STUB_HOST", "127.0.0.1"),
        port=port,
        secret=secret,
        contract=contract,
        max_message_bytes=_number(env, "MAX_MESSAGE_BYTES", "", int, 1) if "MAX_MESSAGE_BYTES" in env else limit,
        origins=_names(env.get("STUB_ORIGINS", "")),
        breaks=breaks,
    )


def _contract(raw: str) -> dict:
    if not raw:
        raise ConfigError("STUB_CONTRACT is not set: give the contract as JSON (python -m ws_gate.contract)")
    try:
        contract = json.loads(raw)
    except ValueError:
        raise ConfigError("STUB_CONTRACT is not JSON") from None
    missing = [key for key in CONTRACT_KEYS if key not in contract] if isinstance(contract, dict) else CONTRACT_KEYS
    if missing:
        raise ConfigError(f"STUB_CONTRACT lacks {', '.join(missing)}")
    return contract


def route_matches(route: str, path: str) -> bool:
    """Whether `path` is an instance of the contract route `route`, whose {name} segments match any segment."""
    parts = re.split(r"(\{[^}/]*\})", route)
    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.fullmatch(pattern, path) is not None


def parse_object(message: str) -> dict | None:
    """The JSON object in `message`, or None when it is not JSON or not an object."""
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # deeply nested arrays exhaust the recursion limit
        return None
    return data if isinstance(data, dict) else None


async def send(ws: ServerConnection, frame: dict) -> None:
    await ws.send(json.dumps(frame))


def unverified(token: str) -> dict:
    """The token's claims, unverified, for the checks that depend on which claims it carries; {} if unreadable."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}


def peer(address: tuple | None) -> str | None:
    return f"{address[0]}:{address[1]}" if address else None


def first_header(request: Request, name: str) -> str | None:
    values = request.headers.get_all(name)
    return values[0] if values else None


def is_upgrade(request: Request) -> bool:
    """Whether uvicorn would take the request for a WebSocket handshake: `upgrade` among the Connection tokens
    and Upgrade: websocket, in any case."""
    tokens = {token.strip().lower() for value in request.headers.get_all("Connection") for token in value.split(",")}
    return "upgrade" in tokens and (first_header(request, "Upgrade") or "").lower() == "websocket"


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
        self.contract = settings.contract
        self.handshakes: collections.deque[dict] = collections.deque(maxlen=KEPT_HANDSHAKES)
        self.authenticated = 0

    # The opening handshake.

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/health":
            return connection.respond(HTTPStatus.OK, "ok")
        if path == "/_stub/handshakes":
            return self.handshakes_response(connection, request)
        if not self.host_allowed(request.headers.get("Host", "")):
            # What the team's service answers: its pinned Starlette (0.27) sends 400 "Invalid host header", which
            # its uvicorn (0.24) turns into a 500 on a WebSocket handshake (docs/contract.md).
            if is_upgrade(request):
                return connection.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
            return connection.respond(HTTPStatus.BAD_REQUEST, "Invalid host header")
        if self.route_auth(path) is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown path")
        origins = request.headers.get_all("Origin")
        if self.settings.origins and (len(origins) != 1 or origins[0] not in self.settings.origins):
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed")
        return None

    def host_allowed(self, host: str) -> bool:
        """The team's TrustedHostMiddleware on Starlette 0.27: the Host without its port equals an allowed name
        exactly, or ends with the `.example.com` of a `*.example.com`; `*` or no list accepts any."""
        allowed = self.contract.get("allowed_hosts")
        if allowed is None or "*" in allowed:
            return True
        name = host.split(":")[0]
        return any(name == pattern or (pattern.startswith("*") and name.endswith(pattern[1:])) for pattern in allowed)

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

    def route_auth(self, path: str) -> str | None:
        """How the contract's route at `path` authenticates ("message" or "query"); None: no route is there."""
        if path == self.contract["ws_path"]:
            return "message"
        return next((route["auth"] for route in self.contract["routes"] if route_matches(route["path"], path)), None)

    async def authenticate(self, ws: ServerConnection) -> Identity:
        if self.route_auth(urlsplit(ws.request.path).path) == "query":
            tokens = parse_qs(urlsplit(ws.request.path).query).get("token", [""])
            return self.verify_token(tokens[0])
        timeout = None if "auth-timeout" in self.breaks else self.contract["auth_timeout"]
        try:
            async with asyncio.timeout(timeout):
                message = await ws.recv()
        except TimeoutError:
            raise AuthError(BAD_MESSAGE, "authentication timeout") from None
        return self.verify_token(self.read_auth_message(message))

    def error(self, message: str) -> dict:
        return {"type": self.contract["error_type"], "message": message}

    async def refuse(self, ws: ServerConnection, refusal: AuthError) -> None:
        if refusal.unreadable and "open-after-bad-frame" in self.breaks:
            await ws.wait_closed()
            return
        await send(ws, self.error(refusal.message))
        if "close-after-error" in self.breaks:
            await ws.wait_closed()
        else:
            await ws.close(self.contract[refusal.kind], CLOSE_REASONS[refusal.kind])

    def read_auth_message(self, message: str | bytes) -> str:
        """The token of the auth message."""
        if isinstance(message, bytes):
            raise AuthError(BAD_MESSAGE, "the auth message must be a text frame, got a binary one", unreadable=True)
        data = parse_object(message)
        if data is None:
            raise AuthError(BAD_MESSAGE, "the auth message must be a JSON object", unreadable=True)
        expected = self.contract["auth_type"]
        if data.get("type") != expected and "auth-type" not in self.breaks:
            got = describe(data["type"]) if "type" in data else "no type"
            raise AuthError(BAD_MESSAGE, f"expected type {expected!r}, got {got}")
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise AuthError(BAD_MESSAGE, "token missing, empty or not a string")
        return token

    def verify_token(self, token: str) -> Identity:
        longest = self.contract["max_token_length"]
        if len(token) > longest:
            raise AuthError(BAD_TOKEN, f"token rejected: longer than {longest} characters")
        audience_waived = "aud" in self.breaks or ("aud-optional" in self.breaks and "aud" not in unverified(token))
        checks = {
            "verify_signature": "signature" not in self.breaks,
            "verify_aud": not audience_waived,
            "verify_iss": "iss" not in self.breaks,
            "verify_exp": "expiry" not in self.breaks,
            # Explicit, because turning off verify_signature turns these off by default.
            "verify_iat": True,
            "verify_nbf": True,
        }
        required = [claim for claim, waivers in REQUIRED_CLAIMS.items() if not waivers & self.breaks]
        try:
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=["HS256"],
                audience=self.contract["audience"],
                issuer=self.contract["issuer"],
                options={**checks, "require": required},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(BAD_TOKEN, f"token rejected: {exc}") from None
        return self.identity(claims)

    def claim(self, claims: dict, key: str) -> object:
        """The claim the contract names `key`, or its snake_case spelling where snake_case claims are taken."""
        name = self.contract[key]
        snake = self.contract["snake_case_claims"] == "accept" or "camel-case" in self.breaks
        if name not in claims and snake:
            return claims.get(SNAKE_CASE[key])
        return claims.get(name)

    def identity(self, claims: dict) -> Identity:
        kind, expected = claims.get("type"), self.contract["token_type"]
        if kind != expected and "token-type" not in self.breaks:
            raise AuthError(BAD_TOKEN, f"token rejected: type must be {expected!r}, got {describe(kind)}")
        user_id, name = self.claim(claims, "user_id_claim"), self.contract["user_id_claim"]
        if user_id is None:
            hint = " (it has snake_case user_id)" if "user_id" in claims else ""
            raise AuthError(BAD_TOKEN, f"token rejected: no {name} claim{hint}")
        if isinstance(user_id, bool) or not (
            isinstance(user_id, int) or (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit())
        ):
            raise AuthError(BAD_TOKEN, f"token rejected: {name} is not an integer: {describe(user_id)}")
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise AuthError(BAD_TOKEN, "token rejected: no email claim")
        membership = self.claim(claims, "membership_claim")
        return Identity(int(user_id), membership if isinstance(membership, str) else "basic")

    async def session(self, ws: ServerConnection, identity: Identity) -> None:
        success = self.contract["auth_success_type"]
        await send(ws, {"type": success, "message": "Authenticated", "user_id": identity.user_id})
        self.authenticated += 1
        try:
            messages = 1  # the auth message
            async for message in ws:
                messages += 1
                request = parse_object(message) if isinstance(message, str) else None
                if request is None:
                    await send(ws, self.error("expected a JSON object in a text frame"))
                elif request.get("type") == "push":
                    await self.push(ws, request)
                else:
                    await send(ws, self.reply(request, messages))
        finally:
            self.authenticated -= 1

    def reply(self, request: dict, messages: int) -> dict:
        kind = request.get("type")
        answer = self.contract["after_auth_types"].get(kind) if isinstance(kind, str) else None
        match kind:
            case "ping" if answer:
                return {"type": answer, "timestamp": time.time()}
            case "subscribe" | "unsubscribe" if answer:
                symbol = request.get("symbol")
                if not isinstance(symbol, str):
                    return self.error(f"{kind} needs a string symbol")
                return {"type": answer, "symbol": symbol}
            case "get_stats" if answer:
                return {"type": answer, "data": {"connections": self.authenticated, "messages": messages}}
            case _ if kind == self.contract["auth_type"]:
                return self.error("already authenticated")
            case _:
                return self.error(f"unknown message type {describe(kind)}")

    async def push(self, ws: ServerConnection, request: dict) -> None:
        count, interval = request.get("count"), request.get("interval", 0)
        if not (
            type(count) is int
            and 0 <= count <= MAX_PUSH_COUNT
            and type(interval) in (int, float)
            and 0 <= interval <= MAX_PUSH_INTERVAL
        ):
            limits = f"count 0..{MAX_PUSH_COUNT} and interval 0..{MAX_PUSH_INTERVAL} seconds"
            await send(ws, self.error(f"push needs {limits}"))
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


def ping_interval(settings: Settings) -> float | None:
    interval = settings.contract["server_ping_interval"]
    return interval * LATE_PINGS if interval and "pings-late" in settings.breaks else interval


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
        # Unset in the contract: the library's own limit and no pings of the stub's own.
        **({"max_size": settings.max_message_bytes} if settings.max_message_bytes else {}),
        ping_interval=ping_interval(settings),
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
