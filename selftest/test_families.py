"""One table of fault families (ws_gate/families.py): every fault a test or a check names is in it."""

import ast
from pathlib import Path

from ws_gate.bundle import RULES
from ws_gate.families import FAMILIES
from ws_gate.nginx import checks

TESTS = Path(__file__).parents[1] / "tests"


def fault_markers() -> list[tuple[str, str]]:
    """Every `pytest.mark.fault(name)` in tests/ that names its family, as (file:line, name): on a module, a test
    or a parameter. A marker that takes its family from a rule table is checked with that table."""
    return [
        (f"{path.name}:{node.lineno}", node.args[0].value)
        for path in sorted(TESTS.glob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "pytest.mark.fault"
        and isinstance(node.args[0], ast.Constant)
    ]


def test_every_fault_marker_names_a_family_of_the_table():
    """A test's fault marker that names a family the table lacks fails here, not silently in the verdict."""
    markers = fault_markers()
    assert len(markers) > len(FAMILIES), markers  # every test module has one
    assert [(where, name) for where, name in markers if name not in FAMILIES] == []


def test_every_family_of_the_table_has_a_test():
    """Each family of the table is guarded by at least one test of tests/."""
    assert set(FAMILIES) <= {name for _, name in fault_markers()}


def test_every_bundle_rule_names_a_family_of_the_table():
    """The frontend's bundle findings are tagged with families of the table too."""
    assert {rule.fault for rule in RULES.values()} <= set(FAMILIES)


def test_every_static_check_names_a_family_of_the_table():
    """The static check's rules (ws_gate/nginx/checks), which mark tests/test_site_file.py's cases, too."""
    assert {rule.family for rule in checks.rules_for(["X-Custom"])} <= set(FAMILIES)
