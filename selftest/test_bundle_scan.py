"""The bundle scan gives each built frontend its verdict, whatever the minifier; the gate fails on bad
ones; the gate's browser reaches nothing but the stack."""

from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from selftest.gate_run import run_gate
from ws_gate.bundle import scan_bundle
from ws_gate.contract import load_contract

BUNDLES = Path(__file__).parent / "bundles"
DEFAULT_CONTRACT = load_contract()
SCAN_TESTS = "tests/test_frontend.py::test_bundle_"
BUILT_PAGE_TEST = "tests/test_frontend.py::test_built_page_in_the_browser_dials_only_the_contract_endpoint"
# The gate's frontend tests only, as `make frontend-check` runs them.
FRONTEND_CHECK = ("-k", "test_frontend")

BUILT_BUNDLES = [
    pytest.param("good-esbuild", set(), id="good-vite-esbuild-with-source-map"),
    pytest.param("good-terser", set(), id="good-terser-single-quotes-and-template"),
    pytest.param(
        "wrong-endpoint", {("wrong-endpoint", "assets/index-Bq7r1Lz0.js")}, id="ai-chat-endpoint-of-the-outage"
    ),
    pytest.param(
        "authenticate",
        {
            ("wrong-auth-type", "assets/index-Cx81fQ2e.js"),
            ("wrong-auth-type", "assets/index-Cx81fQ2e.js.map[../../src/services/realtime.ts]"),
        },
        id="authenticate-of-the-outage-in-bundle-and-source-map",
    ),
    pytest.param("fixed-port", {("fixed-host", "assets/index-a91Kd0Qs.js")}, id="localhost-8001-of-the-outage"),
    pytest.param("no-websocket", {("no-websocket", ".")}, id="no-websocket-at-all"),
    pytest.param(
        "outage-mapped",
        {
            ("wrong-endpoint", "assets/index-Mp4ed0ut.js"),
            ("wrong-auth-type", "assets/index-Mp4ed0ut.js"),
            ("fixed-port", "assets/index-Mp4ed0ut.js"),
        },
        id="outage-with-its-own-source-map",
    ),
]

GOOD = 'const o=location.origin.replace(/^http/,"ws");'
AUTH = 'ws.send(JSON.stringify({type:"auth",token:t}));'
# One-line bundles, each a variant a minifier may write.
SNIPPETS = [
    pytest.param(
        f'new WebSocket(window.location.origin.replace(/^http/,"ws")+"/ws/realtime");{AUTH}', set(), id="esbuild"
    ),
    pytest.param(
        "new WebSocket(location.origin.replace(/^http/,'ws')+'/ws/realtime');"
        "ws.send(JSON.stringify({'type':'auth','token':t}))",
        set(),
        id="single-quotes-quoted-keys",
    ),
    pytest.param(
        f"{GOOD}new WebSocket(`${{o}}/ws/realtime`);ws.send(JSON.stringify({{token:t,type:`auth`}}))",
        set(),
        id="template-literal-token-key-first",
    ),
    pytest.param(f'{GOOD}new WebSocket(o+"/ws/"+"realtime");{AUTH}', set(), id="concatenated-path"),
    pytest.param(
        f'new WebSocket(("https:"===location.protocol?"wss://":"ws://")+location.host+"/ws/realtime");{AUTH}',
        set(),
        id="protocol-ternary-and-host",
    ),
    pytest.param(
        f'{GOOD}new WebSocket(o+"/ws/realtime");ws.send(\'{{"type":"auth","token":"\'+t+\'"}}\')',
        set(),
        id="auth-message-written-as-json-text",
    ),
    pytest.param(f'{GOOD}new WebSocket(o+"/ws/realtime?v=2");{AUTH}', set(), id="query-string"),
    pytest.param(f'{GOOD}new WebSocket(o+"/ws");{AUTH}', {"wrong-endpoint"}, id="ws-without-realtime"),
    pytest.param(f'{GOOD}new WebSocket(o+"/WS/realtime");{AUTH}', {"wrong-endpoint"}, id="upper-case-path"),
    pytest.param(f'{GOOD}new WebSocket(o+"/ws/"+c);{AUTH}', {"wrong-endpoint"}, id="channel-appended"),
    pytest.param(f"{GOOD}new WebSocket(o);{AUTH}", {"no-contract-endpoint"}, id="no-path-named"),
    pytest.param(
        f'{GOOD}new WebSocket(o+"/ws/realtime");ws.send(JSON.stringify({{"token":t,"type":"authenticate"}}))',
        {"wrong-auth-type"},
        id="authenticate-quoted-keys-token-first",
    ),
    pytest.param(
        f"{GOOD}new WebSocket(o+'/ws/realtime');ws.send(JSON.stringify({{type:'AUTH',token:t}}))",
        {"wrong-auth-type"},
        id="upper-case-auth-type",
    ),
    pytest.param(f'{GOOD}new WebSocket(o+"/ws/realtime");ws.send(t)', {"no-auth-message"}, id="token-alone"),
    pytest.param(
        f'new WebSocket("ws://"+location.hostname+":8001/ws/realtime");{AUTH}', {"fixed-port"}, id="port-concatenated"
    ),
    pytest.param(
        f"new WebSocket(`ws://${{location.hostname}}:8001/ws/realtime`);{AUTH}", {"fixed-port"}, id="port-in-template"
    ),
    pytest.param(
        f'new WebSocket("http://localhost:8001".replace(/^http/,"ws")+"/ws/realtime");{AUTH}',
        {"fixed-port"},
        id="http-url-on-the-service-port",
    ),
    pytest.param(
        f'new WebSocket("wss://trade.example.com/ws/realtime");{AUTH}', {"fixed-host"}, id="production-host-literal"
    ),
    pytest.param(f'new WebSocket(u+"/ws/realtime");{AUTH}', {"no-page-origin"}, id="url-from-elsewhere"),
    pytest.param(
        f'{GOOD}fetch("/api/ws/status").then(r=>r.json());new WebSocket(o+"/ws/realtime");{AUTH}',
        set(),
        id="fetch-of-an-http-url-ending-in-ws-status",
    ),
    pytest.param(
        f'{GOOD}new EventSource(`${{b}}/api/ws/events`);x.open("GET",b+"/ws/health");new WebSocket(o+"/ws/realtime");'
        f"{AUTH}",
        set(),
        id="event-source-and-xhr-urls",
    ),
    pytest.param(
        f'{GOOD}const h=t=>({{type:"Bearer",token:t}});new WebSocket(o+"/ws/realtime");{AUTH}',
        set(),
        id="bearer-header-helper",
    ),
]


@pytest.mark.parametrize(("bundle", "expected"), BUILT_BUNDLES)
def test_built_bundle_gets_its_verdict(bundle, expected):
    """Each hand-built dist/ folder gets exactly its findings: rule and file."""
    findings = scan_bundle(BUNDLES / bundle, DEFAULT_CONTRACT)
    assert {(finding.rule, finding.file) for finding in findings} == expected, findings


@pytest.mark.parametrize(("code", "expected"), SNIPPETS)
def test_minified_variant_gets_its_verdict(tmp_path, code, expected):
    """Quote styles, templates, concatenation and key styles give the same verdict as the plain form."""
    (tmp_path / "app.js").write_text(code)
    assert {finding.rule for finding in scan_bundle(tmp_path, DEFAULT_CONTRACT)} == expected


def test_finding_locates_its_excerpt_by_byte_offset(tmp_path):
    """A finding's offset counts bytes, so it points at the excerpt after multi-byte characters too."""
    code = f'const m="Verbindung zum Börsen-Feed";{GOOD}new WebSocket(o+"/api/v1/ai/ws/chat");{AUTH}'
    (tmp_path / "app.js").write_bytes(code.encode())
    [finding] = scan_bundle(tmp_path, DEFAULT_CONTRACT)
    assert code.encode()[finding.offset :].startswith(b"/api/v1/ai/ws/chat"), finding
    assert "/api/v1/ai/ws/chat" in finding.excerpt


def test_source_map_names_the_source_line_of_each_string_to_change():
    """A bundle with its own source map (mappings only, no sourcesContent): each finding names the string found
    at its offset, the string to write, and the original source's file and line, as the map's VLQ mappings say."""
    bundle = BUNDLES / "outage-mapped"
    code = (bundle / "assets" / "index-Mp4ed0ut.js").read_bytes()
    findings = scan_bundle(bundle, DEFAULT_CONTRACT)
    assert [(f.rule, f.found, f.write, f.source) for f in findings] == [
        ("wrong-endpoint", "/api/v1/ai/ws/chat", "/ws/realtime", "src/services/realtime.ts:3"),
        ("wrong-auth-type", "authenticate", "auth", "src/services/realtime.ts:6"),
        ("fixed-port", ":8001", "", "src/services/realtime.ts:3"),
    ]
    assert [code[f.offset :].startswith(f.found.encode()) for f in findings] == [True] * 3
    source = (bundle / "src" / "services" / "realtime.ts").read_text().splitlines()
    assert ["/api/v1/ai/ws/chat" in source[2], "'authenticate'" in source[5]] == [True, True]


def test_scan_reads_the_contract_it_is_given(tmp_path):
    """Another contract's path and trading port reach the rules and fixes."""
    live = replace(DEFAULT_CONTRACT, ws_path="/ws/live", trading_address="127.0.0.1:9100")
    (tmp_path / "app.js").write_text(f'{GOOD}new WebSocket(o+"/ws/realtime");new WebSocket(`ws://${{h}}:9100`);{AUTH}')
    found = {(finding.rule, finding.fix) for finding in scan_bundle(tmp_path, live)}
    url = "window.location.origin.replace(/^http/, 'ws') + '/ws/live'"
    expected = {("wrong-endpoint", f"dial {url}"), ("fixed-port", f"derive the URL from the page origin: {url}")}
    assert expected <= found, found


@pytest.mark.parametrize(
    ("bundle", "failed"),
    [
        pytest.param("wrong-endpoint", "dials_the_contract_endpoint", id="endpoint"),
        pytest.param("authenticate", "sends_the_contract_auth_message", id="auth-message"),
        pytest.param("fixed-port", "derives_the_url_from_the_page_origin", id="direct-port"),
    ],
)
def test_gate_fails_on_a_bad_bundle_in_the_test_named_for_it(tmp_path, bundle, failed):
    """The frontend check on a bad bundle exits 1, failing that fault's scan test only."""
    run = run_gate(tmp_path, f"--frontend-dist={BUNDLES / bundle}", *FRONTEND_CHECK)
    scan_failures = {test for test in run.failed if test.startswith(SCAN_TESTS)}
    assert (run.exit_code, scan_failures) == (1, {SCAN_TESTS + failed}), run.output[-3000:]


def test_gate_passes_a_good_bundle(tmp_path):
    """The frontend check on a good bundle passes, the browser on its built page included."""
    run = run_gate(tmp_path, f"--frontend-dist={BUNDLES / 'good-esbuild'}", *FRONTEND_CHECK)
    assert (run.exit_code, run.failed, BUILT_PAGE_TEST in run.passed) == (0, set(), True), run.output[-3000:]


@pytest.mark.parametrize("url", ["http://example.com/", "http://10.255.255.1/"], ids=["host-name", "address"])
async def test_gate_browser_resolves_nothing_but_the_stack(overlap, url):
    """The gate's Chromium fails to resolve any host but loopback and the stack's, so it sends nothing out."""
    async with overlap.probe.browser.page() as page:
        with pytest.raises(PlaywrightError, match="ERR_NAME_NOT_RESOLVED"):
            await page.goto(url)
