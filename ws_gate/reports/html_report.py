"""`reports/report.html`: the verdict document (ci_report.verdict_document) as one page a person opens from CI's
artifacts. Each route is drawn browser -> Nginx location -> trading-service, every hop green or red, with what the
failed checks sent and got; then the families, the fixes, the patch and the timings. The file is self-contained
(inline CSS and SVG, no script, no font, no link), so it opens offline; every text from the document is escaped,
since site-file lines and response bodies come from outside.

A failure belongs to the route whose path its message names (the longest, when several do); one that names none
belongs to the main route, the contract's first, which the gate's live checks dial."""

import json
import os
from html import escape
from pathlib import Path

REPORT_HTML = "report.html"
OK, FAULT = "ok", "fault"
# The diagram: three hops of BOX_WIDTH, their text cut to fit (the whole text is in the box's tooltip and below).
BOX_WIDTH, BOX_HEIGHT, GAP = 250, 74, 60
CHARS_IN_BOX = 31
COUNTS = ("passed", "failed", "skipped")

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 62em; padding: 0 1em; color: #1b1f24; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.status { padding: .5em .8em; border-radius: 4px; color: #fff; font-weight: 600; }
.status.passed { background: #1a7f37; } .status.failed, .status.error { background: #cf222e; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #d0d7de; padding: .3em .6em; }
th { background: #f6f8fa; text-align: left; } td.num { text-align: right; }
tr.passed td.state { color: #1a7f37; } tr.failed td.state { color: #cf222e; font-weight: 600; }
tr.not-checked td.state { color: #9a6700; }
code, pre { font: 12.5px/1.4 ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .7em; white-space: pre-wrap; }
.route { border: 1px solid #d0d7de; border-radius: 6px; padding: .6em 1em; margin: 1em 0; }
.route h3 { margin: .2em 0 .5em; font-size: 1em; }
svg .hop rect { stroke-width: 2; rx: 6; } svg text { font: 12px ui-monospace, monospace; fill: #1b1f24; }
svg text.name { font: 600 13px system-ui, sans-serif; }
svg .hop.ok rect { fill: #dafbe1; stroke: #1a7f37; } svg .hop.fault rect { fill: #ffebe9; stroke: #cf222e; }
svg line { stroke: #57606a; stroke-width: 2; } svg .arrowhead { fill: #57606a; }
.exchange { margin: .4em 0; padding-left: .8em; border-left: 3px solid #cf222e; }
.fix { margin: .2em 0 .8em; } .fix code { background: #dafbe1; padding: .1em .3em; }
.diff .file { font-weight: 600; } .diff .add { color: #1a7f37; } .diff .del { color: #cf222e; }
.diff .at { color: #8250df; }
"""


def write_beside(verdict_json: Path) -> Path:
    """Write report.html next to `verdict_json`, from it, whole or not at all; the page's path."""
    path = verdict_json.with_name(REPORT_HTML)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(page(json.loads(verdict_json.read_text())))
    partial.replace(path)
    return path


def page(document: dict) -> str:
    """The whole HTML page for a verdict document."""
    status = document.get("status") or "error"
    stack = document.get("stack") or {}
    heading = f"ws-gate: {status}, exit {document.get('exit_code')}, stack {stack.get('name') or 'none'}"
    parts = [f'<p class="status {escape(status)}">{escape(heading)}</p>']
    if document.get("error"):
        parts.append(f"<p>The run ended early: <code>{_text(document['error'])}</code></p>")
    if stack.get("went_away"):
        parts.append(f"<p>The stack went away: {_text(stack['went_away'])}</p>")
    parts += [
        _routes(document.get("routes") or [], document.get("failures") or []),
        _families(document.get("families") or {}),
        _fixes(document.get("findings") or [], document.get("failures") or []),
        _patch(document.get("patch")),
        _timings(document.get("timings") or {}, stack),
    ]
    body = "\n".join(part for part in parts if part)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(heading)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>WebSocket gate</h1>\n{body}\n</body>\n</html>\n"
    )


def fix_text(fix) -> str:
    """A fix as one text, whatever its shape: a string, or a dict with `text` and/or `lines` (a list, or one)."""
    if not fix:
        return ""
    if not isinstance(fix, dict):
        return str(fix)
    lines = fix.get("lines") or []
    lines = [str(line) for line in lines] if isinstance(lines, list | tuple) else [str(lines)]
    return "\n".join(part for part in [str(fix.get("text") or ""), *lines] if part)


def _routes_of_failures(routes: list[dict], failures: list[dict]) -> list[list[dict]]:
    """Each route's failures (see the module's docstring)."""
    owned: list[list[dict]] = [[] for _ in routes]
    for failure in failures:
        named = [
            (len(route["path"]), index)
            for index, route in enumerate(routes)
            if route["path"].split("{")[0] in failure.get("message", "")
        ]
        owned[max(named)[1] if named else 0].append(failure)
    return owned


def _routes(routes: list[dict], failures: list[dict]) -> str:
    if not routes:
        return (
            "<h2>Routes</h2>\n<p>No route map: the run had no site file to read, or ended before it.</p>\n"
            + _exchanges(failures)
        )
    sections = [
        _route(route, owned) for route, owned in zip(routes, _routes_of_failures(routes, failures), strict=True)
    ]
    return "<h2>Routes</h2>\n" + "\n".join(sections)


def _route(route: dict, failures: list[dict]) -> str:
    """One route: its diagram, its verdict, and what each of its failed checks sent and got."""
    sources = ", ".join(route.get("sources") or [])
    location = route.get("location")
    browser = OK if "contract" in (route.get("sources") or []) else FAULT
    nginx = OK if location and route.get("websocket") else FAULT
    service = OK if nginx == OK and not failures else FAULT
    if not location:
        landing = "Nginx answers 404, not 101"
    else:
        landing = "carries the upgrade" if nginx == OK else "does not carry the upgrade"
    if nginx == FAULT:
        reached = "not reached as a WebSocket"
    else:
        reached = "answers 101, authenticates" if service == OK else f"{len(failures)} check(s) failed"
    hops = [
        (browser, "browser", [route["path"], f"from {sources}"]),
        (nginx, "Nginx location", [location or "no location", landing]),
        (service, "trading-service", [reached]),
    ]
    return (
        f'<section class="route" data-path="{escape(route["path"])}">\n'
        f"<h3><code>{escape(route['path'])}</code>: {_text(route.get('verdict'))}</h3>\n"
        f"{_diagram(hops)}\n<p>Nginx location: <code>{escape(location or 'none')}</code></p>\n{_exchanges(failures)}\n"
        "</section>"
    )


def _exchanges(failures: list[dict]) -> str:
    """What each failed check sent and got, as its message says, under its family and test."""
    return "\n".join(
        f'<div class="exchange"><b>{_text(failure.get("family"))}</b> <code>{_text(failure.get("test"))}</code>'
        f"<br>{_text(failure.get('message'))}</div>"
        for failure in failures
    )


def _text(value) -> str:
    """A value of the document as escaped text; nothing for a missing one."""
    return "" if value is None else escape(str(value))


def _cut(text: str) -> str:
    """`text` cut to fit a box, keeping its end (a file:line's line number, a path's last segment)."""
    return text if len(text) <= CHARS_IN_BOX else "…" + text[-(CHARS_IN_BOX - 1) :]


def _diagram(hops: list[tuple[str, str, list[str]]]) -> str:
    width = len(hops) * BOX_WIDTH + (len(hops) - 1) * GAP
    drawn = []
    for index, (state, name, lines) in enumerate(hops):
        x = index * (BOX_WIDTH + GAP)
        texts = "".join(
            f'<text x="{x + 10}" y="{40 + 16 * row}">{escape(_cut(line))}</text>' for row, line in enumerate(lines)
        )
        drawn.append(
            f'<g class="hop {state}" data-hop="{escape(name)}"><title>{escape(" | ".join([name, *lines]))}</title>'
            f'<rect x="{x + 1}" y="1" width="{BOX_WIDTH - 2}" height="{BOX_HEIGHT - 2}"/>'
            f'<text class="name" x="{x + 10}" y="20">{escape(name)}</text>{texts}</g>'
        )
        if index:
            end = x - 4
            drawn.append(
                f'<line x1="{end - GAP + 8}" y1="{BOX_HEIGHT / 2}" x2="{end - 8}" y2="{BOX_HEIGHT / 2}"/>'
                f'<path class="arrowhead" d="M{end - 10},{BOX_HEIGHT / 2 - 6} L{end},{BOX_HEIGHT / 2} '
                f'L{end - 10},{BOX_HEIGHT / 2 + 6} Z"/>'
            )
    return (
        f'<svg viewBox="0 0 {width} {BOX_HEIGHT}" width="100%" role="img" '
        f'aria-label="browser to Nginx to trading-service">{"".join(drawn)}</svg>'
    )


def _families(families: dict) -> str:
    if not families:
        return ""
    rows = []
    for name, family in families.items():
        status = family.get("status", "")
        shown = "FAILED" if status == "failed" else status
        note = family.get("reason") if status == "not checked" else fix_text(family.get("first_fix"))
        rows.append(
            f'<tr class="{escape(status.replace(" ", "-"))}" data-family="{escape(name)}">'
            f"<td>{escape(name)}</td><td>{_text(family.get('title'))}</td>"
            f'<td class="state">{escape(shown)}</td>'
            + "".join(f'<td class="num">{_text(family.get(count))}</td>' for count in COUNTS)
            + f"<td>{_text(note)}</td></tr>"
        )
    head = "".join(f"<th>{column}</th>" for column in ("family", "checks", "verdict", *COUNTS, "reason or fix"))
    return f"<h2>Families</h2>\n<table>\n<tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>"


def _fixes(findings: list[dict], failures: list[dict]) -> str:
    """Each distinct fix once: the site file's findings at their line (with their level when it is not an error),
    then the failed checks' own fixes."""
    seen: dict[str, list[str]] = {}
    for finding in findings:
        text = fix_text(finding.get("fix"))
        if text:
            level = "" if finding.get("level") == "error" else f" ({finding.get('level')})"
            where = f"{finding.get('file')}:{finding.get('line')}"
            seen.setdefault(text, []).append(f"{where}: {finding.get('message')}{level}")
    for failure in failures:
        text = fix_text(failure.get("fix"))
        if text:
            seen.setdefault(text, []).append(f"{failure.get('family')}: {failure.get('test')}")
    if not seen:
        return ""
    items = "\n".join(
        f'<li class="fix"><pre><code>{escape(text)}</code></pre>'
        + "".join(f"<div>{escape(why)}</div>" for why in dict.fromkeys(whys))
        + "</li>"
        for text, whys in seen.items()
    )
    return f"<h2>Fixes</h2>\n<ol>\n{items}\n</ol>"


def _patch(patch) -> str:
    if not patch:
        return ""
    lines = "\n".join(f'<span class="{_diff_kind(line)}">{escape(line)}</span>' for line in str(patch).splitlines())
    return f'<h2>Patch</h2>\n<pre class="diff"><code>{lines}</code></pre>'


def _diff_kind(line: str) -> str:
    if line.startswith(("+++ ", "--- ")):
        return "file"
    return {"+": "add", "-": "del", "@": "at"}.get(line[:1], "context")


def _timings(timings: dict, stack: dict) -> str:
    rows = [(key.replace("_", " "), value) for key, value in timings.items()]
    if stack.get("start_seconds") is not None:
        rows.append(("stack start seconds", stack["start_seconds"]))
    if not rows:
        return ""
    cells = "\n".join(f"<tr><th>{escape(key)}</th><td>{_text(value)}</td></tr>" for key, value in rows)
    return f"<h2>Timings</h2>\n<table>\n{cells}\n</table>"
