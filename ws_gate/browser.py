"""A real browser on Nginx's origin: Debian's Chromium driven by Playwright, the gate's own page and the built
frontend's page in it, and the reports of what the bundle and the page got wrong. What cannot run here raises
NotRunError, and fixtures/overlap.py skips the test with its reason."""

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from playwright import async_api

from ws_gate.bundle import Finding, origin_url
from ws_gate.client.wsclient import Exchange, describe
from ws_gate.contract import Contract
from ws_gate.faults import Fault, FrontendEdit, Instruction, Report, Where
from ws_gate.stacks.model import Stack
from ws_gate.timeouts import LONG, SHORT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The page the route answers has no address of its own, and its origin's name resolves to loopback only on
    # this machine: in production a public name reaches a public address, and Chromium's Local Network Access
    # block for a public page's requests to loopback does not apply.
    "--disable-features=LocalNetworkAccessChecks",
]
# Playwright counts in milliseconds.
SHORT_MS = SHORT * 1000
LONG_MS = LONG * 1000
HANDSHAKE_STATUS = re.compile(r"response code: (\d{3})")

# The gate's own page: it derives the URL from its origin exactly as the frontend does.
TEST_PAGE = Template("""<!doctype html>
<title>ws-gate</title>
<pre id="outcome" data-done="">waiting</pre>
<script>
const outcome = {opened: false, frames: [], close: null};
const show = () => {
  const shown = document.getElementById("outcome");
  shown.textContent = JSON.stringify(outcome);
  shown.dataset.done = "yes";
};
const ws = new WebSocket(window.location.origin.replace(/^http/, 'ws') + $path);
ws.onopen = () => {
  outcome.opened = true;
  ws.send(JSON.stringify({type: $auth_type, token: $token}));
};
ws.onmessage = (event) => {
  outcome.frames.push(JSON.parse(event.data));
  if (outcome.frames.at(-1).type === $success) show();
};
ws.onclose = (event) => { outcome.close = event.code; show(); };
</script>
""")


class NotRunError(Exception):
    """A browser test that cannot run here, and why: the test skips with this reason."""


def findings_fault(family: str, findings: list[Finding], dist: Path, notes: tuple[str, ...] = ()) -> Fault:
    """Each finding of the bundle scan as a fault at its file and offset, with the excerpt found; `notes` (where
    Nginx sends a wrong URL) end the first one's cause."""
    reports = [
        Report(
            family,
            f"the built frontend in {dist} breaks the WebSocket contract: {finding.problem}"
            + ("".join(f"; {note}" for note in notes) if index == 0 else ""),
            _bundle_edit(finding),
            got=finding.excerpt,
            where=Where(finding.file, offset=finding.offset),
        )
        for index, finding in enumerate(findings)
    ]
    return Fault(*reports)


def _bundle_edit(finding: Finding) -> FrontendEdit | Instruction:
    """The string to write in place of the one found, where a string is at fault; else the finding's fix."""
    if not finding.found:
        return Instruction(finding.fix)
    return FrontendEdit(Where(finding.file, offset=finding.offset), finding.found, finding.write, finding.source)


def _reach_only(stack: Stack) -> list[str]:
    """Chromium's flags to reach the stack and nothing else: every host name and address but loopback and the
    stack's fails to resolve, WebSockets included; the page origin's name is the stack's address; and when the
    stack serves TLS, exactly its certificate is trusted, by the hash of its public key."""
    rules = [f"MAP {name} {address}" for name, address in stack.resolve().items() if name != "localhost"]
    host = urlsplit(stack.http_url("/")).hostname
    rules += ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1", *([f"EXCLUDE {host}"] * (not stack.host))]
    trust = [f"--ignore-certificate-errors-spki-list={stack.spki}"] if stack.spki else []
    return [f"--host-resolver-rules={', '.join(rules)}", *trust]


def _driver_problem(launch_error: Exception) -> str:
    """Why Playwright's own Node.js does not run here: on a minimal Debian, a shared library it needs is missing."""
    try:  # Playwright's own module, not its API: where it moved, the launch's error is all there is to say
        from playwright._impl._driver import compute_driver_executable
    except ImportError:
        return str(launch_error)
    node = compute_driver_executable()[0]
    try:
        proc = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=SHORT)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{node}: {error}"
    problem = (proc.stderr.strip().splitlines() or [f"{node} --version exited {proc.returncode}"])[-1]
    # The one library a minimal Debian with chromium lacks (seen on debootstrap's minbase).
    return f"{problem} (apt-get install libatomic1)" if "libatomic.so" in problem else problem


class SharedBrowser:
    """Debian's Chromium, headless, driven by Playwright, reaching the stack only; never a downloaded browser.
    One for the run, launched on the event loop of its first page; `origin` is the run's --origin as given."""

    def __init__(self, stack: Stack, origin: str | None) -> None:
        self._stack = stack
        self._origin = origin
        self._launch: asyncio.Task | None = None
        self._playwright = None

    def _unavailable(self) -> str:
        page_origin = self._stack.http_url("/").rstrip("/")
        if self._origin not in (None, page_origin):
            # A browser sends its page's real Origin; a deployment that checks Origin refuses this one.
            return f"not run: the browser's page is on {page_origin}, not on --origin {self._origin}"
        if not CHROMIUM.is_file():
            return f"no Chromium at {CHROMIUM}: apt-get install chromium"
        return ""

    async def _start(self):
        if reason := self._unavailable():
            raise NotRunError(reason)
        try:
            self._playwright = await async_api.async_playwright().start()
        except Exception as error:
            raise NotRunError(f"Playwright's driver did not start: {_driver_problem(error)}") from None
        # Playwright gives every launch a fresh, empty profile directory of its own.
        flags = [*CHROMIUM_FLAGS, *_reach_only(self._stack)]
        return await self._playwright.chromium.launch(executable_path=CHROMIUM, args=flags, timeout=LONG_MS)

    @asynccontextmanager
    async def page(self) -> AsyncIterator:
        """A page in a context of its own, closed afterwards."""
        if self._launch is None:
            self._launch = asyncio.ensure_future(self._start())
        chromium = await self._launch
        context = await chromium.new_context()
        context.set_default_timeout(LONG_MS)
        try:
            yield await context.new_page()
        finally:
            await context.close()

    async def close(self) -> None:
        launched = self._launch is not None and self._launch.done() and not self._launch.cancelled()
        if launched and self._launch.exception() is None:
            await self._launch.result().close()
        if self._playwright is not None:
            await self._playwright.stop()


@dataclass
class PageSocket:
    """A WebSocket the page opened, as Playwright saw it."""

    url: str
    handle: object  # Playwright's WebSocket
    sent: list[str | bytes] = field(default_factory=list)
    error: str = ""

    def exchange(self, outcome: dict) -> Exchange:
        """What the page saw of this socket, in the shape of the gate's own exchanges."""
        sent = [describe(frame) for frame in self.sent]
        ex = Exchange(self.url, sent, frames=outcome["frames"], close_code=outcome["close"])
        status = HANDSHAKE_STATUS.search(self.error)
        if outcome["opened"]:
            ex.status = 101
        elif status:
            ex.status = int(status[1])
        else:
            ex.error = self.error or "the browser's handshake failed with no HTTP answer"
        return ex


def record_websockets(page) -> list[PageSocket]:
    """Every WebSocket the page opens from now on, with the frames it sends."""
    sockets: list[PageSocket] = []

    def opened(ws) -> None:
        socket = PageSocket(ws.url, ws)
        sockets.append(socket)
        ws.on("framesent", lambda payload: socket.sent.append(payload))
        ws.on("socketerror", lambda error: setattr(socket, "error", error))

    page.on("websocket", opened)
    return sockets


async def open_test_page(page, stack: Stack, contract: Contract, path: str, auth_type: str, token: str) -> Exchange:
    """Serve the gate's page at Nginx's `/` (the route answers in place of Nginx, so the page has Nginx's
    origin), let it dial `path` and send `auth_type` with `token`, and read the outcome off the page."""
    values = {"path": path, "auth_type": auth_type, "token": token, "success": contract.auth_success_type}
    html = TEST_PAGE.substitute({name: json.dumps(value) for name, value in values.items()})
    await page.route(stack.http_url("/"), lambda route: route.fulfill(body=html, content_type="text/html"))
    sockets = record_websockets(page)
    await page.goto(stack.http_url("/"))
    await page.wait_for_selector("#outcome[data-done=yes]", state="attached")
    return sockets[0].exchange(json.loads(await page.text_content("#outcome")))


def _answer_from(folder: Path):
    """A route handler that answers a request with the file of that path under `folder`, or 404."""

    async def answer(route) -> None:
        file = (folder / (urlsplit(route.request.url).path.lstrip("/") or "index.html")).resolve()
        if file.is_file() and file.is_relative_to(folder):
            await route.fulfill(path=file)
        else:
            await route.fulfill(status=404)

    return answer


async def _wait_for_first_frame(socket: PageSocket) -> None:
    if not socket.sent and not socket.handle.is_closed():
        with suppress(async_api.Error):  # no frame within the wait, or the socket closed first
            await socket.handle.wait_for_event("framesent", timeout=SHORT_MS)


async def open_built_page(page, stack: Stack, dist: Path) -> list[PageSocket]:
    """Load the built index.html as if Nginx served it; the WebSockets it opens within a short wait."""
    if not (dist / "index.html").is_file():
        raise NotRunError(f"no index.html in {dist}: no page for the browser to load; the bundle scan covers it")
    await page.route(f"{stack.http_url('/')}**", _answer_from(dist))
    sockets = record_websockets(page)
    await page.goto(stack.http_url("/"))
    if not sockets:
        try:
            await page.wait_for_event("websocket", timeout=SHORT_MS)
        except async_api.TimeoutError:
            raise NotRunError("the page opened no WebSocket without a login; the bundle scan covers it") from None
    for socket in sockets:
        await _wait_for_first_frame(socket)
    return sockets


def socket_report(socket: PageSocket, stack: Stack, dist: Path, contract: Contract) -> Report:
    """A WebSocket the built page opened elsewhere than the contract's endpoint on Nginx's origin."""
    family = "endpoint" if urlsplit(socket.url).netloc == stack.proxy else "direct-port"
    return Report(
        family,
        f"{dist / 'index.html'}, served at Nginx's {stack.http_url('/')}, opened {socket.url}, not {stack.ws_url()}",
        Instruction(f"dial {origin_url(contract)}"),
        sent=(describe(socket.sent[0]) if socket.sent else "nothing",),
        got=socket.error or "no handshake error reported",
    )
