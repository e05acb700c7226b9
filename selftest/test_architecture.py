"""The library package (ws_gate/) imports neither pytest nor a plugin: the plugins of fixtures/ (conftest.py's
pytest_plugins) hand it settings and a `say` callback and turn its errors into skips and failures. The table of
stacks picks a stack by name, with no importlib anywhere."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "ws_gate"
FIXTURES = ROOT / "fixtures"
MODULES = sorted(LIBRARY.rglob("*.py"))
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
    "terminal",
]


def _imported(path: Path) -> set[str]:
    """The modules `path` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_the_plugins_listed_here_are_the_conftests():
    """The plugin modules this test guards against are the ones conftest.py loads, and all that fixtures/ holds."""
    conftest = {}
    exec((ROOT / "conftest.py").read_text(), conftest)
    assert sorted(conftest["pytest_plugins"]) == sorted(f"fixtures.{name}" for name in PLUGINS)
    assert sorted(path.stem for path in FIXTURES.glob("*.py") if path.stem != "__init__") == sorted(PLUGINS)


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_the_library_imports_neither_pytest_nor_a_plugin(path):
    """A library module imports no pytest and nothing of fixtures/."""
    found = {name for name in _imported(path) if name.split(".")[0] in ("pytest", "_pytest", "fixtures")}
    assert found == set(), f"{path.relative_to(ROOT)} imports {sorted(found)}: raise an error of its own instead"


def test_the_library_loads_without_pytest():
    """Importing every library module loads no pytest, not even through what they import."""
    names = [_module_name(path) for path in MODULES if path.name != "__main__.py"]
    # Locust's gevent patching must come before urllib3 is loaded (ws_gate.stacks.model, ws_gate.browser), as in
    # the Locust process, which loads locust_session first.
    modules = ", ".join(sorted(names, key=lambda name: name != "ws_gate.client.locust_session"))
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_no_module_is_loaded_through_importlib():
    """The table of stacks (ws_gate/stacks/__init__.py) names each stack's start; nothing uses importlib."""
    users = [path for path in [*MODULES, *FIXTURES.glob("*.py")] if "importlib" in path.read_text()]
    assert users == []
