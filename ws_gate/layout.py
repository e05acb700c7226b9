"""Where the gate's own files are: its cases (tests/), their plugins (fixtures/), conftest.py, pytest.ini, the
locustfile and the stacks' build files (docker/). A checkout has them at its root; the wheel carries them in
ws_gate/suite/ (pyproject.toml maps them there), so an installed gate runs from any folder."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
ROOT = _PACKAGE / "suite" if (_PACKAGE / "suite").is_dir() else _PACKAGE.parent
DOCKER = ROOT / "docker"
DEFAULT_SITE = DOCKER / "nginx" / "trademe.conf"
STUB = DOCKER / "trading-stub"
