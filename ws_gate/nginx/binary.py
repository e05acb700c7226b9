"""An nginx executable the gate runs: the machine's own, one given with --nginx-bin, or a Debian release's unpacked
into the user's cache. Everything that starts or tests nginx takes one of these, so a verdict can say which binary
it rests on."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NginxBinary:
    path: Path
    version: str  # 1.22.1
    origin: str  # where it comes from, as the verdict says it: "Debian bookworm", "the machine's", "--nginx-bin"
    # What runs it from an unpacked root file system (its dynamic loader with that root's library path); () runs
    # the executable itself.
    loader: tuple[str, ...] = ()

    def command(self, *args: str) -> list[str]:
        return [*self.loader, str(self.path), *args]

    @property
    def label(self) -> str:
        """nginx 1.30.6, Debian sid"""
        return f"nginx {self.version}, {self.origin}"
