"""`--nginx-version 1.22,1.26,1.30`: will the site file survive the upgrade? The Nginx families run on each
release (a gate run of its own each, ws_gate/subrun.py, side by side), and one table says, family by version,
what passed and the site file's line where a version differs. Exit 1 when any version fails, 2 when one could not
be run at all."""

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ws_gate.subrun import NGINX_FAMILIES, run_gate

OPTION = "--nginx-version"
# What each version's run sets itself: its release, and its reports in a folder of its own (ws_gate/subrun.py).
OWN_OPTIONS = (OPTION, "--reports", "--summary")
REPORT = "matrix.json"  # in the run's reports folder


def requested(nginx_version: str | None) -> list[str] | None:
    """The versions of a --nginx-version that names several; None when it names one or none."""
    if not nginx_version or "," not in nginx_version:
        return None
    return [version.strip() for version in nginx_version.split(",") if version.strip()]


def main(versions: Sequence[str], options: Sequence[str], reports: Path) -> int:
    """Run the matrix with the gate's other `options`, print its table, write matrix.json into `reports`; the
    gate's exit code."""
    rest = [_absolute(option) for option in options]
    with ThreadPoolExecutor(len(versions)) as pool:
        runs = list(pool.map(lambda version: run_gate([*rest, f"{OPTION}={version}"], NGINX_FAMILIES), versions))
    verdicts = dict(zip(versions, runs, strict=True))
    print("\n".join(table(verdicts)))
    reports.mkdir(parents=True, exist_ok=True)
    (reports / REPORT).write_text(json.dumps(verdicts, indent=2) + "\n")
    return exit_code(verdicts)


def exit_code(verdicts: dict[str, dict]) -> int:
    codes = {verdict.get("exit_code", 2) for verdict in verdicts.values()}
    return 2 if codes - {0, 1} else max(codes, default=0)


def table(verdicts: dict[str, dict]) -> list[str]:
    """One row per family, one column per version (headed by the nginx that ran), and the versions that failed."""
    heads = [_head(version, verdict) for version, verdict in verdicts.items()]
    rows = [[family, *(_cell(verdict, family) for verdict in verdicts.values())] for family in NGINX_FAMILIES]
    widths = [max(len(row[i]) for row in [["family", *heads], *rows]) for i in range(len(heads) + 1)]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in [["family", *heads], *rows]
    ]
    failed = [version for version, verdict in verdicts.items() if verdict.get("exit_code") != 0]
    errors = [f"{version}: {verdict['error']}" for version, verdict in verdicts.items() if verdict.get("error")]
    verdict_line = f"fails on {', '.join(failed)}" if failed else "passes on every version"
    return ["ws-gate: nginx version matrix", *lines, f"ws-gate: the site file {verdict_line}", *errors]


def _head(version: str, verdict: dict) -> str:
    nginx = verdict.get("nginx") or {}
    return nginx.get("label", f"nginx {version}")


def _cell(verdict: dict, family: str) -> str:
    """The family's status on one version, with the site file's line of its first fault there."""
    status = verdict.get("families", {}).get(family, {}).get("status", "error")
    lines = [_site_line(fault) for fault in verdict.get("faults", []) if family in fault.get("families", ())]
    line = next((found for found in lines if found), "")
    return f"{status} at {line}" if line else status


def _site_line(fault: dict) -> str:
    at = fault.get("where") or fault["fix"].get("at")
    return f"{Path(at['file']).name}:{at['line']}" if at and at.get("line") else ""


def _absolute(option: str) -> str:
    """An option whose value is a file or folder here, made absolute: each version runs in a folder of its own."""
    name, equals, value = option.rpartition("=") if option.startswith("--") else ("", "", option)
    if value and Path(value).exists() and not Path(value).is_absolute():
        return f"{name}{equals}{Path(value).resolve()}"
    return option
