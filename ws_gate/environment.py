"""What the `ws-gate` command checks before pytest starts, because it would fail there without a word of its own:
a reports folder it cannot write (pytest writes JUnit there before any case runs), a --summary it cannot write.
The rest of bad input (a site file, a contract, nginx, Docker) is the plugins' to say, each as one GateSetupError
line."""

import os
from pathlib import Path

from ws_gate.errors import GateSetupError


def check(reports: Path, summary: Path | None = None) -> None:
    """Raise GateSetupError, in one line, for a reports folder (or a --summary folder) the run cannot write;
    remove a previous run's verdict.json there, so that a run that ends early leaves none that misleads."""
    if summary is not None:
        _writable(
            summary.parent, f"--summary {summary}: cannot write its folder", "pass a --summary path you can write"
        )
    _writable(reports, "cannot write the reports folder", "run from a folder you can write, or pass --reports DIR")
    (reports / "verdict.json").unlink(missing_ok=True)


def _writable(folder: Path, failed: str, fix: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".ws-gate-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        where = Path(os.getcwd(), folder)  # an absolute folder stays as it is
        raise GateSetupError(f"{failed} {where} ({error.strerror}): {fix}") from None
