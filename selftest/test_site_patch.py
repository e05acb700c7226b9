"""reports/site.patch: the gate's fixes of a site file as a diff that `git apply` and `patch -p1` accept from the
working folder, which the gate has already run on the real Nginx: applied, the file passes every Nginx family.
A patch Nginx does not pass is withheld, and the verdict says why."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selftest.mutants import CONTRACTS, LIBRARY_MUTANTS, SITES
from ws_gate.contract import load_contract
from ws_gate.faults import SiteEdit, Where
from ws_gate.nginx import patch, snippets
from ws_gate.nginx.lint import ServiceRules, check_site_file, failures, lint_site
from ws_gate.nginx.versions import parse
from ws_gate.settings import GateOptions

WS_GATE = Path(sys.executable).parent / "ws-gate"
GATE_RUN_LIMIT = 180  # seconds: a run with its check of the patch takes some 30
# The anti-hang guard of a test that runs the gate twice (once with its own run of the patch): pytest.ini's 60 s
# bounds one run.
TWO_RUNS = pytest.mark.timeout(2 * GATE_RUN_LIMIT)
NGINX_FAMILIES = "--families=site-loads,proxy-upgrade,endpoint"

# The site file of the outage: the frontend and the REST API, no WebSocket location at all.
BEFORE_STATE = """server {
    listen 80;
    server_name trade.example.com;

    location / {
        root /var/www/trademe;
        try_files $uri /index.html;
    }

    location /api/ {
        proxy_pass http://127.0.0.1:8001;
    }
}
"""
UPGRADE_MISSING = """server {
    listen 80;
    location /ws/ {
        proxy_pass http://127.0.0.1:8001;
        proxy_http_version 1.1;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 3600s;
    }
}
"""
HTTP_VERSION_MISSING = """server {
    listen 80;
    location /ws/ {
        proxy_pass http://127.0.0.1:8001;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 3600s;
    }
}
"""
# The WebSocket location lives in an include of the prefix, and lacks proxy_http_version there.
INCLUDING = """server {
    listen 80;
    server_name trade.example.com;

    location / {
        root /var/www/trademe;
    }

    include snippets/trading-ws.conf;
}
"""
INCLUDED = """# The trading-service's WebSocket, for `include snippets/trading-ws.conf;` in a server.
location /ws/ {
    proxy_pass http://127.0.0.1:8001;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
    proxy_read_timeout 3600s;
}
"""
# docker-compose: the trading-service by its service name, through an upstream block the new location keeps.
NAMED_UPSTREAM = """upstream backend {
    server trading-service:8001;
}

server {
    listen 80;

    location /api/ {
        proxy_pass http://backend;
    }
}
"""
COMPOSE = f"--contract={CONTRACTS / 'compose-service.toml'}"
PREFIX = "--nginx-prefix=nginx"  # the copy of the production host's /etc/nginx in the working folder

CASES = [
    pytest.param({"site.conf": BEFORE_STATE}, (), "site.conf", "proxy_pass http://127.0.0.1:8001;", id="outage"),
    pytest.param({"site.conf": UPGRADE_MISSING}, (), "site.conf", snippets.UPGRADE, id="upgrade-missing"),
    pytest.param({"site.conf": HTTP_VERSION_MISSING}, (), "site.conf", snippets.HTTP_1_1, id="http-version-missing"),
    pytest.param(
        {"site.conf": INCLUDING, "nginx/snippets/trading-ws.conf": INCLUDED},
        (PREFIX,),
        "nginx/snippets/trading-ws.conf",
        snippets.HTTP_1_1,
        id="location-in-an-include",
    ),
    pytest.param({"site.conf": NAMED_UPSTREAM}, (COMPOSE,), "site.conf", "proxy_pass http://backend;", id="upstream"),
]


def ws_gate(cwd: Path, *options: str) -> tuple[int, dict, str]:
    """`ws-gate --stack=local` on site.conf, run in `cwd` as a CI step runs it: its exit code, its verdict.json and
    its output."""
    proc = subprocess.run(
        [str(WS_GATE), "--stack=local", "-q", "--nginx-conf=site.conf", *options],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )
    return proc.returncode, json.loads((cwd / "reports" / "verdict.json").read_text()), proc.stdout + proc.stderr


def working_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    """The team's files in a working folder of their own, with a copy of the production host's /etc/nginx."""
    shutil.copytree(SITES / "prefix", tmp_path / "nginx")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def sarif_fixes_applied(folder: Path) -> dict[str, str]:
    """Each file the SARIF log's fixes change, as their replacements leave it."""
    changes: dict[str, list[dict]] = {}
    for result in json.loads((folder / "reports" / "ws-gate.sarif").read_text())["runs"][0]["results"]:
        for change in (change for fix in result.get("fixes", []) for change in fix["artifactChanges"]):
            changes.setdefault(change["artifactLocation"]["uri"], []).extend(change["replacements"])
    applied = {}
    for name, replacements in changes.items():
        text = (folder / name).read_text()
        for replacement in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
            start, length = replacement["deletedRegion"]["charOffset"], replacement["deletedRegion"]["charLength"]
            text = text[:start] + replacement["insertedContent"]["text"] + text[start + length :]
        applied[name] = text
    return applied


def accepted(command: list[str], cwd: Path) -> str:
    """ "" when `command` (applying the patch from the working folder) succeeds, else what it said."""
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    return "" if proc.returncode == 0 else proc.stdout + proc.stderr


@TWO_RUNS
@pytest.mark.parametrize(("files", "options", "patched", "line"), CASES)
def test_site_patch_applies_and_the_patched_file_passes(tmp_path, files, options, patched, line):
    """The patch names the file at fault relative to the working folder, writes the line the fix needs, applies
    with `git apply --check` and `patch -p1 --dry-run`, and the gate then passes the Nginx families; the verdict
    and every site-file fault say what the gate's own run of the patch showed, and the SARIF log's fixes make
    the same change."""
    folder = working_folder(tmp_path, files)
    code, verdict, output = ws_gate(folder, NGINX_FAMILIES, *options)
    diff = (folder / "reports" / "site.patch").read_text()
    site_faults = [fault for fault in verdict["faults"] if fault["fix"]["kind"] == "SiteEdit"]
    said = "the patch makes site-loads, proxy-upgrade and endpoint pass on nginx "
    added = [text[1:].strip() for text in diff.splitlines() if text.startswith("+") and not text.startswith("+++")]
    assert (code, line in added) == (1, True), output[-3000:]
    assert diff.startswith(f"--- a/{patched}\n+++ b/{patched}\n"), diff
    assert said in verdict["site_patch"]["said"], verdict["site_patch"]
    assert [said in (fault["verified"] or "") for fault in site_faults] == [True] * len(site_faults) != [], site_faults
    assert verdict["patch"] == diff
    assert verdict["timings"]["patch_seconds"] > 0
    assert said in (folder / "reports" / "summary.md").read_text()
    assert accepted(["git", "apply", "--check", "reports/site.patch"], folder) == "", diff
    assert accepted(["patch", "-p1", "--dry-run", "-i", "reports/site.patch"], folder) == "", diff
    fixed_by_sarif = sarif_fixes_applied(folder)
    assert accepted(["patch", "-p1", "-i", "reports/site.patch"], folder) == ""
    assert fixed_by_sarif == {name: (folder / name).read_text() for name in fixed_by_sarif} != {}, fixed_by_sarif
    code, verdict, output = ws_gate(folder, NGINX_FAMILIES, *options)
    statuses = {family: verdict["families"][family]["status"] for family in ("proxy-upgrade", "endpoint")}
    assert (code, statuses) == (0, {"proxy-upgrade": "passed", "endpoint": "passed"}), output[-3000:]
    assert not (folder / "reports" / "site.patch").exists()


@TWO_RUNS
def test_patched_outage_file_passes_the_whole_gate(tmp_path):
    """The outage's site file, patched as the gate says, passes every family the local stack checks."""
    folder = working_folder(tmp_path, {"site.conf": BEFORE_STATE})
    ws_gate(folder, NGINX_FAMILIES)
    assert accepted(["patch", "-p1", "-i", "reports/site.patch"], folder) == ""
    code, verdict, output = ws_gate(folder)
    assert (code, verdict["status"]) == (0, "passed"), output[-3000:]


def without_http_1_1(*args, **kwargs) -> list[str]:
    """A WebSocket location that nginx 1.22 cannot upgrade through: proxy_http_version 1.1 left out."""
    return ORIGINAL_LOCATION(*args, **{**kwargs, "needs_http_1_1": False})


ORIGINAL_LOCATION = snippets.websocket_location


def unverified_offer(tmp_path: Path) -> str | None:
    """What is wrong with the gate's offer for the outage's site file when the block it writes lacks
    proxy_http_version 1.1 (which nginx 1.22 needs): None when it withholds site.patch and says why."""
    site_file = working_folder(tmp_path, {"site.conf": BEFORE_STATE}) / "site.conf"
    contract = load_contract(None)
    gate = GateOptions.local_stub(site_file, contract, tmp_path / "nginx")
    rules = ServiceRules.of(contract)
    check = check_site_file(
        site_file,
        gate.nginx_prefix,
        None,
        ws_path=contract.ws_path,
        trading_address=contract.trading_address,
        version=parse(gate.nginx_version),
        rules=rules,
    )
    faults = [found.report().as_data() for found in failures(lint_site(check))]
    offered = patch.offer(faults, lambda: gate, None, tmp_path, tmp_path / "reports")
    if (tmp_path / "reports" / patch.SITE_PATCH).exists():
        return f"site.patch was written: {offered}"
    if offered is None or not offered["said"].startswith("the gate could not verify a patch: "):
        return f"the verdict does not say the patch was withheld: {offered}"
    if "proxy-upgrade failed" not in offered["said"] or any(fault.get("verified") for fault in faults):
        return f"the verdict does not say what the patched copy failed: {offered}"
    return None


def test_a_patch_nginx_does_not_pass_is_withheld(tmp_path, monkeypatch):
    monkeypatch.setattr(snippets, "websocket_location", without_http_1_1)
    assert unverified_offer(tmp_path) is None


@pytest.mark.parametrize(("target", "mutant"), [pytest.param(*m, id=name) for name, m in LIBRARY_MUTANTS.items()])
def test_gate_mutant_is_caught(tmp_path, monkeypatch, target, mutant):
    """A gate that offers a fix without verifying it writes the broken patch: the check above catches it."""
    monkeypatch.setattr(snippets, "websocket_location", without_http_1_1)
    monkeypatch.setattr(*target, mutant)
    assert unverified_offer(tmp_path) is not None


@pytest.mark.parametrize(
    ("text", "edit", "expected"),
    [
        pytest.param(
            "server {\n    location /ws/ {\n        proxy_http_version 1.0;\n    }\n}\n",
            SiteEdit(Where("f", 3), (snippets.HTTP_1_1,), "proxy_http_version 1.0;"),
            "server {\n    location /ws/ {\n        proxy_http_version 1.1;\n    }\n}\n",
            id="replaces-the-directive",
        ),
        pytest.param(
            "server {\n    location /ws/ {\n        rewrite ^ /x;\n        proxy_pass http://a;\n    }\n}\n",
            SiteEdit(Where("f", 3), (), "rewrite ^ /x;"),
            "server {\n    location /ws/ {\n        proxy_pass http://a;\n    }\n}\n",
            id="drops-the-directive",
        ),
        pytest.param(
            "server {\n  location /ws/realtime {\n    root /x;\n  }\n}\n",
            SiteEdit(
                Where("f", 2), ("location /ws/realtime {", "    proxy_pass http://a;", "}"), "location ... { ... }"
            ),
            "server {\n  location /ws/realtime {\n    proxy_pass http://a;\n  }\n}\n",
            id="replaces-the-whole-block",
        ),
        pytest.param(
            "server {\n\tlisten 80;\n}\n",
            SiteEdit(Where("f", 1), ("location /ws/ {", "    proxy_pass http://a;", "}")),
            "server {\n\tlocation /ws/ {\n\t\tproxy_pass http://a;\n\t}\n\tlisten 80;\n}\n",
            id="into-the-server-with-its-indent",
        ),
    ],
)
def test_edits_land_where_the_finding_means(text, edit, expected):
    assert patch.edited(text, [edit]) == expected


def test_paths_outside_the_working_folder_stay_absolute(tmp_path):
    inside = tmp_path / "site.conf"
    inside.write_text("server {\n}\n")
    made = patch.SitePatch({inside: ("server {\n}\n", "server {\n    listen 80;\n}\n")})
    assert made.diff(tmp_path).startswith("--- a/site.conf\n+++ b/site.conf\n")
    assert made.diff(tmp_path / "elsewhere").startswith(f"--- a/{inside.as_posix().lstrip('/')}\n")
