"""The verdict of a gate run from its outcomes by fault family: a row per family, passed / failed / not checked,
with each distinct fix to make in the order the tests ran, for the terminal and as Markdown for CI step
summaries. fixtures/verdict.py collects the outcomes from the tests' reports as
{family: {test id: (outcome, the fixes of a failure or the reason of a skip, whether the test is the family's
valid path)}}, and the faults the failures raised as distinct_faults says."""

from ws_gate.families import FAMILIES
from ws_gate.faults import Report

STACK = "stack"  # the stack itself went away during the run: its row appears only then
NOT_CHECKED = "not checked"


def family_results(outcomes: dict) -> dict[str, dict]:
    """Each family's status (passed, failed, not checked), its counts, its distinct fixes in the order the tests
    ran, and the reason it was not checked. A family whose valid path did not run is not checked, whatever its
    other cases did short of failing."""
    results = {}
    for family in FAMILIES:
        cases = list(outcomes.get(family, {}).values())
        counts = {kind: sum(outcome == kind for outcome, *_ in cases) for kind in ("passed", "failed", "skipped")}
        fixes = list(dict.fromkeys(fix for outcome, detail, _ in cases if outcome == "failed" for fix in detail))
        unproven = next((detail for outcome, detail, valid in cases if valid and outcome == "skipped"), None)
        reason = unproven or next((detail for outcome, detail, _ in cases if outcome == "skipped"), "no test ran")
        status = "failed" if fixes else "passed" if counts["passed"] and unproven is None else NOT_CHECKED
        results[family] = {
            "status": status,
            **counts,
            "fixes": fixes,
            "first_fix": fixes[0] if fixes else None,
            "reason": reason if status == NOT_CHECKED else None,
        }
    return results


def stack_went_away(outcomes: dict) -> str | None:
    """Why the stack under test went away during the run, if a test said so."""
    return next((detail[0] for outcome, detail, _ in outcomes.get(STACK, {}).values() if outcome == "failed"), None)


def distinct_faults(raised: list[tuple[str, str, Report]]) -> list[dict]:
    """Each fault the run's failed tests raised (test id, the test's family, the fault), once: same cause, same
    fix. As verdict.json holds them, in the order they were raised, each with the families it failed and the tests
    that raised it."""
    faults: dict[tuple, dict] = {}
    for test, family, report in raised:
        data = {key: value for key, value in report.as_data().items() if key != "family"}
        entry = faults.setdefault(report.identity, {**data, "families": [], "tests": []})
        if family not in entry["families"]:
            entry["families"].append(family)
        entry["tests"].append(test)
    return list(faults.values())


def one_per_fix(faults: list[dict]) -> list[tuple[dict, list[dict]]]:
    """verdict.json's faults grouped by their fix, in the order they were raised: each fix is shown once, with the
    first fault that needs it and the others' causes (the console and the Markdown summary alike)."""
    groups: dict[str, tuple[dict, list[dict]]] = {}
    for fault in faults:
        first, others = groups.setdefault(fault["fix_summary"], (fault, []))
        if fault is not first:
            others.append(fault)
    return list(groups.values())


def verdict_rows(
    outcomes: dict, titles: dict[str, str], went_away: str | None = None
) -> list[tuple[str, str, list[str]]]:
    """(family, verdict, the distinct fixes or the reason) for each family, in the order of FAMILIES, after the
    stack's own row when it went away during the run."""
    rows = []
    if went_away:
        rows.append(("the stack under test", "WENT AWAY", [went_away]))
    for family, result in family_results(outcomes).items():
        ran = result["passed"] + result["failed"] + result["skipped"]
        if result["status"] == "failed":
            rows.append((titles[family], f"FAILED ({result['failed']} of {ran})", result["fixes"]))
        elif result["status"] == "passed":
            skipped = f", {result['skipped']} not run" if result["skipped"] else ""
            rows.append((titles[family], f"passed ({result['passed']}{skipped})", []))
        else:
            rows.append((titles[family], NOT_CHECKED, [result["reason"]]))
    return rows


def terminal_lines(rows: list[tuple[str, str, list[str]]]) -> list[str]:
    """The rows as aligned columns, each fix or reason past the first on a line of its own."""
    width = max(len(title) for title, _, _ in rows)
    lines = []
    for title, verdict, details in rows:
        first, *more = details or [""]
        lines.append(f"{title:<{width}}  {verdict:<24}  {first}")
        lines += [f"{'':<{width}}  {'':<24}  {detail}" for detail in more]
    return lines


def markdown(rows: list[tuple[str, str, list[str]]], routes: list[dict], faults: list[dict] = ()) -> str:
    """The rows as a Markdown table, each fault once with its fix (verdict.json's `faults`), and the route map
    after them when the run drew one."""
    lines = ["## WebSocket gate verdict", "", "| fault | verdict | fixes / reason |", "| --- | --- | --- |"]
    lines += [
        f"| {title} | {verdict} | {'<br>'.join(detail.replace('|', '/') for detail in details)} |"
        for title, verdict, details in rows
    ]
    if faults:
        lines += ["", "### Faults", ""]
        for fault, others in one_per_fix(faults):
            families = ", ".join(dict.fromkeys(name for each in (fault, *others) for name in each["families"]))
            verified = f" (verified: {fault['verified']})" if fault.get("verified") else ""
            causes = "; ".join(each["cause"] for each in (fault, *others))
            lines.append(f"- **{families}**: {causes}. Fix: `{fault['fix_summary']}`{verified}")
    if routes:
        lines += ["", "### Route map", "", "| route | from | location | WebSocket | verdict |"]
        lines += ["| --- | --- | --- | --- | --- |"]
        lines += [
            f"| `{route['path']}` | {', '.join(route['sources'])} | {route['location'] or 'none'} | "
            f"{'yes' if route['websocket'] else 'no'} | {route['verdict']} |"
            for route in routes
        ]
    return "\n".join(lines) + "\n"
