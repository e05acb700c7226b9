"""Run the gate many times in a row, and twice at once, and check that it never flakes and never
leaves anything behind: no process, temp folder, container or network of its runs.

Usage: python tools/reliability.py [--runs 30] [--stack local] [--busy 2]
(--busy N: N processes spin on the CPU for the whole time, as on a loaded CI machine.) Each run is the gate's own
command, as `make gate` runs it; the whole output of a failed run goes to reports/reliability/.
"""

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from ws_gate import processes

ROOT = Path(__file__).resolve().parent.parent
RUN_LIMIT = 600
RUN_LABEL = "ws-gate.run"  # on the containers and network of a Docker run (ws_gate/stacks/docker_stack.py)


KEPT = ROOT / "reports" / "reliability"


def gate(stack: str) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("ws-gate")), f"--stack={stack}", "--", "-p", "no:cacheprovider"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def keep(name: str, output: str) -> Path:
    """A failed run's whole output, for the operator to read what was sent and what came back."""
    KEPT.mkdir(parents=True, exist_ok=True)
    path = KEPT / f"{name}.txt"
    path.write_text(output)
    return path.relative_to(ROOT)


def leftovers(before: set[Path], outputs: list[str]) -> list[str]:
    """What the finished gates (their outputs) must not leave: their processes (the stub, Nginx, the browser and
    its driver), work folders (their own and the browser's), containers and networks. On a machine others run
    gates on too, only what is this checkout's counts: a gate's processes run in this checkout (their working
    directory), its work folders appeared since `before` and belong to no gate running elsewhere, a Docker run's
    label the id its output names."""
    folders = processes.left_work_folders(before, ROOT)
    pattern = "trading-stub/stub.py|ws-gate-run-|playwright/driver|playwright_chromiumdev_profile"
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    found_lines = [
        line
        for line in found.stdout.splitlines()
        if "pgrep" not in line
        and (processes.runs_in(int(line.split()[0]), ROOT) or any(folder.name in line for folder in folders))
    ]
    found_lines += [str(folder) for folder in folders]
    labels = [label for output in outputs for label in re.findall(rf"labelled ({RUN_LABEL}=\w+)", output)]
    for listing in (["docker", "ps", "-a"], ["docker", "network", "ls"]):
        for label in labels:
            answer = subprocess.run([*listing, "-q", "--filter", f"label={label}"], capture_output=True, text=True)
            if answer.returncode == 0:
                found_lines += [f"{' '.join(listing[:2])}: {line}" for line in answer.stdout.split()]
    return found_lines


@contextlib.contextmanager
def busy(count: int):
    """`count` processes that keep a core each busy for the whole batch; each ends itself once this process is
    gone, so that a killed batch leaves none spinning."""
    spin = f"import os\nwhile os.getppid() == {os.getpid()}: pass"
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
        started, before = time.perf_counter(), processes.work_folders()
        proc = gate(args.stack)
        output, _ = proc.communicate(timeout=RUN_LIMIT)
        left = leftovers(before, [output])
        status = "ok" if proc.returncode == 0 and not left else "FAILED"
        failures += status != "ok"
        print(
            f"run {number:>2}/{args.runs}: {status} in {time.perf_counter() - started:.1f} s, {output.splitlines()[-1]}"
        )
        if status != "ok":
            print(f"  the whole output: {keep(f'run-{number:02}', output)}", *left, sep="\n")
    before = processes.work_folders()
    pair = [gate(args.stack), gate(args.stack)]
    outputs = [proc.communicate(timeout=RUN_LIMIT)[0] for proc in pair]
    codes = [proc.returncode for proc in pair]
    left = leftovers(before, outputs)
    print(f"two gates at once: exit codes {codes}, left behind: {left or 'nothing'}")
    for number, (code, output) in enumerate(zip(codes, outputs, strict=True), 1):
        if code != 0:
            print(f"  the whole output: {keep(f'pair-{number}', output)}")
    failures += codes != [0, 0] or bool(left)
    print(f"{args.runs} runs in a row and one concurrent pair: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
