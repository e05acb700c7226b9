"""What the `ws-gate` command checks before pytest starts, because it would fail there without a word of its own:
a reports folder it cannot write (pytest writes JUnit there before any case runs). The rest of bad input (a site
file, a contract, nginx, Docker) is the plugins' to say, each as one GateSetupError line."""

import os
from pathlib import Path

from ws_gate.errors import GateSetupError


def check(reports: Path) -> None:
    """Raise GateSetupError, in one line, for a reports folder the run cannot write; remove a previous run's
    verdict.json there, so that a run that ends early leaves none that misleads."""
    try:
        reports.mkdir(parents=True, exist_ok=True)
        probe = reports / f".ws-gate-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        (reports / "verdict.json").unlink(missing_ok=True)
    except OSError as error:
        where = reports.resolve() if reports.is_absolute() else Path(os.getcwd(), reports)
        raise GateSetupError(
            f"cannot write the reports folder {where} ({error.strerror}): run from a folder you can write, or "
            "pass --reports DIR"
        ) from None
