"""Bad input and a broken environment, as an operator meets them: each is one line on stderr naming what failed
and what to do, exit 2, never a traceback. The command runs for real, in a folder holding the bad files, as root
and as a user who cannot write the folder, and the image as such a user too."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selftest.gate_run import GATE_RUN_LIMIT
from selftest.test_install import IMAGE, image_or_skip

WS_GATE = Path(sys.executable).parent / "ws-gate"
NOBODY = 65534
IMAGE_USER = "12345:12345"
CAN_UNSHARE = os.getuid() == 0 and shutil.which("unshare") is not None and shutil.which("mount") is not None

# (id, the command's options, the environment it adds, a fragment its one line must hold)
CASES = [
    ("unknown-option", ["--bogus"], {}, "unrecognized arguments: --bogus"),
    ("target-http", ["--target=http://trade.example.com"], {}, "--target: must look like wss://HOST"),
    ("target-without-host", ["--target=wss://"], {}, "--target: must look like wss://HOST"),
    ("stack-unknown", ["--stack=nowhere"], {}, "--stack: invalid choice: 'nowhere'"),
    ("load-not-a-number", ["--load=many"], {}, "--load: must be a number"),
    ("load-negative", ["--load=-3"], {}, "--load: must be 0 or more"),
    ("backend-port-not-a-number", ["--backend-port=x"], {}, "--backend-port: must be a number"),
    ("auth-timeout-zero", ["--auth-timeout=0"], {}, "--auth-timeout: must be 0.1 or more"),
    ("worker-connections-negative", ["--worker-connections=-1"], {}, "--worker-connections: must be 1 or more"),
    ("origin-policy-unknown", ["--origin-policy=lax"], {}, "--origin-policy: invalid choice: 'lax'"),
    ("site-file-missing", ["--nginx-conf=missing.conf"], {}, "--nginx-conf missing.conf: no such file"),
    ("site-file-is-a-folder", ["--nginx-conf=a-folder"], {}, "--nginx-conf a-folder is a folder"),
    ("bundle-is-a-file", ["--frontend-dist=a-file"], {}, "--frontend-dist a-file: no such folder"),
    ("bundle-missing", ["--frontend-dist=missing-dist"], {}, "--frontend-dist missing-dist: no such folder"),
    ("contract-missing", ["--contract=missing.toml"], {}, "contract file missing.toml: No such file"),
    ("contract-syntax", ["--contract=syntax.toml"], {}, "is not valid TOML: Invalid value (at line 2, column 13)"),
    ("contract-unknown-key", ["--contract=unknown.toml"], {}, "unknown key 'no_such_key'"),
    ("contract-wrong-type", ["--contract=wrong-type.toml"], {}, "auth_timeout must be float, got 'x'"),
    ("nginx-prefix-missing", ["--nginx-prefix=missing-prefix"], {}, "--nginx-prefix missing-prefix: no such folder"),
    ("nginx-main-missing", ["--nginx-main=missing-main.conf"], {}, "--nginx-main missing-main.conf: no such file"),
    (
        "nginx-version-not-a-version",
        ["--nginx-version=latest"],
        {},
        "--nginx-version: give one version like 1.26 or 1.26.3",
    ),
    ("nginx-version-not-debian", ["--nginx-version=1.24"], {}, "not a Debian release the gate runs; choose one of"),
    ("backend-url-not-http", ["--backend-url=ftp://x"], {}, "--backend-url must look like http://HOST:PORT"),
    ("backend-url-without-secret", ["--backend-url=http://127.0.0.1:9"], {}, "--backend-url needs --jwt-secret"),
    ("secret-too-short", ["--jwt-secret=short"], {}, "--jwt-secret must be at least 32 characters"),
    ("secret-too-short-in-env", [], {"WS_E2E_JWT_SECRET": "short"}, "--jwt-secret must be at least 32"),
    ("require-unknown-family", ["--require=nofamily"], {}, "--require: unknown family nofamily"),
    ("families-unknown-family", ["--families=nofamily"], {}, "--families: unknown family nofamily"),
    ("origin-not-a-url", ["--origin=not-a-url"], {}, "--origin must look like https://HOST"),
    ("ca-file-missing", ["--stack=external", "--target=wss://127.0.0.1:9", "--ca-file=missing.pem"], {}, "missing.pem"),
    ("external-without-target", ["--stack=external"], {}, "--stack external needs --target"),
    ("target-unreachable", ["--stack=external", "--target=ws://127.0.0.1:9"], {}, "127.0.0.1:9 is not reachable"),
    ("reports-is-a-file", ["--reports=a-file"], {}, "cannot write the reports folder"),
    ("summary-unwritable", ["--summary=/proc/nowhere/summary.md"], {}, "--summary /proc/nowhere/summary.md: cannot"),
    ("pytest-option-unknown", ["--", "--no-such-pytest-option"], {}, "unrecognized arguments: --no-such-pytest"),
    ("docker-unreachable", ["--stack=docker"], {"DOCKER_HOST": "unix:///nonexistent.sock"}, "no Docker engine answers"),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A working folder with the bad files the cases name."""
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("")
    (tmp_path / "syntax.toml").write_text('ws_path = "/ws/realtime"\nauth_type = \n')
    (tmp_path / "unknown.toml").write_text("no_such_key = 1\n")
    (tmp_path / "wrong-type.toml").write_text('auth_timeout = "x"\n')
    return tmp_path


def _assert_one_line(proc: subprocess.CompletedProcess, fragment: str) -> None:
    lines = proc.stderr.splitlines()
    assert (proc.returncode, len(lines), "Traceback" in proc.stdout + proc.stderr) == (2, 1, False), (
        proc.stdout[-2000:] + proc.stderr[-2000:]
    )
    assert (lines[0].startswith("ws-gate: "), fragment in lines[0]) == (True, True), lines[0]


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "WS_E2E_JWT_SECRET"}
    return subprocess.run(
        argv, cwd=cwd, env={**environment, **(env or {})}, capture_output=True, text=True, timeout=GATE_RUN_LIMIT
    )


@pytest.mark.parametrize(("options", "env", "fragment"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(folder, options, env, fragment):
    stack = [] if any(option.startswith("--stack") for option in options) else ["--stack=local"]
    _assert_one_line(_run([str(WS_GATE), *stack, *options], folder, env), fragment)


@pytest.mark.skipif(not CAN_UNSHARE, reason="not run: hiding nginx needs root and unshare(1)")
def test_nginx_missing_is_one_line_and_exit_2(tmp_path):
    """With no nginx on the machine (an empty file mounted over it, in a mount namespace of the run's own)."""
    empty = tmp_path / "no-nginx"
    empty.write_text("")
    nginx = shutil.which("nginx", path=f"{os.environ['PATH']}:/usr/sbin:/sbin")
    script = f'mount --bind "{empty}" "{nginx}" && exec "{WS_GATE}" --stack=local'
    _assert_one_line(_run(["unshare", "--mount", "sh", "-c", script], tmp_path), "nginx not found")


@pytest.mark.skipif(os.getuid() != 0, reason="not run: running as another user needs root")
def test_a_folder_the_user_cannot_write_is_one_line_and_exit_2(tmp_path):
    """The command run by a user who cannot write the working folder, which root owns."""
    tmp_path.chmod(0o755)
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", str(WS_GATE), "--stack=local"]
    proc = _run(as_nobody, tmp_path)
    _assert_one_line(proc, f"cannot write the reports folder {tmp_path}/reports (Permission denied)")
    assert "pass --reports DIR" in proc.stderr


def test_the_image_as_a_user_who_cannot_write_src_is_one_line_and_exit_2(tmp_path, requires_docker):
    """`docker run --user 12345:12345 -v "$PWD:/src"` on a folder that user cannot write."""
    image_or_skip(requires_docker)
    tmp_path.chmod(0o755)
    argv = ["docker", "run", "--rm", "--user", IMAGE_USER, "-v", f"{tmp_path}:/src", "-w", "/src", "--network", "none"]
    proc = _run([*argv, IMAGE, "--stack=local"], tmp_path)
    _assert_one_line(proc, "cannot write the reports folder /src/reports (Permission denied)")
