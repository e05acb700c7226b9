"""The outage replayed: its five faults at once, and any two or three of them together, each named in one run of
`ws-gate`, on the local stack and before a deploy; with the fixes applied, both runs pass.

The before-state: the site file with only `location /` and `location /api/` (selftest/confs/outage-before.conf), a
built bundle that dials ws://<host>:8001/api/v1/ai/ws/chat and sends {"type": "authenticate"}, and a token from
the old generator (snake_case user_id and membership_level, no type, another aud and iss), minted here with the
run's secret."""

import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest

from selftest.deployment import SECRET, deployed_service
from selftest.gate_run import GATE_RUN_LIMIT
from selftest.mutants import GATE_MUTANTS
from ws_gate.client.tokens import TokenFactory
from ws_gate.contract import load_contract
from ws_gate.layout import DEFAULT_SITE
from ws_gate.stacks.local_stack import STUB_SCRIPT as STUB

WS_GATE = Path(sys.executable).parent / "ws-gate"
BEFORE_SITE = Path(__file__).parent / "confs" / "outage-before.conf"
FIVE = ("endpoint", "auth-message", "token-claims", "direct-port", "proxy-upgrade")
# The claims the old generator got wrong, as the token-claims fault names them.
OLD_CLAIMS = ("userId", "membershipLevel", "type", "aud", "iss")
GIVEN_TOKEN_CASE = "test_given_token_has_the_claims_the_service_checks"
DIRECT = "checked at the trading-service directly, because Nginx did not upgrade /ws/realtime"
# Each pair of the five faults stands together in at least one of these runs.
TOGETHER = [
    ("endpoint", "auth-message", "token-claims"),
    ("endpoint", "direct-port", "proxy-upgrade"),
    ("auth-message", "direct-port", "proxy-upgrade"),
    ("token-claims", "direct-port", "proxy-upgrade"),
    ("token-claims", "proxy-upgrade"),  # the fault a failing Nginx used to hide
]
# A token with exactly one claim wrong, as a generator might write it: the claim the verdict must name.
ONE_CLAIM_WRONG = {
    "userId": {"userId": None, "user_id": "6"},
    "membershipLevel": {"membershipLevel": None, "membership_level": "premium"},
    "type": {"type": "refresh"},
    "aud": {"aud": "trademe-frontend"},
    "iss": {"iss": "trademe-api"},
    "exp": {"exp": int(time.time()) - 60},
}
INDEX_HTML = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>TradeMe</title>
    <script type="module" crossorigin src="/assets/index-0utAg3s1.js"></script>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
"""


def built_bundle(workdir: Path, faults: set[str]) -> Path:
    """A Vite-style build of the frontend's WebSocket client with the bundle's faults of `faults`: the outage's
    endpoint, its direct port 8001, its auth type."""
    path = "/api/v1/ai/ws/chat" if "endpoint" in faults else "/ws/realtime"
    origin = (
        '"ws://"+window.location.hostname+":8001"'
        if "direct-port" in faults
        else ('window.location.origin.replace(/^http/,"ws")')
    )
    auth = "authenticate" if "auth-message" in faults else "auth"
    script = (
        f'class a{{constructor(t){{this.config=t,this.ws=null}}connect(){{const e={origin}+"{path}";'
        f'this.ws=new WebSocket(e),this.ws.onopen=()=>{{const i={{type:"{auth}",token:this.config.token}};'
        'this.ws.send(JSON.stringify(i))}}}}new a({token:localStorage.getItem("access_token")}).connect();\n'
    )
    dist = workdir / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX_HTML)
    (dist / "assets" / "index-0utAg3s1.js").write_text(script)
    return dist


def team_token(faults: set[str]) -> str:
    """The team's token: the old generator's when `faults` holds token-claims, else the user-service's."""
    if "token-claims" not in faults:
        return TokenFactory(SECRET, load_contract())()
    now = int(time.time())
    claims = {
        "user_id": 6,
        "email": "trader6@example.com",
        "membership_level": "premium",
        "iat": now,
        "exp": now + 24 * 3600,
        "iss": "trademe-api",
        "aud": "trademe-frontend",
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


@dataclass
class Outcome:
    exit_code: int
    output: str
    verdict: dict

    def failed(self) -> set[str]:
        return {name for name, family in self.verdict["families"].items() if family["status"] == "failed"}


def ws_gate(workdir: Path, *options: str, token: str, env: dict[str, str] | None = None) -> Outcome:
    """`ws-gate OPTIONS` in `workdir`, as a user runs it, with the team's token and the run's secret."""
    proc = subprocess.run(
        [str(WS_GATE), "-q", *options],
        cwd=workdir,
        env={**os.environ, "WS_E2E_TOKEN": token, "WS_E2E_JWT_SECRET": SECRET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=GATE_RUN_LIMIT,
    )
    verdict = workdir / "reports" / "verdict.json"
    return Outcome(proc.returncode, proc.stdout + proc.stderr, json.loads(verdict.read_text()))


def local_run(workdir: Path, faults: set[str], env: dict[str, str] | None = None) -> Outcome:
    """The gate on its local stack (the stub) with the team's artifacts that carry `faults`."""
    site = BEFORE_SITE if "proxy-upgrade" in faults else DEFAULT_SITE
    dist = built_bundle(workdir, faults)
    options = ("--stack=local", f"--frontend-dist={dist}", f"--nginx-conf={site}")
    return ws_gate(workdir, *options, token=team_token(faults), env=env)


def external_run(workdir: Path, faults: set[str]) -> Outcome:
    """The gate before a deploy: Nginx with the team's site file in front of a correct trading-service, given its
    port on the target's host."""
    site = BEFORE_SITE if "proxy-upgrade" in faults else DEFAULT_SITE
    dist = built_bundle(workdir, faults)
    with deployed_service(workdir, site, [sys.executable, str(STUB)], {}) as (url, backend):
        options = (f"--target={url}", f"--backend-port={backend.rsplit(':', 1)[1]}", "--auth-timeout=1")
        return ws_gate(
            workdir,
            "--stack=external",
            *options,
            f"--frontend-dist={dist}",
            f"--nginx-conf={site}",
            token=team_token(faults),
        )


def problems(run: Outcome, faults: set[str]) -> list[str]:
    """What keeps a run from naming each of `faults` as the outage's replay must: FAILED in verdict.json, exit 1,
    the service's families judged (at the service itself when Nginx fails), the old token's claims one by one."""
    found = []
    if run.exit_code != 1:
        found.append(f"exit {run.exit_code}, not 1")
    if not faults <= run.failed():
        found.append(f"not named: {', '.join(sorted(faults - run.failed()))}")
    if run.verdict["families"]["token-claims"]["skipped"]:  # none skipped behind a failing Nginx
        found.append(f"token-claims cases skipped: {run.verdict['families']['token-claims']['skipped']}")
    if "proxy-upgrade" in faults and DIRECT not in run.output:
        found.append(f"no {DIRECT!r}")
    given = [fault for fault in run.verdict["faults"] if fault["cause"].startswith("the given token")]
    if "token-claims" in faults and not (
        given and all(f"{claim}: the token has" in given[0]["cause"] for claim in OLD_CLAIMS)
    ):
        found.append("the old token's claims are not named one by one")
    return found


# What the bundle scan must name for each fault of the bundle: the string found, and the one to write (the fixed
# port dropped, so that the URL keeps the page's own).
BUNDLE_EDITS = {
    "endpoint": ("/api/v1/ai/ws/chat", "/ws/realtime"),
    "auth-message": ("authenticate", "auth"),
    "direct-port": (":8001", ""),
}


def assert_named(run: Outcome, faults: set[str]) -> None:
    assert problems(run, faults) == [], run.output[-3000:]
    edits = {
        (family, fault["fix"]["at"]["file"], fault["fix"]["found"], fault["fix"]["write"])
        for fault in run.verdict["faults"]
        if fault["fix"]["kind"] == "FrontendEdit"
        for family in fault["families"]
    }
    bundle = "assets/index-0utAg3s1.js"
    assert {(family, bundle, *BUNDLE_EDITS[family]) for family in faults & set(BUNDLE_EDITS)} <= edits, edits
    if "token-claims" in faults:
        (given,) = [fault for fault in run.verdict["faults"] if fault["cause"].startswith("the given token")]
        assert '"userId": "6"' in given["fix_summary"], given["fix_summary"]


@pytest.mark.parametrize("run", [local_run, external_run], ids=["local", "external"])
def test_the_five_faults_of_the_outage_are_named_in_one_run(tmp_path, run):
    """The outage's before-state: endpoint, auth-message, token-claims, direct-port and proxy-upgrade FAILED in
    one run, exit 1."""
    assert_named(run(tmp_path, set(FIVE)), set(FIVE))


@pytest.mark.parametrize("run", [local_run, external_run], ids=["local", "external"])
def test_the_fixed_artifacts_pass(tmp_path, run):
    """The production site file, a correct bundle and the user-service's token: exit 0, nothing failed."""
    outcome = run(tmp_path, set())
    assert (outcome.exit_code, outcome.failed()) == (0, set()), outcome.output[-3000:]


def test_each_pair_of_faults_stands_together_somewhere():
    assert {pair for faults in TOGETHER for pair in itertools.combinations(faults, 2)} == set(
        itertools.combinations(FIVE, 2)
    )


@pytest.mark.parametrize("faults", TOGETHER, ids=["+".join(faults) for faults in TOGETHER])
def test_faults_standing_together_are_each_named(tmp_path, faults):
    """Two or three of the outage's faults at once on the local stack: each named in the one run."""
    assert_named(local_run(tmp_path, set(faults)), set(faults))


@pytest.mark.parametrize("mutant", GATE_MUTANTS, ids=[mutant.id for mutant in GATE_MUTANTS])
def test_gate_mutant_fails_the_outage_replay(tmp_path, mutant):
    """A gate that stops at the first failing layer, or takes a wrong-claims JWT for bad input, does not name the
    outage's five faults in one run."""
    with mutant.applied(tmp_path) as env:
        run = local_run(tmp_path, set(FIVE), env=env)
    assert problems(run, set(FIVE)), run.output[-3000:]


@pytest.mark.parametrize("claim", ONE_CLAIM_WRONG)
def test_a_token_with_one_claim_wrong_fails_token_claims_naming_it(tmp_path, claim):
    """The team's token with exactly one claim wrong: token-claims FAILED naming that claim alone, exit 1; the
    case needs no stack, so the run judges the token only."""
    factory = TokenFactory(SECRET, load_contract())
    token = factory.sign(factory.claims(**ONE_CLAIM_WRONG[claim]))
    run = ws_gate(tmp_path, "--stack=local", "--", "-k", GIVEN_TOKEN_CASE, token=token)
    assert (run.exit_code, run.failed()) == (1, {"token-claims"}), run.output[-3000:]
    (named,) = run.verdict["faults"]
    assert named["cause"].count(": the token has") == 1, named["cause"]
    assert f"{claim}: the token has" in named["cause"], named["cause"]


def test_a_token_that_is_no_jwt_is_one_line_and_exit_2(tmp_path):
    """Only a value that is not a JWT at all is bad input: one line naming the option, exit 2."""
    run = ws_gate(tmp_path, "--stack=local", "--", "-k", GIVEN_TOKEN_CASE, token="not-a-jwt")
    assert run.exit_code == 2, run.output[-3000:]
    message = "ws-gate: --token (WS_E2E_TOKEN) is not a JWT"
    assert [line for line in run.output.splitlines() if message in line] != [], run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "not-a-jwt" not in run.output, run.output[-3000:]  # never the value given
