"""The gate installed as a team installs it, outside this checkout: the wheel of `make dist` in a fresh virtualenv,
and the image of `make image`, each run in a folder that holds only a small team repository (a site file, a
contract, a built dist/). Each exits 0 on the correct site file, 1 on a broken one (naming the fault) and 2 on a
missing one, and writes reports/verdict.json in that folder, owned by whoever ran it."""

import json
import os
import shutil
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound

from selftest.deployment import SECRET, deployment
from selftest.gate_run import GATE_RUN_LIMIT, ROOT
from ws_gate import __version__
from ws_gate.stacks.local_stack import STUB_SCRIPT
from ws_gate.stacks.offline_images import impossible

WHEEL = ROOT / "dist" / f"ws_gate-{__version__}-py3-none-any.whl"
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
IMAGE = f"ws-gate:{__version__}"
SELFTEST = ROOT / "selftest"
# As root, the image runs as this other user, to show that the reports belong to the caller.
OTHER_USER = 4242
INSTALL_LIMIT = 300

MISSING = "--nginx-conf deploy/missing.conf: no such file"
# site file, exit code, (status, the proxy-upgrade family's status, the one-line error)
CASES = [
    pytest.param("deploy/site.conf", 0, ("passed", "passed", None), id="correct"),
    pytest.param("deploy/no-upgrade.conf", 1, ("failed", "failed", None), id="broken"),
    pytest.param("deploy/missing.conf", 2, ("error", "not checked", MISSING), id="missing"),
]
UPGRADE_FIX = "proxy_set_header Upgrade $http_upgrade;"


@dataclass
class Run:
    exit_code: int
    output: str
    folder: Path

    def verdict(self) -> dict:
        return json.loads((self.folder / "reports" / "verdict.json").read_text())

    def assert_judged(self, exit_code: int, outcome: tuple) -> None:
        """The exit code, the verdict's status, its proxy-upgrade family and error, and a failure's fix shown."""
        assert self.exit_code == exit_code, self.output[-3000:]
        verdict = self.verdict()
        assert (verdict["status"], verdict["families"]["proxy-upgrade"]["status"], verdict["error"]) == outcome
        assert (UPGRADE_FIX in self.output) == (exit_code == 1), self.output[-3000:]


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


def run(argv: list[str], folder: Path, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=GATE_RUN_LIMIT, env=env)
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


def installed_files(ws_gate: Path) -> dict[str, Path]:
    """Each file the install of ws-gate wrote, as its RECORD names it, with where it is."""
    code = "from importlib.metadata import files\nfor f in files('ws-gate'): print(f, f.locate(), sep='\\t')"
    python = ws_gate.with_name("python")
    listed = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, timeout=60).stdout
    return {name: Path(path) for name, path in (line.split("\t") for line in listed.splitlines())}


def test_the_wheel_installs_only_its_own_package(ws_gate):
    """Every file the install wrote is under ws_gate/, its dist-info or the ws-gate command; it says its version."""
    files = list(installed_files(ws_gate))
    dist_info = f"ws_gate-{__version__}.dist-info/"
    assert "ws_gate/cli.py" in files
    assert [name for name in files if not name.startswith(("ws_gate/", dist_info, "../../../bin/ws-gate"))] == []
    version = subprocess.run([str(ws_gate), "--version"], capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout.strip()) == (0, f"ws-gate {__version__}")


@pytest.mark.parametrize(("site", "exit_code", "outcome"), CASES)
def test_the_installed_wheel_judges_a_team_repository(ws_gate, tmp_path, site, exit_code, outcome):
    """From the team's folder, the installed `ws-gate` gives the exact exit code and writes the verdict there."""
    run([str(ws_gate), *gate_options(site)], team_repository(tmp_path / "team")).assert_judged(exit_code, outcome)


def test_the_installed_wheel_starts_the_docker_stack(ws_gate, tmp_path, requires_docker):
    """The stub and the Docker build files ship in the wheel: the installed gate runs the Docker stack too. The
    stub's wheels it downloads go to the user's cache (an empty one here), and nothing into the package but
    bytecode."""
    options = [*gate_options("deploy/site.conf")[2:], "--stack", "docker"]
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    result = run([str(ws_gate), *options], team_repository(tmp_path / "team"), env)
    assert result.exit_code == 0, result.output[-3000:]
    assert result.verdict()["stack"]["name"] == "docker"
    assert list((cache / "ws-gate" / "stub-wheels").glob("*.whl")), result.output[-3000:]
    listed = installed_files(ws_gate)
    package = listed["ws_gate/__init__.py"].parent
    written = {path for path in package.rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert sorted(map(str, written - set(listed.values()))) == []


def image_or_skip(client: docker.DockerClient) -> None:
    """The image is here; where it cannot be built (not Debian), the image's cases skip, saying why."""
    with suppress(ImageNotFound):
        client.images.get(IMAGE)
        return
    if why := impossible(IMAGE):
        pytest.skip(f"not run: {why}")
    pytest.fail(f"no image {IMAGE}: `make image` builds it")


def docker_run(folder: Path, *options: str, user: str | None = None, network: str = "none") -> Run:
    """The image run in `folder` as a CI job runs it, as `user`."""
    as_user = ["--user", user] if user else []
    mounts = ["-v", f"{folder}:/src", "-w", "/src", "-e", "WS_E2E_JWT_SECRET", "--network", network]
    return run(["docker", "run", "--rm", *as_user, *mounts, IMAGE, *options], folder)


@pytest.mark.parametrize(("site", "exit_code", "outcome"), CASES)
def test_the_image_judges_a_team_repository(tmp_path, site, exit_code, outcome, requires_docker):
    """`docker run` of the image in the team's folder gives the same exit codes, and the reports there belong to
    the user the container ran as."""
    image_or_skip(requires_docker)
    folder = team_repository(tmp_path / "team")
    uid, gid = (os.getuid(), os.getgid()) if os.getuid() else (OTHER_USER, OTHER_USER)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, gid)
    docker_run(folder, *gate_options(site), user=f"{uid}:{gid}").assert_judged(exit_code, outcome)
    assert {(path.stat().st_uid, path.stat().st_gid) for path in (folder / "reports").iterdir()} == {(uid, gid)}


def test_the_image_verifies_a_deployment(tmp_path, monkeypatch, requires_docker):
    """Pre-deploy verification from the image: `--stack external --target` against a deployment it did not start
    (Nginx with the team's site file in front of the stub, on this machine's loopback) passes."""
    image_or_skip(requires_docker)
    folder = team_repository(tmp_path / "team")
    monkeypatch.setenv("WS_E2E_JWT_SECRET", SECRET)
    with deployment(tmp_path, folder / "deploy" / "site.conf", [sys.executable, str(STUB_SCRIPT)], {}) as url:
        options = ["--stack", "external", "--target", url, "--auth-timeout", "1", "--nginx-conf", "deploy/site.conf"]
        result = docker_run(folder, *options, network="host")
    assert result.exit_code == 0, result.output[-3000:]
    assert result.verdict()["stack"]["name"] == "external"
