"""Clients reach the trading-service only through Nginx: its own port takes no WebSocket from outside."""

import pytest

from ws_gate.diagnosis import exchange_fault

pytestmark = pytest.mark.fault("direct-port")


async def test_trading_service_port_is_closed_to_clients(exchange, stack, gate_options):
    """On the deployment's host, the trading-service's own port does not upgrade a WebSocket."""
    if stack.name != "external":
        pytest.skip("not run: on the gate's own stacks the client shares the loopback with the backend")
    host = stack.proxy.rsplit(":", 1)[0]
    port = gate_options.trading_port  # --trading-address, default the contract's
    ex = await exchange(f"ws://{host}:{port}{gate_options.contract.ws_path}", wait=0)
    if ex.status == 101:
        raise exchange_fault(
            "direct-port",
            ex,
            f"the trading-service answers WebSockets on {host}:{port}, so a frontend dialling port {port} "
            "bypasses Nginx",
            "bind the trading-service to 127.0.0.1 (or firewall the port): only Nginx may reach it",
        )
