"""Benchmark the gate as a user runs it: whole `pytest` processes, timed from outside.

Prints a table and writes reports/bench.json: the warm gate on each stack (median of several runs),
the cold run, the stack start-up, the cost per case, the time to report a broken proxy, and on the local stack
the warm gate on a cached Debian release (RELEASE) against the machine's own nginx.
Usage: python tools/bench.py [--runs N] [--stacks local,docker]
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selftest.mutants import in_location, mutated_site, without  # noqa: E402

RUN_LIMIT = 600
ONE_CASE = "tests/test_proxy_upgrade.py::test_upgrade_answers_101_with_a_valid_accept"
RELEASE = "1.30"  # a release of ws_gate/nginx/releases.py, run from the user's cache


def gate(*options: str) -> tuple[float, int, int]:
    """One gate run: (wall seconds, exit code, cases run)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_LIMIT)
    wall = time.perf_counter() - started
    counts = re.findall(r"(\d+) (passed|failed|error)", proc.stdout)
    return wall, proc.returncode, sum(int(n) for n, _ in counts)


def median_of(runs: int, *options: str) -> dict:
    return summary([gate(*options) for _ in range(runs)])


def paired(runs: int, first: tuple[str, ...], second: tuple[str, ...]) -> tuple[dict, dict]:
    """Two configurations run in turn, so that a machine's changing load weighs on both alike."""
    results = [(gate(*first), gate(*second)) for _ in range(runs)]
    return summary([one for one, _ in results]), summary([two for _, two in results])


def summary(results: list[tuple[float, int, int]]) -> dict:
    walls = [wall for wall, _, _ in results]
    return {
        "median_s": round(statistics.median(walls), 2),
        "min_s": round(min(walls), 2),
        "max_s": round(max(walls), 2),
        "exit_codes": sorted({code for _, code, _ in results}),
        "cases": results[-1][2],
    }


def clear_bytecode() -> None:
    for cache in ROOT.glob("**/__pycache__"):
        if ".venv" not in cache.parts:
            shutil.rmtree(cache)


def bench_stack(stack: str, runs: int, workdir: Path) -> dict:
    option = f"--stack={stack}"
    if stack == "docker":  # cold: the gate's images are built again (the offline base stays)
        listing = ["docker", "images", "-q", "--filter=reference=ws-gate-nginx", "--filter=reference=ws-gate-stub"]
        images = subprocess.run(listing, capture_output=True, text=True).stdout.split()
        subprocess.run(["docker", "rmi", "-f", *images], capture_output=True)
    clear_bytecode()
    cold = gate(option)
    broken_proxy = mutated_site(workdir, in_location(without("proxy_set_header", "Upgrade")))
    if stack == "local":  # the machine's nginx and the cached release, in turn
        warm, release = paired(runs, (option,), (option, f"--nginx-version={RELEASE}"))
        figures = {"warm": warm, "warm_release": release}
    else:
        figures = {"warm": median_of(runs, option)}
    return {
        "cold_s": round(cold[0], 2),
        **figures,
        "startup_one_case": median_of(runs, option, ONE_CASE),
        "broken_proxy": median_of(runs, option, f"--nginx-conf={broken_proxy}"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", default="local")
    args = parser.parse_args()
    figures = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory(prefix="ws-gate-bench-") as workdir:
        for stack in args.stacks.split(","):
            figures[stack] = bench_stack(stack, args.runs, Path(workdir))
    for stack in args.stacks.split(","):
        row = figures[stack]
        warm = row["warm"]
        per_case = (warm["median_s"] - row["startup_one_case"]["median_s"]) / max(warm["cases"] - 1, 1)
        row["per_case_ms"] = round(per_case * 1000, 1)
        print(
            f"{stack}: warm gate {warm['median_s']} s median ({warm['cases']} cases, min {warm['min_s']}, "
            f"max {warm['max_s']}); cold {row['cold_s']} s; start-up + one case "
            f"{row['startup_one_case']['median_s']} s; {row['per_case_ms']} ms per case; broken proxy reported "
            f"in {row['broken_proxy']['median_s']} s (exit {row['broken_proxy']['exit_codes']})"
        )
    if "local" in figures:
        ratio = figures["local"]["warm_release"]["median_s"] / figures["local"]["warm"]["median_s"]
        figures["release_over_machine_warm"] = round(ratio, 2)
        print(f"local, warm: nginx {RELEASE} from the cache / the machine's nginx: x{ratio:.2f}")
    if {"local", "docker"} <= figures.keys():
        ratio = figures["docker"]["warm"]["median_s"] / figures["local"]["warm"]["median_s"]
        figures["docker_over_local_warm"] = round(ratio, 2)
        print(f"docker / local, warm: x{ratio:.2f}")
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "bench.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
