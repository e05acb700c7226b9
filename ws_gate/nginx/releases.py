"""Debian's nginx releases as binaries the gate runs: `--nginx-version 1.22|1.26|1.30` (or the full version) is
that release's own /usr/sbin/nginx, built by Debian, with that release's libraries; `--nginx-bin PATH` is any binary.

A release is unpacked, once, into the user's cache ($XDG_CACHE_HOME/ws-gate/nginx/<suite>/): the suite's InRelease,
checked with gpgv against Debian's archive keyring, gives the SHA-256 of its Packages.xz; that gives nginx's .deb
and those of the libraries it needs, each checked by SHA-256 and unpacked with `dpkg-deb -x`. The binary runs
through that root's own dynamic loader and library path rather than in a chroot, so the gate's prefixes, logs and
certificates stay at their host paths, and neither root nor debootstrap is needed.
Measured cold on a shared, busy 2-core machine: 3 to 12 s a release, 22 to 26 MB unpacked (sid: 11 packages, 7.5 MB
of .debs), where `debootstrap --variant=minbase --include=nginx sid` took 95 s for 226 MB. Warm: 0.1 s, no download.
"""

import hashlib
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ws_gate import processes
from ws_gate.errors import GateSetupError
from ws_gate.nginx.binary import NginxBinary
from ws_gate.nginx.site import walk
from ws_gate.nginx.versions import DIRECTIVE_FEATURES, SSL_DIRECTIVE, Feature, Version
from ws_gate.timeouts import LONG, UNIT


@dataclass(frozen=True)
class Release:
    suite: str
    version: str  # the upstream version the suite serves

    @property
    def family(self) -> str:  # 1.22
        return self.version.rsplit(".", 1)[0]


# What Debian's mirror serves (checked in each suite's Packages.xz): bookworm 1.22.1-9+deb12u9, trixie
# 1.26.3-3+deb13u10, sid 1.30.6-2.
RELEASES = (Release("bookworm", "1.22.1"), Release("trixie", "1.26.3"), Release("sid", "1.30.6"))
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ARCH = "amd64"
MULTIARCH = "x86_64-linux-gnu"
# What nginx's package depends on that the binary itself does not load: nginx-common holds Debian's configuration
# (the gate writes its own), iproute2 and debconf serve the maintainer scripts.
NOT_LOADED = frozenset({"nginx-common", "iproute2", "debconf", "debconf-2.0"})
MARKER = "release"  # written last into a complete root: the Debian version of its nginx package
# A cold fetch takes a few seconds; these only stop a hung mirror from hanging the gate.
FETCH_TIMEOUT = 30 * UNIT
UNPACK_LIMIT = 300 * UNIT


def find(version: str) -> Release:
    """The release `version` names, 1.30 or 1.30.6; GateSetupError for any other."""
    for release in RELEASES:
        if version in (release.family, release.version):
            return release
    known = ", ".join(f"{r.family} ({r.version}, Debian {r.suite})" for r in RELEASES)
    raise GateSetupError(
        f"--nginx-version {version}: not a Debian release the gate runs; choose one of {known}, "
        "or give that nginx itself with --nginx-bin PATH"
    )


# The directives whose presence decides whether a release loads a site file at all.
LOAD_FEATURES: dict[str, Feature] = {**DIRECTIVE_FEATURES, "ssl": SSL_DIRECTIVE}


def refused(directives: list[dict], version: str) -> list[dict]:
    """The statements of a site that nginx `version` does not know (`http2 on;` on an older one, `ssl on;` on a
    newer one)."""
    release = Version.parse(version)
    return [
        stmt
        for stmt in walk(directives)
        if stmt["directive"] in LOAD_FEATURES and not release.has(LOAD_FEATURES[stmt["directive"]])
    ]


def nearest_loading(directives: list[dict], version: str) -> Release | None:
    """The Debian release nearest to nginx `version` that loads the site, when `version` itself does not; None
    when it does, or when no release does (then `version` runs, and refuses it)."""
    if not refused(directives, version):
        return None
    parts = Version.parse(version).parts

    def distance(release: Release) -> tuple[int, ...]:
        return tuple(abs(a - b) for a, b in zip(Version.parse(release.version).parts, parts, strict=False))

    return next((r for r in sorted(RELEASES, key=distance) if not refused(directives, r.version)), None)


def loading_binary(directives: list[dict], machine: NginxBinary, say: Callable[[str], None]) -> NginxBinary:
    """`machine`, or the binary of the nearest Debian release that loads the site when `machine` cannot (said in
    one line)."""
    needed = nearest_loading(directives, machine.version)
    if needed is None:
        return machine
    stmt = refused(directives, machine.version)[0]
    written = " ".join([stmt["directive"], *stmt["args"]])
    say(
        f"nginx: {stmt['file']}:{stmt['line']}: `{written};` is unknown to {machine.label}: running Debian "
        f"{needed.suite}'s nginx {needed.version}, the nearest release that loads the site file"
    )
    return release_binary(needed.version, say)


def release_binary(version: str, say: Callable[[str], None]) -> NginxBinary:
    """The binary of the Debian release `version` names, unpacked into the cache unless it is there already;
    `say` gets one line before a download and one after it."""
    release = find(version)
    root = cache_root(release)
    with processes.exclusive(root.parent / f".{release.suite}.lock", UNPACK_LIMIT):
        if not _complete(root):
            say(f"nginx: fetching Debian {release.suite}'s nginx {release.version} into {root}, once (a few seconds)")
            started = time.monotonic()
            _unpack(release, root)
            say(f"nginx: Debian {release.suite}'s nginx {release.version} ready in {time.monotonic() - started:.0f} s")
    binary = _in_root(root, release)
    if binary.version != release.version:
        raise GateSetupError(
            f"{root} holds nginx {binary.version}, not {release.version}: remove that folder and run again"
        )
    return binary


def given_binary(path: str) -> NginxBinary:
    """--nginx-bin PATH: any nginx executable, its version read from `PATH -V`."""
    return NginxBinary(Path(path), _version_of([path], f"--nginx-bin {path}"), f"--nginx-bin {path}")


def cache_root(release: Release) -> Path:
    return cache() / release.suite


def cache() -> Path:
    """The user's cache of releases, as the stub's wheels have it (XDG's, ignored when relative)."""
    home = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(home) if os.path.isabs(home) else Path.home() / ".cache") / "ws-gate" / "nginx"


def mirror(sources: Path = APT_SOURCES) -> str:
    """DEBIAN_MIRROR, else the first URIs: line of this machine's apt sources, as docker/debootstrap.sh reads it."""
    if found := os.environ.get("DEBIAN_MIRROR"):
        return found.rstrip("/")
    if sources.is_file():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and line.split()[1:]:
                return line.split()[1].rstrip("/")
    raise GateSetupError(
        f"Debian's nginx releases come from a Debian mirror, and none is known: set DEBIAN_MIRROR "
        f"(or add a URIs: line to {sources}), or leave out --nginx-version"
    )


def _complete(root: Path) -> bool:
    return (root / MARKER).is_file()


def _in_root(root: Path, release: Release) -> NginxBinary:
    libraries = [root / "lib" / MULTIARCH, root / "usr" / "lib" / MULTIARCH]
    # The loader is a file in the root: bookworm's /lib64 link points at the machine's own.
    loader = next((d / "ld-linux-x86-64.so.2" for d in libraries if (d / "ld-linux-x86-64.so.2").is_file()), None)
    if loader is None:
        raise GateSetupError(f"{root} has no dynamic loader: remove that folder and run again")
    # --inhibit-cache: no library from the machine's ld.so.cache; the root's own come first.
    run = (str(loader), "--inhibit-cache", "--library-path", ":".join(str(d) for d in libraries))
    path = root / "usr" / "sbin" / "nginx"
    return NginxBinary(path, _version_of([*run, str(path)], str(path)), f"Debian {release.suite}", run)


def _version_of(command: list[str], what: str) -> str:
    try:
        output = subprocess.run([*command, "-V"], capture_output=True, text=True, timeout=LONG).stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GateSetupError(f"{what} does not run: {error}") from None
    found = re.search(r"nginx version: \S*/(\d+\.\d+\.\d+)", output)
    if found is None:
        last = (output.strip().splitlines() or ["nothing"])[-1]
        raise GateSetupError(f"{what} is not a working nginx: its -V printed no nginx version but {last!r}")
    return found.group(1)


def _unpack(release: Release, root: Path) -> None:
    """Fetch and unpack `release` into a folder beside `root`, renamed to `root` once complete: a run killed
    half-way leaves only a temporary folder, which the next one removes."""
    for tool, package in (("gpgv", "gpgv"), ("dpkg-deb", "dpkg")):
        if shutil.which(tool) is None:
            raise GateSetupError(f"{tool} not found, needed to fetch Debian's nginx: sudo apt-get install {package}")
    if not KEYRING.is_file():
        raise GateSetupError(f"{KEYRING} not found: sudo apt-get install debian-archive-keyring")
    base = mirror()
    root.parent.mkdir(parents=True, exist_ok=True)
    for stale in root.parent.glob(f".{release.suite}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{release.suite}.", suffix=".tmp", dir=root.parent))
    try:
        index = _packages(base, release.suite, work)
        nginx = index.get("nginx", {})
        if not nginx.get("Version", "").startswith(release.version + "-"):
            raise GateSetupError(
                f"{base} serves nginx {nginx.get('Version', 'not at all')} in Debian {release.suite}, not "
                f"{release.version}: this gate's table of releases is out of date"
            )
        unpacked = work / "root"
        deadline = time.monotonic() + UNPACK_LIMIT
        for name in _closure(index, "nginx"):
            deb = work / f"{name}.deb"
            fields = index[name]
            _fetch(f"{base}/{fields['Filename']}", deb, fields["SHA256"], deadline - time.monotonic())
            _run(["dpkg-deb", "-x", str(deb), str(unpacked)], f"unpacking {fields['Filename']}")
            deb.unlink()
        (unpacked / MARKER).write_text(nginx["Version"] + "\n")
        if root.exists():  # an incomplete root from an older gate, or another version
            shutil.move(root, work / "old")
        unpacked.rename(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _packages(base: str, suite: str, work: Path) -> dict[str, dict[str, str]]:
    """The suite's binary packages by name (and by what they provide), from its signed index."""
    signed, release = work / "InRelease", work / "Release"
    _fetch(f"{base}/dists/{suite}/InRelease", signed, None, FETCH_TIMEOUT)
    _run(["gpgv", "--keyring", str(KEYRING), "--output", str(release), str(signed)], f"checking {suite}'s InRelease")
    wanted = f"main/binary-{ARCH}/Packages.xz"
    sums = re.search(r"^SHA256:\n((?: .*\n)+)", release.read_text(), re.M)
    listed = (sums.group(1) if sums else "").splitlines()
    digest = next((line.split()[0] for line in listed if line.endswith(" " + wanted)), "")
    if not digest:
        raise GateSetupError(f"{base}/dists/{suite}/InRelease lists no {wanted}")
    packages = work / "Packages.xz"
    _fetch(f"{base}/dists/{suite}/{wanted}", packages, digest, FETCH_TIMEOUT)
    index: dict[str, dict[str, str]] = {}
    for stanza in lzma.decompress(packages.read_bytes()).decode().split("\n\n"):
        fields = dict(re.findall(r"^(\S+): (.*)$", stanza, re.M))
        if "Package" in fields:
            index[fields["Package"]] = fields
    for fields in list(index.values()):
        for provided in _names(fields.get("Provides", "")):
            index.setdefault(provided, fields)
    return index


def _closure(index: dict[str, dict[str, str]], package: str) -> list[str]:
    """`package` and every package it depends on, through the first alternative of each dependency, by name."""
    found: list[str] = []
    todo = [package]
    while todo:
        name = todo.pop()
        if name in NOT_LOADED or name in found:
            continue
        if name not in index:
            raise GateSetupError(f"Debian's index has no package {name}, which nginx needs")
        name = index[name]["Package"]  # a virtual package: its provider
        found.append(name)
        todo += _names(index[name].get("Pre-Depends", "") + "," + index[name].get("Depends", ""))
    return found


def _names(relations: str) -> list[str]:
    """The package names of a Depends-style field, the first alternative of each: `a (>= 1) | b, c:any` -> a, c."""
    return [re.split(r"[\s(:]", part.split("|")[0].strip())[0] for part in relations.split(",") if part.strip()]


def _fetch(url: str, target: Path, sha256: str | None, timeout: float) -> None:
    if timeout <= 0:
        raise GateSetupError(f"fetching Debian's nginx took more than {UNPACK_LIMIT:.0f} s; the mirror is too slow")
    try:
        with urllib.request.urlopen(url, timeout=min(timeout, FETCH_TIMEOUT)) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise GateSetupError(
            f"cannot fetch {url} ({reason}): connect this machine to the mirror, set DEBIAN_MIRROR to one it "
            f"reaches, or copy {cache()} from a machine that ran `make nginx-releases`"
        ) from None
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise GateSetupError(f"{url} does not match the SHA-256 of Debian's signed index: the mirror is corrupt")
    target.write_bytes(data)


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=FETCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise GateSetupError(f"{what}: `{command[0]}` did not finish within {FETCH_TIMEOUT:.0f} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise GateSetupError(f"{what} failed: {last}")


def main() -> int:
    """`python -m ws_gate.nginx.releases` (`make nginx-releases`): every release into the cache, for a machine
    that will run offline."""
    try:
        for release in RELEASES:
            print(f"{release_binary(release.version, print).label}: {cache_root(release)}")
    except GateSetupError as error:
        print(f"nginx-releases: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
