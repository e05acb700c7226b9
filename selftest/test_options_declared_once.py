"""The gate's options are declared once, as the table OPTIONS of fixtures/options.py that fills its parser (the
"ws-gate" group of `pytest --help`); docs/options.md's table, the Makefile's GATE_OPTIONS and action.yml's inputs
restate them, and each is checked against the parser both ways: an option any of them lacks, or one they name that
the parser does not have, fails a test."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ws_gate.options_table import GROUPS, OPTIONS

ROOT = Path(__file__).resolve().parent.parent
OPTIONS_DOC = ROOT / "docs" / "options.md"
MAKEFILE = ROOT / "Makefile"
ACTION = ROOT / "action.yml"
HELP_LIMIT = 60  # seconds: `pytest --help` loads the plugins only, in about a second

# Options the Makefile's GATE_OPTIONS does not pass, each for a reason.
NOT_IN_MAKEFILE = {
    # Secrets never go on a command line make would echo: JWT_SECRET is exported as WS_E2E_JWT_SECRET instead.
    "--jwt-secret": "exported from JWT_SECRET as the environment variable WS_E2E_JWT_SECRET",
    # A real access token is a secret too: the gate reads it from the environment variable WS_E2E_TOKEN.
    "--token": "a secret: set WS_E2E_TOKEN in the environment",
    # `make load` passes it as --load=$(N) in its own recipe; in GATE_OPTIONS, N (1000 by default for make load)
    # would turn the load probe on in every `make gate`.
    "--load": "passed by `make load` as --load=$(N)",
    # ws-gate sets it itself (the gate's verdict; pytest's report with -vv or --pytest-report) and takes no --console.
    "--console": "set by ws-gate from -vv or --pytest-report",
}
# Options action.yml does not take as inputs, each for a reason.
NOT_IN_ACTION = {
    # Inputs are printed in the workflow's log: secrets reach the action through the step's environment.
    "--jwt-secret": "a secret: the step's env WS_E2E_JWT_SECRET",
    "--token": "a secret: the step's env WS_E2E_TOKEN",
    # The action uploads reports/ and appends the verdict to the job summary; a summary written elsewhere would
    # be left out of the uploaded artifact.
    "--summary": "the summary stays in the uploaded reports/ folder",
    "--reports": "the action uploads the reports/ folder",
    # Under GitHub Actions the reports' paths are relative to the workspace, the checkout's root.
    "--root": "the workspace is the root",
    "--console": "set by ws-gate from -vv or --pytest-report",
}
# action.yml's inputs that configure the action itself, not the gate.
ACTION_ONLY_INPUTS = {"upload-sarif", "artifact-name"}


def _help_sections(text: str) -> dict[str, list[str]]:
    """`pytest --help`, as each section's title and the option strings it lists (`-n`, `--numprocesses`, ...)."""
    sections: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            title = line.rstrip(":")
            sections.setdefault(title, [])
        elif re.match(r"  -", line):
            spelled = line.split("  ")[1]  # "-n numprocesses, --numprocesses=numprocesses"
            sections[title] += [re.split(r"[= ]", part.strip())[0] for part in spelled.split(", ")]
    return sections


@pytest.fixture(scope="module")
def parser_options() -> tuple[list[str], set[str]]:
    """The ws-gate group's options (the section of `pytest --help` that holds --stack), in the parser's order, and
    every option the parser has, run from the checkout as `make gate` runs it."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HELP_LIMIT,
    )
    assert proc.returncode == 0, f"pytest --help failed in {ROOT}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    sections = _help_sections(proc.stdout)
    gate = [options for options in sections.values() if "--stack" in options]
    assert len(gate) == 1, "pytest --help lists no section with --stack: where is the ws-gate group?"
    return gate[0], {option for options in sections.values() for option in options}


def _doc_rows() -> dict[str, tuple[str, str]]:
    """docs/options.md's table: each option with its Make variable cell and its action input cell."""
    rows = {}
    for line in OPTIONS_DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] + ["", ""]
        if line.startswith("|") and re.fullmatch(r"`-[\w-]+`", cells[0]):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


def _makefile_mapping() -> dict[str, str]:
    """GATE_OPTIONS as each option with the Make variable that passes it."""
    text = MAKEFILE.read_text()
    block = re.search(r"^GATE_OPTIONS\s*=((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert block, "the Makefile has no GATE_OPTIONS"
    return {option: variable for option, variable in re.findall(r"(-{1,2}[\w-]+)[= ]\$\((\w+)\)", block.group(1))}


def _action_inputs() -> list[str]:
    inputs = re.search(r"^inputs:\n((?:[ #].*\n|\n)*)", ACTION.read_text(), re.MULTILINE)
    assert inputs, "action.yml has no inputs"
    return re.findall(r"^  ([\w-]+):\s*$", inputs.group(1), re.MULTILINE)


def _action_passes() -> dict[str, str]:
    """The gate step of action.yml: each option it passes with the input that gives it (through its env)."""
    text = ACTION.read_text()
    step = re.search(r"^    - name: Run the gate\n(?:      .*\n|\n)*", text, re.MULTILINE)
    assert step, "action.yml has no step named 'Run the gate'"
    env = dict(re.findall(r"^        (\w+): \$\{\{ inputs\.([\w-]+) \}\}$", step.group(0), re.MULTILINE))
    passed = re.findall(r"(-{1,2}[\w-]+)=\"\$(\w+)\"", step.group(0))
    return {option: env.get(variable, f"${variable} (no input)") for option, variable in passed}


def test_the_table_of_options_is_the_whole_group(parser_options):
    """The ws-gate group holds exactly the rows of fixtures/options.py's OPTIONS, in its order, each in one of its
    GROUPS: no plugin declares an option of its own."""
    gate, _ = parser_options
    outside = [option.name for option in OPTIONS if option.group not in GROUPS]
    assert (gate, outside) == ([option.name for option in OPTIONS], [])


def test_every_option_is_in_the_docs_table(parser_options):
    """Each option of the ws-gate group has its row in docs/options.md."""
    gate, _ = parser_options
    missing = [option for option in gate if option not in _doc_rows()]
    assert missing == [], f"options missing from the table of {OPTIONS_DOC.relative_to(ROOT)}: {missing}"


def test_docs_table_names_only_options_of_the_parser(parser_options):
    """Each row of docs/options.md names an option the parser has."""
    _, every = parser_options
    unknown = [option for option in _doc_rows() if option not in every]
    assert unknown == [], f"{OPTIONS_DOC.relative_to(ROOT)} names options the parser does not have: {unknown}"


def test_docs_table_gives_the_makefile_variable_and_action_input():
    """Each row's Make variable and action input are the ones the Makefile and action.yml really use (none where
    they pass none); the rows of allowlisted options say in words how the value gets there."""
    makefile, action = _makefile_mapping(), _action_passes()
    wrong = []
    for option, (variable, action_input) in _doc_rows().items():
        if option not in NOT_IN_MAKEFILE and variable != (f"`{makefile[option]}`" if option in makefile else ""):
            wrong.append(f"{option}: Make variable {variable or 'none'}, the Makefile's {makefile.get(option, 'none')}")
        if option not in NOT_IN_ACTION and action_input != (f"`{action[option]}`" if option in action else ""):
            wrong.append(f"{option}: action input {action_input or 'none'}, action.yml's {action.get(option, 'none')}")
    assert wrong == [], f"{OPTIONS_DOC.relative_to(ROOT)} disagrees: {wrong}"


def test_every_option_is_passed_by_the_makefile(parser_options):
    """Each option of the ws-gate group has a Make variable in GATE_OPTIONS, unless NOT_IN_MAKEFILE says why not."""
    gate, _ = parser_options
    mapping = _makefile_mapping()
    missing = [option for option in gate if option not in mapping and option not in NOT_IN_MAKEFILE]
    assert missing == [], f"options without a variable in the Makefile's GATE_OPTIONS: {missing}"


def test_makefile_passes_only_options_of_the_parser(parser_options):
    """GATE_OPTIONS passes only options the parser has, each from a variable the Makefile declares."""
    _, every = parser_options
    text = MAKEFILE.read_text()
    mapping = _makefile_mapping()
    unknown = [option for option in mapping if option not in every]
    undeclared = [variable for variable in mapping.values() if not re.search(rf"^{variable} \?=", text, re.MULTILINE)]
    assert (unknown, undeclared) == ([], []), (
        f"the Makefile's GATE_OPTIONS passes options the parser does not have: {unknown}; "
        f"GATE_OPTIONS variables without a `VAR ?=` line in the Makefile: {undeclared}"
    )


def test_every_option_is_an_input_of_the_action(parser_options):
    """Each option of the ws-gate group is an input of action.yml of the same name, passed to ws-gate, unless
    NOT_IN_ACTION says why not."""
    gate, _ = parser_options
    inputs, passes = _action_inputs(), _action_passes()
    expected = [option for option in gate if option not in NOT_IN_ACTION]
    missing = [option for option in expected if option.lstrip("-") not in inputs]
    not_passed = [option for option in expected if passes.get(option) != option.lstrip("-")]
    assert (missing, not_passed) == ([], []), (
        f"options without an input in action.yml: {missing}; "
        f"options that action.yml's 'Run the gate' step does not pass from its input: {not_passed}"
    )


def test_action_passes_only_options_of_the_parser(parser_options):
    """action.yml passes only options the parser has, and each input either is one or configures the action."""
    _, every = parser_options
    unknown = [option for option in _action_passes() if option not in every]
    strays = [name for name in _action_inputs() if f"--{name}" not in every and name not in ACTION_ONLY_INPUTS]
    assert (unknown, strays) == ([], []), (
        f"action.yml passes options the parser does not have: {unknown}; "
        f"action.yml inputs that are neither an option of the gate nor the action's own: {strays}"
    )


@pytest.mark.parametrize(
    ("allowlist", "passed"),
    [
        pytest.param(NOT_IN_MAKEFILE, _makefile_mapping, id="makefile"),
        pytest.param(NOT_IN_ACTION, _action_passes, id="action"),
    ],
)
def test_allowlists_name_only_options_left_out(parser_options, allowlist, passed):
    """An allowlisted option is an option of the parser that really is left out: a stale entry fails."""
    _, every = parser_options
    stale = [option for option in allowlist if option not in every or option in passed()]
    assert stale == [], f"allowlisted options that the parser lacks or that are passed after all: {stale}"
