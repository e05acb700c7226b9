"""A second trading-service, independent of the gate's stub: the WebSocket contract (shared/contract.md)
on Starlette and uvicorn, the production service's framework family. The gate must pass against it.

Run it with `python selftest/backends/starlette_service.py`. Once it accepts connections it prints one
line on stdout, `listening on HOST:PORT` (the real port, which matters with PORT=0); uvicorn logs on
stderr. SIGTERM or SIGINT stops it with exit code 0; a bad setting exits with code 2.

Settings, from the environment:
  HOST               address to bind (default 127.0.0.1)
  PORT               port to bind (default 8001; 0 picks a free one)
  JWT_SECRET         HS256 secret shared with the user-service, at least 32 characters (required)
  AUTH_TIMEOUT       seconds a client has to send its auth message (default 10)
  PING_INTERVAL      seconds between its pings to each client (default uvicorn's, 20)
  ALLOWED_HOSTS      comma-separated Host values it accepts, through Starlette's TrustedHostMiddleware,
                     as the production service does in production mode. Unset or empty: any Host

Messages are limited by uvicorn's default (16 MiB), as in production: the contract sets no limit.
"""

import asyncio
import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

AUDIENCE, ISSUER, TOKEN_TYPE = "trademe-app", "trademe-user-service", "access"
BAD_MESSAGE, BAD_TOKEN = 4001, 4003
MIN_SECRET_CHARS, MAX_TOKEN_CHARS = 32, 2048


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    secret: str
    auth_timeout: float
    ping_interval: float
    allowed_hosts: list[str]


class AuthError(Exception):
    """The first message does not authenticate: an error frame with `message`, then close `code`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def json_object(text: str | None) -> dict | None:
    """The JSON object in a text message; None for a binary one, non-JSON, or JSON that is not an object."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # 100 KB of '[' overflows the parser's recursion
        return None
    return data if isinstance(data, dict) else None


def token_of(first: dict) -> str:
    """The token of the first message (an ASGI websocket.receive event)."""
    data = json_object(first.get("text"))
    if data is None:
        raise AuthError(BAD_MESSAGE, "the first message must be a JSON object in a text frame")
    if data.get("type") != "auth":
        raise AuthError(BAD_MESSAGE, "the first message must have type 'auth'")
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise AuthError(BAD_MESSAGE, "token missing, empty or not a string")
    return token


def user_of(token: str, secret: str) -> int:
    """The user id of an access token from the user-service."""
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError(BAD_TOKEN, f"token longer than {MAX_TOKEN_CHARS} characters")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )
    except jwt.InvalidTokenError as error:
        raise AuthError(BAD_TOKEN, f"invalid token: {error}") from None
    user_id, email = claims.get("userId"), claims.get("email")
    if claims.get("type") != TOKEN_TYPE:
        raise AuthError(BAD_TOKEN, f"token type must be {TOKEN_TYPE!r}")
    if type(user_id) not in (int, str) or not str(user_id).isascii() or not str(user_id).isdigit():
        raise AuthError(BAD_TOKEN, "userId missing or not a number")
    if not isinstance(email, str) or not email:
        raise AuthError(BAD_TOKEN, "email missing")
    return int(user_id)


def answer(request: dict | None, sessions: int, received: int) -> dict:
    """The reply to a message on an authenticated session."""
    kind = request.get("type") if request else None
    if kind == "ping":
        return {"type": "pong", "timestamp": time.time()}
    if kind in ("subscribe", "unsubscribe") and isinstance(request.get("symbol"), str):
        return {"type": f"{kind}d", "symbol": request["symbol"]}
    if kind == "get_stats":
        return {"type": "stats", "data": {"connections": sessions, "messages": received}}
    if request is None:
        return {"type": "error", "message": "expected a JSON object in a text frame"}
    return {"type": "error", "message": f"cannot handle {kind!r} here"}


class TradingService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = 0

    async def realtime(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            try:
                user = await self.authenticate(websocket)
            except AuthError as refusal:
                await websocket.send_json({"type": "error", "message": refusal.message})
                await websocket.close(refusal.code)
                return
            await websocket.send_json({"type": "auth_success", "message": "Authenticated", "user_id": user})
            await self.session(websocket)
        except WebSocketDisconnect:
            pass

    async def authenticate(self, websocket: WebSocket) -> int:
        try:
            async with asyncio.timeout(self.settings.auth_timeout):
                first = await websocket.receive()
        except TimeoutError:
            raise AuthError(BAD_MESSAGE, "authentication timeout") from None
        if first["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(first.get("code", 1000))
        return user_of(token_of(first), self.settings.secret)

    async def session(self, websocket: WebSocket) -> None:
        self.sessions += 1
        try:
            received = 1  # the auth message
            while (message := await websocket.receive())["type"] != "websocket.disconnect":
                received += 1
                await websocket.send_json(answer(json_object(message.get("text")), self.sessions, received))
        finally:
            self.sessions -= 1


class ClientFaultIsNotAnError(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 as an ERROR with a traceback, though it is the client's fault
    and uvicorn answers it rightly with close 1007: one INFO line, so that errors in the log stay real."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid UTF-8"):
            record.levelno, record.levelname, record.exc_info, record.exc_text = logging.INFO, "INFO", None, None
        return True


async def health(request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def load_settings(env) -> Settings:
    secret = env.get("JWT_SECRET", "")
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_CHARS} characters")
    return Settings(
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "8001")),
        secret=secret,
        auth_timeout=float(env.get("AUTH_TIMEOUT", "10")),
        ping_interval=float(env.get("PING_INTERVAL", "20")),
        allowed_hosts=[name.strip() for name in env.get("ALLOWED_HOSTS", "").split(",") if name.strip()],
    )


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except ValueError as problem:
        print(f"starlette_service: {problem}", file=sys.stderr)
        return 2
    service = TradingService(settings)
    hosts = [Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)] if settings.allowed_hosts else []
    app = Starlette(
        routes=[Route("/health", health), WebSocketRoute("/ws/realtime", service.realtime)], middleware=hosts
    )
    listener = socket.create_server((settings.host, settings.port))
    config = uvicorn.Config(
        app, ws="websockets-sansio", ws_ping_interval=settings.ping_interval, lifespan="off", log_level="info"
    )
    logging.getLogger("uvicorn.error").addFilter(ClientFaultIsNotAnError())
    host, port = listener.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
