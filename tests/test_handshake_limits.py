"""What the handshake refuses before a WebSocket exists: a page on another site (as --origin-policy says)
and a request line or header over 8 KiB."""

import pytest

from ws_gate.diagnosis import exchange_fault
from ws_gate.faults import FINDING
from ws_gate.settings import CROSS_SITE_ORIGIN

pytestmark = pytest.mark.fault("security")

EIGHT_KIB = 8 * 1024
# Nginx answers 414 to a long request line and 400 to long headers; a service behind it may answer 431.
TOO_LARGE = {400, 414, 431}
LIMITS_FIX = (
    "keep Nginx's large_client_header_buffers at most 4 8k (its default) and the service's own header limit "
    "at most 8 KiB"
)

OVERSIZED_REQUESTS = [
    pytest.param(f"?pad={'x' * EIGHT_KIB}", {}, id="request-line-over-8-kib"),
    pytest.param("", {"X-Pad": "x" * EIGHT_KIB}, id="header-over-8-kib"),
    pytest.param("", {"Cookie": f"session={'x' * EIGHT_KIB}"}, id="cookie-over-8-kib"),
    pytest.param("", {f"X-Pad-{n}": "x" * (EIGHT_KIB - 512) for n in range(5)}, id="headers-over-32-kib-in-all"),
]


async def test_cross_site_origin_follows_the_origin_policy(exchange, ws_url, origin_policy, request):
    """A handshake from a page on another site gets 403 under enforce; under report a 101 is a finding."""
    ex = await exchange(ws_url, wait=0, origin=CROSS_SITE_ORIGIN)
    if ex.status not in origin_policy.expected:
        raise exchange_fault(
            "security",
            ex,
            f"Origin {CROSS_SITE_ORIGIN} got {ex.status} under --origin-policy={origin_policy.name}, "
            f"expected one of {sorted(origin_policy.expected)}",
            "answer 403 at the handshake to an Origin that is not the site's own (in the service's handshake, "
            "or in Nginx with a map $http_origin)",
        )
    if ex.status == 101:
        finding = (
            f"Origin {CROSS_SITE_ORIGIN} upgrades: any site can open the WebSocket from a visitor's browser "
            "(--origin-policy=enforce makes this fail)"
        )
        request.node.user_properties.append((FINDING, finding))


@pytest.mark.parametrize(("query", "headers"), OVERSIZED_REQUESTS)
async def test_oversized_handshake_is_refused(exchange, ws_url, query, headers):
    """A request line or header over 8 KiB gets 400, 414 or 431 from Nginx or the service, never an upgrade."""
    ex = await exchange(ws_url + query, wait=0, headers=headers)
    if ex.status not in TOO_LARGE:
        raise exchange_fault(
            "security", ex, f"an oversized handshake got {ex.status}, expected one of {sorted(TOO_LARGE)}", LIMITS_FIX
        )
