"""Run the gate many times in a row, and twice at once, and check that it never flakes and never
leaves anything behind: no process, temp folder, container or network of its runs.

Usage: python tools/reliability.py [--runs 30] [--stack local] [--busy 2]
(--busy N: N processes spin on the CPU for the whole time, as on a loaded CI machine.)
"""

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_LIMIT = 600
RUN_LABEL = "ws-gate.run"  # on the containers and network of a Docker run (ws_gate/stacks/docker_stack.py)


def gate(stack: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--stack={stack}"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def leftovers(gates: list[tuple[int, str]]) -> list[str]:
    """What the finished gates (their pids and outputs) must not leave: their processes (the stub, Nginx, the
    browser and its driver), work folders (their own and the browser's), containers and networks. On a machine
    others run gates on too, only what is this checkout's or these gates' counts: a gate's processes run in this
    checkout (their working directory), its work folders carry its pid, a Docker run's label the id its output
    names."""
    pids = [pid for pid, _ in gates]
    folders = [f"ws-gate-run-{pid}-" for pid in pids]
    processes = "trading-stub/stub.py|ws-gate-run-|playwright/driver|playwright_chromiumdev_profile"
    found = subprocess.run(["pgrep", "-af", processes], capture_output=True, text=True)
    found_lines = [
        line
        for line in found.stdout.splitlines()
        if "pgrep" not in line and (_runs_here(int(line.split()[0])) or any(folder in line for folder in folders))
    ]
    for pid in pids:
        found_lines += [str(path) for path in Path(tempfile.gettempdir()).glob(f"ws-gate-run-{pid}-*")]
    labels = [label for _, output in gates for label in re.findall(rf"labelled ({RUN_LABEL}=\w+)", output)]
    for listing in (["docker", "ps", "-a"], ["docker", "network", "ls"]):
        for label in labels:
            answer = subprocess.run([*listing, "-q", "--filter", f"label={label}"], capture_output=True, text=True)
            if answer.returncode == 0:
                found_lines += [f"{' '.join(listing[:2])}: {line}" for line in answer.stdout.split()]
    return found_lines


def _runs_here(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cwd").resolve() == ROOT
    return False


@contextlib.contextmanager
def busy(count: int):
    """`count` processes that keep a core each busy, each ending itself after RUN_LIMIT at the latest."""
    spin = f"import time\nend = time.monotonic() + {RUN_LIMIT}\nwhile time.monotonic() < end: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--stack", default="local")
    parser.add_argument("--busy", type=int, default=0, help="processes that keep the CPU busy meanwhile")
    args = parser.parse_args()
    with busy(args.busy):
        return run(args)


def run(args: argparse.Namespace) -> int:
    failures = 0
    for number in range(1, args.runs + 1):
        started = time.perf_counter()
        proc = gate(args.stack)
        output, _ = proc.communicate(timeout=RUN_LIMIT)
        left = leftovers([(proc.pid, output)])
        status = "ok" if proc.returncode == 0 and not left else "FAILED"
        failures += status != "ok"
        print(
            f"run {number:>2}/{args.runs}: {status} in {time.perf_counter() - started:.1f} s, {output.splitlines()[-1]}"
        )
        if status != "ok":
            print(output[-3000:], *left, sep="\n")
    pair = [gate(args.stack), gate(args.stack)]
    outputs = [proc.communicate(timeout=RUN_LIMIT)[0] for proc in pair]
    codes = [proc.returncode for proc in pair]
    left = leftovers([(proc.pid, output) for proc, output in zip(pair, outputs, strict=True)])
    print(f"two gates at once: exit codes {codes}, left behind: {left or 'nothing'}")
    for code, output in zip(codes, outputs, strict=True):
        if code != 0:
            print(output[-3000:])
    failures += codes != [0, 0] or bool(left)
    print(f"{args.runs} runs in a row and one concurrent pair: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
