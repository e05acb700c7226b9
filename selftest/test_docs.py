"""The README is a front door: at most 250 lines, linking every page of docs/; every relative link of the README and
of docs/ reaches a file that exists, and a heading there when it names one."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
README_MAX_LINES = 250
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(path: Path) -> str:
    """The file's text without code blocks and code spans, where brackets are no links."""
    return CODE_SPAN.sub("", FENCE.sub("", path.read_text()))


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(heading) for heading in HEADING.findall(FENCE.sub("", path.read_text()))}


def _relative_links(path: Path) -> list[str]:
    return [link for link in LINK.findall(_prose(path)) if not re.match(r"[a-z]+:", link)]


def test_readme_is_at_most_250_lines():
    """The README stays a front door; the rest lives in docs/."""
    count = len(README.read_text().splitlines())
    assert count <= README_MAX_LINES, f"README.md has {count} lines (at most {README_MAX_LINES}): move detail to docs/"


def test_readme_links_every_docs_page():
    """Every page of docs/ is reachable from the README."""
    linked = {(ROOT / link.split("#")[0]).resolve() for link in _relative_links(README)}
    unlinked = [page.name for page in DOCS if page.resolve() not in linked]
    assert unlinked == [], f"docs/ pages the README does not link: {unlinked}"


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    """Each relative link names a file that exists and, after #, a heading of that file."""
    broken = []
    for link in _relative_links(page):
        target, _, anchor = link.partition("#")
        file = (page.parent / target).resolve() if target else page
        if not file.exists():
            broken.append(f"{link}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{link}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)}: broken links: {broken}"
