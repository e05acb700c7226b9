"""The load probe's Locust entry: `locust --host ws://HOST:PORT/ws/realtime` runs one WebSocket session per user
(ws_gate/client/locust_session.py); README, section Load, has the single-machine and distributed commands."""

from ws_gate.client.locust_session import WebSocketSession

__all__ = ["WebSocketSession"]
