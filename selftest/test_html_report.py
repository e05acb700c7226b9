"""reports/report.html opened in the real Chromium the gate drives, with every request but file:// refused: the
page of a passing run and of failing runs draws one route group per route with its hops green or red, names the
failing location's file:line and the fix, and asks for nothing over the network."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from selftest.gate_run import ROOT
from selftest.test_ws_gate_command import CommandRun, ws_gate
from ws_gate.browser import CHROMIUM, CHROMIUM_FLAGS
from ws_gate.reports import html_report

UPGRADE_MISSING = ROOT / "selftest" / "confs" / "upgrade-missing.conf"
UPGRADE_FIX = "proxy_set_header Upgrade $http_upgrade;"
# A server whose only location is /api/: the WebSocket route lands in no location at all.
NO_LOCATION = """server {
    listen 80;
    server_name _;
    location /api/ { proxy_pass http://127.0.0.1:8001; }
}
"""
GREEN, RED = "rgb(26, 127, 55)", "rgb(207, 34, 46)"
HOPS = ["browser", "Nginx location", "trading-service"]
HOSTILE = '<script>document.title="x"</script><img src="http://198.51.100.1/x.png">'


@pytest.fixture(scope="module")
def browser_page() -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page that aborts every request but file://, and the URLs it was asked for beyond file://."""
    attempted: list[str] = []

    def only_files(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.route("**/*", only_files)
        page.on("request", lambda request: request.url.startswith("file://") or attempted.append(request.url))
        yield page, attempted
        browser.close()


def opened(browser_page: tuple[Page, list[str]], run_or_page: CommandRun | Path) -> Page:
    """`report.html` of a run (or a page file) loaded in the browser, with nothing asked beyond file://."""
    page, attempted = browser_page
    path = run_or_page.reports / "report.html" if isinstance(run_or_page, CommandRun) else run_or_page
    page.goto(path.as_uri())
    assert attempted == [], f"report.html asked the network for {attempted}"
    return page


def hop_colours(page: Page) -> list[list[tuple[str, str]]]:
    """Each route group's hops, as (hop name, the stroke colour Chromium draws its box in)."""
    return [
        [
            (hop.get_attribute("data-hop"), hop.locator("rect").evaluate("rect => getComputedStyle(rect).stroke"))
            for hop in route.locator("g.hop").all()
        ]
        for route in page.locator("section.route").all()
    ]


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> CommandRun:
    return ws_gate(tmp_path_factory.mktemp("passing"))


@pytest.fixture(scope="module")
def upgrade_missing_run(tmp_path_factory: pytest.TempPathFactory) -> CommandRun:
    return ws_gate(tmp_path_factory.mktemp("upgrade-missing"), f"--nginx-conf={UPGRADE_MISSING}")


def test_a_passing_run_draws_every_hop_green(browser_page, passing_run):
    """The production site file's run: one route, browser, Nginx and trading-service all green, no family
    failed, and the static check's one advice as the only fix."""
    assert passing_run.exit_code == 0, passing_run.output[-3000:]
    page = opened(browser_page, passing_run)
    assert hop_colours(page) == [[(hop, GREEN) for hop in HOPS]]
    assert page.locator("tr.failed").count() == 0
    assert page.locator("li.fix pre").all_inner_texts() == ["proxy_connect_timeout 10s;"]  # the one advice
    assert page.locator("p.status").inner_text() == "ws-gate: passed, exit 0, stack local"


def test_a_location_without_the_upgrade_is_drawn_red_with_its_file_line_and_fix(
    browser_page, upgrade_missing_run, tmp_path
):
    """The site file without the Upgrade header: Nginx's hop and the service behind it red, the location's
    file:line and the fix on the page, and a screenshot of it."""
    assert upgrade_missing_run.exit_code == 1, upgrade_missing_run.output[-3000:]
    page = opened(browser_page, upgrade_missing_run)
    assert hop_colours(page) == [[("browser", GREEN), ("Nginx location", RED), ("trading-service", RED)]]
    route = page.locator("section.route")
    assert f"{UPGRADE_MISSING}:3" in route.inner_text()
    assert "Nginx did not forward the Upgrade header" in route.inner_text()
    assert page.locator('tr.failed[data-family="proxy-upgrade"] td.state').inner_text() == "FAILED"
    assert UPGRADE_FIX in page.locator("li.fix pre").all_inner_texts()
    screenshot = page.screenshot(path=tmp_path / "report.png", full_page=True)
    assert screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(screenshot) > 20_000


def test_a_route_with_no_location_is_drawn_red_at_the_nginx_hop(browser_page, tmp_path):
    """A site file with no location for the WebSocket route: the Nginx hop says so, in red."""
    site = tmp_path / "no-location.conf"
    site.write_text(NO_LOCATION)
    run = ws_gate(tmp_path, f"--nginx-conf={site}")
    assert run.exit_code == 1, run.output[-3000:]
    page = opened(browser_page, run)
    assert hop_colours(page) == [[("browser", GREEN), ("Nginx location", RED), ("trading-service", RED)]]
    nginx_hop = page.locator('g.hop[data-hop="Nginx location"] text').all_text_contents()
    assert nginx_hop == ["Nginx location", "no location", "Nginx answers 404, not 101"]


def test_outside_text_is_escaped_and_a_patch_and_fix_of_any_shape_are_shown(browser_page, tmp_path):
    """Markup in a failure's message stays text, a `patch` shows as a diff, and a fix given as a dict with
    `text` and `lines` is shown whole, beside one given as a string."""
    document = {
        "status": "failed",
        "exit_code": 1,
        "routes": [{"path": "/ws/realtime", "sources": ["contract"], "location": "site.conf:3", "websocket": False}],
        "failures": [
            {"family": "endpoint", "test": "t1", "message": HOSTILE, "fix": {"text": "add", "lines": ["A;", "B;"]}},
            {"family": "endpoint", "test": "t2", "message": "x", "fix": "a string fix"},
        ],
        "patch": "--- a/site.conf\n+++ b/site.conf\n@@ -3 +3,2 @@\n-old;\n+new;",
    }
    verdict_json = tmp_path / "verdict.json"
    verdict_json.write_text(json.dumps(document))
    page = opened(browser_page, html_report.write_beside(verdict_json))
    assert (page.locator("script").count(), page.locator("img").count()) == (0, 0)
    assert HOSTILE in page.locator("div.exchange").first.inner_text()
    assert page.locator("li.fix pre").all_inner_texts() == ["add\nA;\nB;", "a string fix"]
    assert page.locator(".diff .add").all_inner_texts() == ["+new;"]
    assert page.locator(".diff .del").all_inner_texts() == ["-old;"]
    assert page.locator(".diff .file").all_inner_texts() == ["--- a/site.conf", "+++ b/site.conf"]
