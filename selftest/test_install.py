"""The gate installed as a team installs it, outside this checkout: the wheel of `make dist` in a fresh virtualenv,
and the image of `make image`, each run in a folder that holds only a small team repository (a site file, a
contract, a built dist/). Each exits 0 on the correct site file, 1 on a broken one (naming the fault) and 2 on a
missing one, and writes reports/verdict.json in that folder, owned by whoever ran it."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from selftest.gate_run import GATE_RUN_LIMIT, ROOT
from ws_gate import __version__

WHEEL = ROOT / "dist" / f"ws_gate-{__version__}-py3-none-any.whl"
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
IMAGE = f"ws-gate:{__version__}"
SELFTEST = ROOT / "selftest"
# As root, the image runs as this other user, to show that the reports belong to the caller.
OTHER_USER = 4242
INSTALL_LIMIT = 300

# site file, exit code, what the output must name
CASES = [
    pytest.param("deploy/site.conf", 0, "passed", id="correct"),
    pytest.param("deploy/no-upgrade.conf", 1, "proxy_set_header Upgrade $http_upgrade;", id="broken"),
    pytest.param("deploy/missing.conf", 2, "deploy/missing.conf", id="missing"),
]


@dataclass
class Run:
    exit_code: int
    output: str
    folder: Path

    def verdict(self) -> dict:
        return json.loads((self.folder / "reports" / "verdict.json").read_text())


def team_repository(folder: Path) -> Path:
    """A team's repository: its site files, its contract (pings every 55 s) and its built frontend."""
    (folder / "deploy").mkdir(parents=True)
    shutil.copy(ROOT / "docker" / "nginx" / "trademe.conf", folder / "deploy" / "site.conf")
    shutil.copy(SELFTEST / "confs" / "upgrade-missing.conf", folder / "deploy" / "no-upgrade.conf")
    shutil.copy(SELFTEST / "contracts" / "ping-every-55s.toml", folder / "ws-contract.toml")
    shutil.copytree(SELFTEST / "bundles" / "good-esbuild", folder / "dist")
    return folder


def gate_options(site: str) -> list[str]:
    return ["--stack", "local", "--nginx-conf", site, "--contract", "ws-contract.toml", "--frontend-dist", "dist"]


def run(argv: list[str], folder: Path) -> Run:
    proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=GATE_RUN_LIMIT)
    return Run(proc.returncode, proc.stdout + proc.stderr, folder)


@pytest.fixture(scope="module")
def ws_gate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ws-gate` of the wheel, installed into a fresh virtualenv from the pinned requirements' wheels."""
    if not WHEEL.exists() or not (WHEELHOUSE / "requirements.txt").exists():
        pytest.fail(f"{WHEEL.relative_to(ROOT)} or the wheelhouse is missing: `make dist wheelhouse` builds them")
    venv = tmp_path_factory.mktemp("install") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_LIMIT)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-index"]
    subprocess.run([*pip, "--find-links", str(WHEELHOUSE), str(WHEEL)], check=True, timeout=INSTALL_LIMIT)
    return venv / "bin" / "ws-gate"


def test_the_wheel_installs_only_its_own_package(ws_gate):
    """The installed distribution adds one top-level name, ws_gate, and says its version."""
    python = ws_gate.with_name("python")
    code = "from importlib.metadata import distribution as d; print(d('ws-gate').read_text('top_level.txt'))"
    top_level = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert top_level.split() == ["ws_gate"]
    version = subprocess.run([str(ws_gate), "--version"], capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout.strip()) == (0, f"ws-gate {__version__}")


@pytest.mark.parametrize(("site", "exit_code", "named"), CASES)
def test_the_installed_wheel_judges_a_team_repository(ws_gate, tmp_path, site, exit_code, named):
    """From the team's folder, the installed `ws-gate` gives the exact exit code and writes the verdict there."""
    result = run([str(ws_gate), *gate_options(site)], team_repository(tmp_path / "team"))
    assert result.exit_code == exit_code, result.output[-3000:]
    assert result.verdict()["exit_code"] == exit_code
    assert named in result.output, result.output[-3000:]


def docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not docker_answers(), reason="no Docker engine answers: the Docker stack needs one")
def test_the_installed_wheel_starts_the_docker_stack(ws_gate, tmp_path):
    """The stub and the Docker build files ship in the wheel: the installed gate runs the Docker stack too."""
    options = [*gate_options("deploy/site.conf")[2:], "--stack", "docker"]
    result = run([str(ws_gate), *options], team_repository(tmp_path / "team"))
    assert result.exit_code == 0, result.output[-3000:]
    assert result.verdict()["stack"]["name"] == "docker"


@pytest.mark.skipif(not docker_answers(), reason="no Docker engine answers: the image's cases need one")
@pytest.mark.parametrize(("site", "exit_code", "named"), CASES)
def test_the_image_judges_a_team_repository(tmp_path, site, exit_code, named):
    """`docker run` of the image in the team's folder gives the same exit codes, and the reports there belong to
    the user the container ran as."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30).returncode != 0:
        pytest.fail(f"no image {IMAGE}: `make image` builds it")
    folder = team_repository(tmp_path / "team")
    uid, gid = (os.getuid(), os.getgid()) if os.getuid() else (OTHER_USER, OTHER_USER)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, gid)
    docker_run = ["docker", "run", "--rm", "--user", f"{uid}:{gid}", "-v", f"{folder}:/src", "-w", "/src", IMAGE]
    result = run([*docker_run, *gate_options(site)], folder)
    assert result.exit_code == exit_code, result.output[-3000:]
    assert result.verdict()["exit_code"] == exit_code
    assert named in result.output, result.output[-3000:]
    assert {(path.stat().st_uid, path.stat().st_gid) for path in (folder / "reports").iterdir()} == {(uid, gid)}
