"""The load probe's Locust entry: `locust --host ws://HOST:PORT/ws/realtime` runs one WebSocket session per user
(fixtures/locust_session.py); README, section Load, has the single-machine and distributed commands."""

from fixtures.locust_session import WebSocketSession

__all__ = ["WebSocketSession"]
