"""An nginx executable the gate runs: the machine's own, one given with --nginx-bin, or a Debian release's unpacked
into the user's cache. Everything that starts or tests nginx takes one of these, so a verdict can say which binary
it rests on."""

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ws_gate.timeouts import UNIT

# `nginx -V` answers at once; this only guards against a binary that hangs.
VERSION_TIMEOUT = 30 * UNIT


@dataclass(frozen=True)
class NginxBinary:
    path: Path
    version: str  # 1.22.1
    origin: str  # where it comes from, as the verdict says it: "Debian bookworm", "the machine's", "--nginx-bin"
    # What runs it from an unpacked root file system (its dynamic loader with that root's library path), or in a
    # container (`docker run ... IMAGE`); () runs the executable itself.
    loader: tuple[str, ...] = ()

    def command(self, *args: str) -> list[str]:
        return [*self.loader, str(self.path), *args]

    @property
    def label(self) -> str:
        """nginx 1.30.6, Debian sid"""
        return f"nginx {self.version}, {self.origin}"


def machine_nginx() -> NginxBinary | None:
    """The machine's own nginx (also looked for in /usr/sbin, which a normal user's PATH lacks), with the version
    its `nginx -V` prints; None without one."""
    search_path = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin"])
    found = shutil.which("nginx", path=search_path)
    version = re.search(r"nginx/(\d+\.\d+\.\d+)", build_output(Path(found))) if found else None
    return NginxBinary(Path(found), version[1], "the machine's") if version else None


@functools.cache  # one `nginx -V` a process for each binary, for its version and its prefix alike
def build_output(path: Path, loader: tuple[str, ...] = ()) -> str:
    """What `nginx -V` prints (its version and build options); "" when it cannot run."""
    try:
        result = subprocess.run([*loader, str(path), "-V"], capture_output=True, text=True, timeout=VERSION_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stderr
