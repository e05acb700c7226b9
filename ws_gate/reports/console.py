"""What the gate writes to the terminal, written here only. Under pytest's own report (--console pytest): the
verdict, the route map, the findings reported without failing, the unmet --require families and the GitHub
annotations, through pytest's terminal reporter (its section and write_line), handed in by the plugin. Under the
gate's own console (ws-gate's default): a short header, a progress line on a terminal, the verdict and the last
line, from the run's verdict.json document; and the command's one-line errors."""

import os
import re
import sys

from rich.console import Console
from rich.text import Text

from ws_gate.reports.verdict import NOT_CHECKED, one_per_fix, terminal_lines


def annotations(terminal, commands: list[str]) -> None:
    """GitHub's workflow commands, which its log turns into annotations on the site file's lines: through pytest's
    terminal reporter, or the gate's own console."""
    for command in commands:
        if isinstance(terminal, Console):
            terminal.print(command, markup=False, highlight=False)
        else:
            terminal.write_line(command)


def unmet_requirements(terminal, reasons: list[str]) -> None:
    for reason in reasons:
        terminal.write_line(f"ws-gate: --require: {reason}", red=True)


def verdict(terminal, rows: list[tuple[str, str, list[str]]], routes: list[dict]) -> None:
    """The verdict's rows, then the route map when the run drew one."""
    terminal.section("ws-gate verdict")
    for line in terminal_lines(rows):
        terminal.write_line(line)
    if routes:
        terminal.section("ws-gate route map")
        for route in routes:
            terminal.write_line(route["line"])


def findings(terminal, lines: list[str]) -> None:
    """What cases reported without failing (advice, information, security findings)."""
    if lines:
        terminal.section("ws-gate findings (reported, not failed)")
        for line in lines:
            terminal.write_line(line)


# The gate's own console (ws-gate's default, --console verdict): the verdict as a person reads it, written from the
# run's verdict.json document, with rich for colour on a terminal only (NO_COLOR and --color never turn it off).

EXIT_MEANING = {
    0: "exit 0: the gate passed",
    1: "exit 1: the gate found a fault",
    2: "exit 2: a usage or environment error, no verdict",
}
TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# An HTML body as the reasons quote it: to its end, or to the mark of its cut ("... (175 chars)'").
HTML = re.compile(r"'?<(?:!doctype|html)\b.*?(?:\.\.\. \(\d+ chars\)'|</html>(?:\\r|\\n|\s)*'|$)", re.I | re.S)


def screen(color: str = "auto", file=None) -> Console:
    """The console the verdict is written to: standard output, styled on a terminal only, or with --color always;
    never with --color never or NO_COLOR set."""
    plain = color == "never" or bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file or sys.stdout,
        force_terminal={"always": True, "never": False}.get(color),
        color_system=None if plain else "auto",  # none: no styles at all, bold neither
        highlight=False,
        soft_wrap=True,
    )


def short_reason(reason: str) -> str:
    """A not-checked reason on one line: an HTML body cut to its title."""
    reason = " ".join(reason.split())
    html = HTML.search(reason)
    if html:
        title = TITLE.search(html.group(0))
        page = f"an HTML page '{title.group(1).strip()}'" if title else "an HTML page"
        reason = reason[: html.start()] + page + reason[html.end() :]
    return reason


def header(out: Console, facts: list[str]) -> None:
    for line in facts:
        out.print(line, style="dim", markup=False)


def progress(out: Console, done: int, total: int | None, family: str) -> None:
    """The live progress line, redrawn in place, on a terminal only (not in a CI log, even with --color always)."""
    if out.file.isatty():
        of = f" of {total}" if total else ""
        out.file.write(f"\r\x1b[2K{done}{of} cases, {family}")
        out.file.flush()


def _fault(out: Console, fault: dict, others: list[dict]) -> None:
    families = ", ".join(dict.fromkeys(name for each in (fault, *others) for name in each["families"]))
    out.print(Text.assemble(("FAULT ", "bold red"), (f"[{families}] ", "red"), fault["cause"]))
    for other in others:
        out.print(f"  also: {other['cause']}", markup=False)
    for label, value in (("sent", "; ".join(fault.get("sent") or [])), ("got", short_reason(fault.get("got") or ""))):
        if value:
            out.print(f"  {label + ':':<5} {value}", markup=False)
    if fault.get("where"):
        out.print(f"  at:   {_where(fault['where'])}", markup=False)
    fix, verified = fault["fix"], fault.get("verified")
    block = fix.get("write") if fix.get("kind") == "SiteEdit" and len(fix.get("write") or []) > 1 else None
    summary = fault["fix_summary"]
    if block:  # the block itself follows: the summary names only where it goes
        summary = (
            f"replace `{fix['replaces']}` at {_where(fix['at'])} with:"
            if fix.get("replaces")
            else (f"add to the server block at {_where(fix['at'])}:")
        )
    mark = (f"  (verified: {verified})", "bold green") if verified else ""
    out.print(Text.assemble("  fix:  ", (summary, "green"), mark))
    for line in block or []:
        out.print(f"        {line}", style="green", markup=False)


def _where(where: dict) -> str:
    if where.get("line") is not None:
        return f"{where['file']}:{where['line']}"
    return f"{where['file']} at offset {where['offset']}" if where.get("offset") is not None else where["file"]


def verdict_screen(
    out: Console, document: dict, notes: list[str], skips: dict[str, list[str]], cases: dict[str, list[str]]
) -> None:
    """The verdict: each fault once with its fix, the run's notes, the families that passed on one line, and one
    line per distinct reason a family was not checked. `skips` is each family's skipped cases' reasons, `cases`
    each family's case lines, shown under it with -v (empty without)."""
    if document.get("error"):
        return
    families = document.get("families") or {}
    for fault, others in one_per_fix(document.get("faults") or []):
        _fault(out, fault, others)
    failed_without_fault = [
        failure for failure in document.get("failures") or [] if not failure.get("fix") and failure["family"] != "stack"
    ]
    for failure in failed_without_fault:
        out.print(Text.assemble(("FAILED ", "bold red"), f"[{failure['family']}] {failure['message']}"))
    if document["stack"].get("went_away"):
        out.print(Text.assemble(("STACK ", "bold red"), document["stack"]["went_away"]))
    for note in notes:
        out.print(f"note: {note}", markup=False)
    passed = [f"{name} ({result['passed']})" for name, result in families.items() if result["status"] == "passed"]
    if passed:
        out.print(Text.assemble(("passed: ", "bold green"), ", ".join(passed)))
    reasons: dict[str, list[str]] = {}
    for name, result in families.items():
        if result["status"] == NOT_CHECKED:
            for reason in skips.get(name) or [result["reason"] or "no test ran"]:
                reasons.setdefault(short_reason(reason), []).append(name)
    for reason, names in reasons.items():
        counted = ", ".join(f"{name} ({names.count(name)})" for name in dict.fromkeys(names))
        out.print(Text.assemble(("not checked: ", "yellow"), f"{counted}: {reason}"))
    for name, lines in cases.items():
        out.print(f"{name}:", style="bold", markup=False)
        for line in lines:
            out.print(f"  {line}", markup=False)


def end_progress(out: Console) -> None:
    """The progress line cleared, before the verdict takes its place."""
    if out.file.isatty():
        out.file.write("\r\x1b[2K")


def last_line(out: Console, document: dict, written: list[str]) -> None:
    """The counts, the report files written, the time, and what the exit code means."""
    families = (document.get("families") or {}).values()
    counts = {status: sum(result["status"] == status for result in families) for status in ("failed", "passed")}
    unchecked = sum(result["status"] == NOT_CHECKED for result in families)
    seconds = (document.get("timings") or {}).get("total_seconds")
    parts = [
        f"{len(document.get('faults') or [])} faults",
        f"families: {counts['failed']} failed, {counts['passed']} passed, {unchecked} not checked",
        f"reports: {', '.join(written)}" if written else "",
        f"{seconds:.1f} s" if seconds is not None else "",
        EXIT_MEANING[document["exit_code"]],
    ]
    style = {0: "bold green", 1: "bold red"}.get(document["exit_code"], "bold yellow")
    out.print(" · ".join(part for part in parts if part), style=style, markup=False)


def error_line(message: str) -> None:
    """A usage or environment error: one line on standard error."""
    print(f"ws-gate: {message.removeprefix('ws-gate: ')}", file=sys.stderr)


# pytest's usage error, as its parser writes it: "python -m pytest: error: unrecognized arguments: --x".
PYTEST_USAGE = re.compile(r"^\S.*pytest: error: (.+)$", re.MULTILINE)


def pytest_errors(text: str) -> str | None:
    """pytest's standard error under the gate's console, said in one line on this one: the gate's own lines as
    they are (an exit at configure time loses pytest's "Exit: "), pytest's usage error as its `error:` line, a
    traceback of the gate itself as its last line. The first error said, for verdict.json."""
    lines = [line.removeprefix("Exit: ") for line in text.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("ws-gate: ")]
    usage = PYTEST_USAGE.search(text)
    if not said and usage:
        said = [f"ws-gate: pytest after --: {usage.group(1)} (ws-gate --pytest-help lists pytest's options)"]
    elif not said and "Traceback" in text:
        said = [f"ws-gate: the gate itself failed: {lines[-1]}; ws-gate --pytest-report shows where"]
    elif not said:
        said = lines
    for line in said:
        print(line, file=sys.stderr)
    return said[0].removeprefix("ws-gate: ") if said else None
