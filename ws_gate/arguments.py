"""The `ws-gate` command line: its own parser, filled from the table of options (ws_gate/options_table.py) in the
table's groups, with the command's own options, three examples and the exit codes; rich-argparse draws the help.
It checks what it can before pytest starts (an unknown option, a bad choice or number, a --target that is not a
ws:// or wss:// URL) and says so in one line, exit 2; pytest's own arguments pass after `--`."""

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from rich_argparse import RawDescriptionRichHelpFormatter

from ws_gate import __version__
from ws_gate.options_table import GROUPS, OPTIONS, Option

DESCRIPTION = (
    "Proves the browser -> Nginx -> trading-service WebSocket path works, and when it does not, names each fault "
    "with its fix."
)
EPILOG = """examples:
  CI gate:                   ws-gate --nginx-conf deploy/nginx/site.conf --require all
  before a deploy:           ws-gate --stack external --target wss://trade.example.com --nginx-conf site.conf
  after a frontend rebuild:  ws-gate --frontend-dist frontend/dist --nginx-conf deploy/nginx/site.conf

exit codes: 0 the gate passed, 1 it found a fault, 2 a usage or environment error (no verdict).
pytest's own options: ws-gate --pytest-help; pass them after --, as in: ws-gate -- -x -k upgrade"""


class UsageError(Exception):
    """A bad command line, said in one line."""


class HelpFormatter(RawDescriptionRichHelpFormatter):
    group_name_formatter = str  # the groups as the table names them


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message} (ws-gate --help lists the options)")


def target(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"must look like wss://HOST[:PORT] or ws://HOST[:PORT], got {value!r}")
    return value


def at_least(lowest: float, kind: type = int):
    """An argparse type: a number of `kind`, `lowest` or more."""

    def number(value: str):
        try:
            parsed = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {value!r}") from None
        if parsed < lowest:
            raise argparse.ArgumentTypeError(f"must be {lowest:g} or more, got {value!r}")
        return parsed

    return number


CHECKS = {
    "--target": target,
    "--load": at_least(0),
    "--worker-connections": at_least(1),
    "--backend-port": at_least(1),
    "--auth-timeout": at_least(0.1, float),
}
# Set by the command itself: --pytest-report or -vv is --console pytest, else the gate's own verdict.
SET_BY_THE_COMMAND = {"--console"}


METAVARS = {int: "N", float: "SECONDS", Path: "PATH"}


def _help(option: Option) -> str:
    """The table's help, with the option's environment variable and default."""
    shown = [f"env {option.env}"] if option.env else []
    if option.default not in (None, "") and "default" not in option.help:
        shown.append(f"default: {option.default}")
    return (option.help + (f" ({'; '.join(shown)})" if shown else "")).replace("%", "%%")


def parser() -> Parser:
    command = Parser(
        prog="ws-gate",
        usage="ws-gate [OPTIONS] [-- PYTEST_ARGUMENTS]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
        add_help=False,
    )
    groups = {name: command.add_argument_group(name) for name in GROUPS}
    for option in (option for option in OPTIONS if option.name not in SET_BY_THE_COMMAND):
        groups[option.group].add_argument(
            option.name,
            type=CHECKS.get(option.name) or option.type or str,
            choices=option.choices,
            default=argparse.SUPPRESS,  # only what is given is passed on: pytest's parser holds the defaults
            help=_help(option),
            metavar=METAVARS.get(option.type, "VALUE") if option.choices is None else None,
        )
    own = groups["output and reports"]
    own.add_argument(
        "-v", "--verbose", action="count", default=0, help="list the cases under each family (-vv: pytest's report)"
    )
    own.add_argument("-q", "--quiet", action="store_true", help="the verdict only, without the header")
    own.add_argument("--pytest-report", action="store_true", help="pytest's own report, to debug the gate itself")
    own.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: on a terminal, unless NO_COLOR is set",
    )
    own.add_argument("-n", "--jobs", metavar="N", help="run the cases in N processes (pytest-xdist), or auto")
    general = command.add_argument_group("the command")
    general.add_argument("-h", "--help", action="help", help="this help")
    general.add_argument("--pytest-help", action="store_true", help="pytest's help, for the options after --")
    general.add_argument("--version", action="version", version=f"ws-gate {__version__}", help="the gate's version")
    return command


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The command's options and pytest's (those after `--`)."""
    split = argv.index("--") if "--" in argv else len(argv)
    return parser().parse_args(argv[:split]), argv[split + 1 :]


def gate_options(given: argparse.Namespace) -> list[str]:
    """The table's options as given, for pytest's parser."""
    given_options = [option for option in OPTIONS if hasattr(given, option.dest)]
    return [f"{option.name}={getattr(given, option.dest)}" for option in given_options]
