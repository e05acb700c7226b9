"""A fault the gate found, as data: its family, the cause, what was sent and what came back, where it is, and the
fix: for the site file, the lines to write at a file:line (and the line they replace); for the frontend, the string
found and the string to write; else a plain instruction. Cases raise a Fault (an AssertionError, so pytest reports
a failure); fixtures/verdict.py reads it from the exception and carries it as plain data, also across xdist.

Its identity is the cause and the fix, not the family: one fault that fails several families is one fault."""

from dataclasses import asdict, dataclass

from ws_gate.families import FAMILIES

# The user_properties a case's report carries to the plugins (also across xdist): the faults it raised, as plain
# data, and each finding it reports without failing, as text (request.node.user_properties.append((FINDING, text))).
FAULTS = "faults"
FINDING = "finding"


@dataclass(frozen=True)
class Where:
    """A file and a line in it (a site file), or an offset in it (a bundle)."""

    file: str
    line: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file} at offset {self.offset}" if self.offset is not None else self.file


@dataclass(frozen=True)
class SiteEdit:
    """Lines to write in the site file at `at`: added there, or in place of the line `replaces` when it is set.
    No lines and a `replaces`: the line is dropped."""

    at: Where
    write: tuple[str, ...]
    replaces: str = ""

    def summary(self) -> str:
        code = " ".join(line.strip() for line in self.write if not line.strip().startswith("#"))
        if not self.write:
            return f"drop `{self.replaces}` at {self.at}"
        if len(self.write) > 1:
            return f"add to the server block at {self.at}: {code}"
        if self.replaces:
            return f"{self.at}: replace `{self.replaces}` with `{code}`"
        return f"{self.at}: add `{code}`"


@dataclass(frozen=True)
class FrontendEdit:
    """In the built bundle (and in the source it comes from, at `source`'s file:line when a source map says):
    the string found, and the string to write ("" to drop it)."""

    at: Where
    found: str
    write: str
    source: str = ""

    def summary(self) -> str:
        where = f"{self.at}; in the source at {self.source}" if self.source else str(self.at)
        if not self.write:
            return f"drop {self.found!r} ({where})"
        return f"write {self.write!r} instead of {self.found!r} ({where})"


@dataclass(frozen=True)
class Instruction:
    """A fix that is not a line of a file: what to do."""

    text: str

    def summary(self) -> str:
        return self.text


Fix = SiteEdit | FrontendEdit | Instruction
FIX_KINDS = {kind.__name__: kind for kind in (SiteEdit, FrontendEdit, Instruction)}


@dataclass(frozen=True)
class Report:
    """A fault as the reports carry it: plain data, comparable, with its identity."""

    family: str
    cause: str
    fix: Fix
    sent: tuple[str, ...] = ()
    got: str = ""
    where: Where | None = None
    verified: str | None = None  # what running the fix on nginx showed, once a run has done so

    @property
    def identity(self) -> tuple:
        """Same cause and same fix: the same fault, whichever family it failed."""
        return (self.cause, self.fix)

    def text(self) -> str:
        """The failure message: the family's tag and the cause, what was sent and got, where, and the fix."""
        family = FAMILIES.get(self.family)
        lines = [f"[{self.family}: {family.fault}] {self.cause}" if family else f"[{self.family}] {self.cause}"]
        if self.sent:
            lines.append(f"sent: {self.sent[0]}" + "".join(f"\n      {line}" for line in self.sent[1:]))
        if self.got:
            lines.append(f"got:  {self.got}")
        if self.where is not None:
            lines.append(f"at:   {self.where}")
        lines.append(f"fix:  {self.fix.summary()}")
        if isinstance(self.fix, SiteEdit) and len(self.fix.write) > 1:
            lines += [f"      {line}" for line in self.fix.write]
        return "\n".join(lines)

    def as_data(self) -> dict:
        data = asdict(self)
        data["fix"] = {"kind": type(self.fix).__name__, **asdict(self.fix)}
        data["fix_summary"] = self.fix.summary()
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Report":
        fix = dict(data["fix"])
        kind = FIX_KINDS[fix.pop("kind")]
        if "at" in fix:
            fix["at"] = Where(**fix["at"])
        if "write" in fix and kind is SiteEdit:
            fix["write"] = tuple(fix["write"])
        where = Where(**data["where"]) if data.get("where") else None
        return cls(
            data["family"], data["cause"], kind(**fix), tuple(data["sent"]), data["got"], where, data.get("verified")
        )


class Fault(AssertionError):  # noqa: N818 - a fault of the stack under test, not an error of the gate
    """Raised by a case that found one fault or several: pytest reports it as a failure, with their messages."""

    def __init__(self, *reports: Report) -> None:
        super().__init__("\n".join(report.text() for report in reports))
        self.reports = reports


def fault(
    family: str,
    cause: str,
    fix: Fix | str,
    *,
    sent: tuple[str, ...] | list[str] = (),
    got: str = "",
    where: Where | None = None,
) -> Fault:
    """A Fault to raise; a fix given as text is a plain instruction."""
    fix = Instruction(fix) if isinstance(fix, str) else fix
    return Fault(Report(family, cause, fix, tuple(sent), got, where))
