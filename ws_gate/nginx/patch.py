"""reports/site.patch: the site-file fixes of a run (its faults' SiteEdits) written into the team's files as a
unified diff, and the check that makes it an offer: the patch applied to a copy of the site (with its includes),
the Nginx families run again on that copy on the real Nginx (ws_gate.subrun), and only a patch they pass is written.

How an edit lands in its file, as lint.py's findings mean it: a `replaces` replaces that directive (or that whole
location block) at its line, or drops it; a new location written at a location's line goes before it, in the same
server; lines written at a block's opening line go inside that block, first; lines written at a directive's line
go right after it."""

import difflib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ws_gate.faults import SiteEdit, Where
from ws_gate.settings import GateOptions
from ws_gate.subrun import NGINX_FAMILIES, SUBRUN, run_gate

SITE_PATCH = "site.patch"  # in the run's reports folder
INDENT = "    "


@dataclass(frozen=True)
class SitePatch:
    """Each file the edits touch, as it is and as the edits leave it."""

    files: dict[Path, tuple[str, str]]

    def diff(self, root: Path) -> str:
        """The unified diff, its paths relative to `root` (to `/` for a file outside it) behind a/ and b/, so
        that `git apply` and `patch -p1` from `root` (from `/`) accept it."""
        chunks = []
        for path, (before, after) in self.files.items():
            name = _relative(path, root)
            chunks += difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
            )
        return "".join(chunks)


def site_patch(edits: Sequence[SiteEdit]) -> SitePatch:
    """The edits (each once, in the order given) applied to their files."""
    by_file: dict[Path, list[SiteEdit]] = {}
    for edit in dict.fromkeys(edits):
        by_file.setdefault(Path(edit.at.file), []).append(edit)
    files = {}
    for path, file_edits in by_file.items():
        before = path.read_text()
        files[path] = (before, edited(before, file_edits))
    return SitePatch(files)


def edited(text: str, edits: Sequence[SiteEdit]) -> str:
    """`text` with `edits` made, each at its line of the original text."""
    lines = text.splitlines()
    before: dict[int, list[str]] = {}  # index of an original line -> lines written before it
    after: dict[int, list[str]] = {}
    replaced: dict[int, list[str]] = {}  # index of the first line replaced -> what replaces it
    dropped: set[int] = set()
    for edit in edits:
        index = (edit.at.line or 1) - 1
        indent, unit = _indent(lines[index]), _unit(lines, index)
        write = [_reindented(line, unit) for line in edit.write]
        if edit.replaces.endswith("{ ... }"):  # a whole block
            end = _block_end(lines, index)
            dropped.update(range(index, end + 1))
            replaced[index] = [indent + line for line in write]
        elif edit.replaces:
            dropped.add(index)
            replaced[index] = [_replace_directive(lines[index], edit.replaces, write)] if write else []
        elif _directive(write[0]) == "location" and _directive(lines[index]) == "location":
            before.setdefault(index, []).extend([*(indent + line for line in write), ""])
        elif lines[index].rstrip().endswith("{"):
            after.setdefault(index, []).extend(indent + unit + line for line in write)
        else:
            after.setdefault(index, []).extend(indent + line for line in write)
    out = []
    for index, line in enumerate(lines):
        out += before.get(index, [])
        out += replaced.get(index, []) if index in dropped else [line]
        out += after.get(index, [])
    return "\n".join(out) + ("\n" if text.endswith("\n") or not text else "")


def replacements(edit: SiteEdit) -> list[tuple[int, int, str]]:
    """The edit as replacements of its file's text, as SARIF's fixes hold them: (character offset, characters
    deleted, text inserted), from the lines the edit changes."""
    before = Path(edit.at.file).read_text()
    old, new = before.splitlines(keepends=True), edited(before, [edit]).splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        (starts[i1], starts[i2] - starts[i1], "".join(new[j1:j2]))
        for kind, i1, i2, j1, j2 in matcher.get_opcodes()
        if kind != "equal"
    ]


def _directive(line: str) -> str:
    words = line.split()
    return words[0] if words else ""


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _unit(lines: list[str], index: int) -> str:
    """The file's indent step, as the block opened near `index` shows it (else four spaces)."""
    for start in range(index, len(lines) - 1):
        if lines[start].rstrip().endswith("{") and lines[start + 1].strip():
            outer, inner = _indent(lines[start]), _indent(lines[start + 1])
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer) :]
    return INDENT


def _reindented(line: str, unit: str) -> str:
    """A line the snippets indent by four spaces a level, indented by the file's own step."""
    levels = (len(line) - len(line.lstrip(" "))) // len(INDENT)
    return unit * levels + line[levels * len(INDENT) :]


def _block_end(lines: list[str], start: int) -> int:
    """The index of the line that closes the block opened at `start` (braces counted outside comments)."""
    depth = 0
    for index in range(start, len(lines)):
        code = lines[index].split("#", 1)[0]
        depth += code.count("{") - code.count("}")
        if depth <= 0 and "{" in "".join(lines[start : index + 1]):
            return index
    return len(lines) - 1


def _replace_directive(line: str, replaces: str, write: Sequence[str]) -> str:
    """`line` with the directive `replaces` names (from its name to its `;`) in place of the written one."""
    found = re.search(rf"\b{re.escape(_directive(replaces))}\b[^;]*;", line)
    new = " ".join(part.strip() for part in write)
    return line[: found.start()] + new + line[found.end() :] if found else _indent(line) + new


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix().lstrip("/")


@dataclass(frozen=True)
class Verification:
    """What running the Nginx families on the patched copy showed: whether they pass, said as a sentence, and
    how long it took."""

    passed: bool
    said: str
    seconds: float


def _same_nginx(gate: GateOptions) -> list[str]:
    """The options that make the patched copy's run use the nginx the run used: its Debian release, the binary
    --nginx-bin named, or (none) the machine's own."""
    if gate.nginx_release:
        return [f"--nginx-version={gate.nginx_release}"]
    if gate.nginx is not None and gate.nginx.origin.startswith("--nginx-bin"):
        return [f"--nginx-bin={gate.nginx.path}"]
    return []


def verify(
    patch: SitePatch, gate: GateOptions, contract: Path | None, run: Callable[..., dict] = run_gate
) -> Verification:
    """Apply `patch` to a copy of the site (the site file and the Nginx prefix its includes resolve from) in a
    folder of its own, and run the Nginx families on it on the local stack, with the run's version, contract
    and origin."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ws-gate-patched-") as folder:
        prefix = Path(folder) / "prefix"
        shutil.copytree(gate.nginx_prefix, prefix, symlinks=True)
        site_file = Path(folder) / "site" / gate.site_file.name
        site_file.parent.mkdir()
        shutil.copy(gate.site_file, site_file)
        for path, (_, after) in patch.files.items():
            copy = _copy_of(path, gate, site_file, prefix)
            if copy is None:
                said = f"{path} lies outside --nginx-prefix {gate.nginx_prefix}, so no copy of the site has it"
                return Verification(False, said, time.monotonic() - started)
            copy.write_text(after)
        options = ["--stack=local", f"--nginx-conf={site_file}", f"--nginx-prefix={prefix}"]
        options += _same_nginx(gate)
        options += [f"--contract={contract.resolve()}"] if contract else []
        options += [f"--origin={gate.origin}"] if gate.origin else []
        verdict = run(options, NGINX_FAMILIES)
    seconds = time.monotonic() - started
    statuses = {family: verdict.get("families", {}).get(family, {}).get("status") for family in NGINX_FAMILIES}
    nginx = (verdict.get("stack") or {}).get("nginx") or (gate.nginx.label if gate.nginx else "the machine's nginx")
    if all(status == "passed" for status in statuses.values()):
        return Verification(True, f"the patch makes {_listed(NGINX_FAMILIES)} pass on {nginx}", seconds)
    if verdict.get("error"):
        return Verification(False, f"its run on {nginx} ended early: {verdict['error']}", seconds)
    left = ", ".join(f"{family} {status or 'not run'}" for family, status in statuses.items() if status != "passed")
    return Verification(False, f"with the patch on {nginx}: {left}", seconds)


def _listed(names: Sequence[str]) -> str:
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _copy_of(path: Path, gate: GateOptions, site_file: Path, prefix: Path) -> Path | None:
    """Where the copy of the site holds `path`: the site file's copy, or its place in the prefix's copy."""
    if os.path.samefile(path, gate.site_file):
        return site_file
    try:
        return prefix / path.resolve().relative_to(gate.nginx_prefix.resolve())
    except ValueError:
        return None


def offer(
    faults: list[dict], options: Callable[[], GateOptions], contract: Path | None, root: Path, reports: Path
) -> dict | None:
    """For a run whose faults include site-file edits: the patch of them all (its paths relative to `root`),
    verified on a patched copy; the verified note set on each of those faults, and site.patch written into
    `reports`, only when it passes. What verdict.json says of it (None: no site-file fault, or a run that is itself
    such a check)."""
    edits = [_site_edit(fault["fix"]) for fault in faults if fault["fix"]["kind"] == SiteEdit.__name__]
    written = reports / SITE_PATCH
    written.unlink(missing_ok=True)  # a patch of an earlier run is no offer of this one
    if not edits or os.environ.get(SUBRUN):
        return None
    gate = options()
    if gate.site_file is None:
        return None
    patch = site_patch(edits)
    verification = verify(patch, gate, contract)
    summary = {"verified": verification.passed, "seconds": round(verification.seconds, 3)}
    if not verification.passed:
        return {**summary, "file": None, "said": f"the gate could not verify a patch: {verification.said}"}
    written.parent.mkdir(parents=True, exist_ok=True)
    written.write_text(patch.diff(root))
    for fault in faults:
        if fault["fix"]["kind"] == SiteEdit.__name__:
            fault["verified"] = verification.said
    return {**summary, "file": str(written), "said": f"{written}: {verification.said}", "diff": patch.diff(root)}


def _site_edit(fix: dict) -> SiteEdit:
    return SiteEdit(Where(**fix["at"]), tuple(fix["write"]), fix["replaces"])
