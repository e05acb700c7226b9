"""The stacks and the library under them import neither pytest nor a plugin: the plugins (conftest.py's
pytest_plugins) hand them settings and a `say` callback and turn their errors into skips and failures. The table of
stacks picks a stack by name, with no importlib anywhere in fixtures/."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
STACK_MODULES = ["local_stack", "docker_stack", "external_stack", "stacks"]
LIBRARY_MODULES = ["settings", "stack_model", "tokens", "report"]
PLUGINS = [
    "options",
    "stack",
    "site_check",
    "routes",
    "verdict",
    "policy",
    "overlap",
    "idle",
    "frontend",
    "redaction",
]


def _imported(module: str) -> set[str]:
    """The modules `fixtures/<module>.py` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse((FIXTURES / f"{module}.py").read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_plugins_listed_here_are_the_conftests():
    """The plugin modules this test guards against are the ones conftest.py loads."""
    conftest = {}
    exec((ROOT / "conftest.py").read_text(), conftest)
    assert sorted(conftest["pytest_plugins"]) == sorted(f"fixtures.{name}" for name in PLUGINS)


@pytest.mark.parametrize("module", STACK_MODULES + LIBRARY_MODULES)
def test_stacks_and_library_import_neither_pytest_nor_a_plugin(module):
    """A stack or library module imports no pytest and no plugin module of fixtures/."""
    forbidden = {"pytest", "_pytest", *(f"fixtures.{plugin}" for plugin in PLUGINS)}
    found = {name for name in _imported(module) if name.split(".")[0] in ("pytest", "_pytest") or name in forbidden}
    assert found == set(), f"fixtures/{module}.py imports {sorted(found)}: raise an error of its own instead"


def test_stacks_and_library_load_without_pytest():
    """Importing the stacks and the library loads no pytest, not even through what they import."""
    modules = ", ".join(f"fixtures.{name}" for name in STACK_MODULES + LIBRARY_MODULES)
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_no_module_is_loaded_through_importlib():
    """The table of stacks (fixtures/stacks.py) names each stack's start; nothing in fixtures/ uses importlib."""
    assert [path.name for path in sorted(FIXTURES.glob("*.py")) if "importlib" in path.read_text()] == []
