"""`make selfcheck`: the gate against every mutant and correct variant of selftest/mutants.py, two at a
time, and a score table. Exit 0 when every mutant fails the test named for it and every variant passes,
else 1. Run it as `python selftest/selfcheck.py` from anywhere."""

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selftest.mutants import CASES, Case

PARALLEL = 2  # gate runs at once: each runs its own Nginx and trading-service


def check(case: Case) -> tuple[bool, str]:
    """Run the gate on `case`'s stack: whether it did what the case expects, and what it did."""
    with tempfile.TemporaryDirectory(prefix=f"ws-gate-{case.id}-") as workdir:
        try:
            return case.verdict(case.run(Path(workdir)))
        except Exception as error:  # a case that cannot even start is a failed row, not a stopped table
            return False, f"error: {error}"


def main() -> int:
    name_width = max(len(case.id) for case in CASES)
    catcher_width = max(len(case.catcher or "") for case in CASES)

    def row(name: str, kind: str, catcher: str, result: str) -> None:
        print(f"{name:<{name_width}}  {kind:<8}  {catcher:<{catcher_width}}  {result}", flush=True)

    row("mutant / variant", "kind", "expected to fail", "result")
    results = []
    with ThreadPoolExecutor(PARALLEL) as pool:
        for case, (ok, what) in zip(CASES, pool.map(check, CASES), strict=True):
            results.append((case, ok))
            row(case.id, case.kind, case.catcher or "(nothing: must pass)", what)
    mutants = [ok for case, ok in results if case.catcher]
    variants = [ok for case, ok in results if not case.catcher]
    print(f"score: {sum(mutants)}/{len(mutants)} mutants caught, {sum(variants)}/{len(variants)} variants passed")
    return 0 if all(mutants) and all(variants) else 1


if __name__ == "__main__":
    sys.exit(main())
