"""What the gate's plugins print at the end of a run, written here only: the verdict, the route map, the findings
reported without failing, the unmet --require families, and the GitHub annotations. `terminal` is pytest's
terminal reporter (its section and write_line), handed in by the plugin."""

from ws_gate.reports.verdict import terminal_lines


def annotations(terminal, commands: list[str]) -> None:
    """GitHub's workflow commands, which its log turns into annotations on the site file's lines."""
    for command in commands:
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
