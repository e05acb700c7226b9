"""Each kind of knowledge has one home: the nginx version numbers the gate's behaviour depends on are written in
ws_gate/nginx/versions.py only, and the lines the gate tells a team to write in ws_gate/nginx/snippets.py only.
Checks may name directives; they do not spell fixes. The self-tests' own corpus is left aside."""

import re
from pathlib import Path

import pytest

from ws_gate.nginx import versions

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("ws_gate", "fixtures", "tests", "tools")
SOURCES = [ROOT / "conftest.py", *sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))]
VERSIONS = ROOT / "ws_gate" / "nginx" / "versions.py"
SNIPPETS = ROOT / "ws_gate" / "nginx" / "snippets.py"


def _releases() -> set[versions.Version]:
    """Every release the table of versions.py names."""
    return {
        release
        for feature in vars(versions).values()
        if isinstance(feature, versions.Feature)
        for release in (feature.since, feature.until)
        if release is not None
    }


def _version_patterns() -> list[str]:
    """Each release as a string (1.29.7) and as a tuple ((1, 29, 7))."""
    strings = [re.escape(str(release)) + r"(?!\d)" for release in _releases()]
    tuples = [r"\(\s*" + r",\s*".join(map(str, release.parts)) + r"\s*\)" for release in _releases()]
    return strings + tuples


# What a fix line looks like written out: the upgrade's directives with the values that make it work.
FIX_LINES = [
    r"proxy_set_header\s+Upgrade\s+\$http_upgrade",
    r"proxy_set_header\s+Connection\s+\\?[\"']?upgrade",
    r"proxy_http_version\s+1\.1",
    r"proxy_read_timeout\s+\d+s;",
]


def _written(patterns: list[str], home: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        if path != home
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(re.search(pattern, line) for pattern in patterns)
    ]


def test_the_table_knows_the_releases_this_test_looks_for():
    """The quirks the gate relies on are in the table, so the search below looks for their numbers."""
    assert {"1.29.7", "1.25.1", "1.25.0", "0.7.14"} <= {str(release) for release in _releases()}


def test_no_nginx_version_number_outside_versions():
    """Other modules ask versions.py by feature, never by a release number."""
    assert _written(_version_patterns(), VERSIONS) == []


def test_no_fix_line_outside_snippets():
    """Every line the gate tells a team to write comes from snippets.py."""
    assert _written(FIX_LINES, SNIPPETS) == []


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        ("1.22.1", versions.HTTP_1_1_UPSTREAM_DEFAULT, False),
        ("1.29.7", versions.HTTP_1_1_UPSTREAM_DEFAULT, True),
        ("1.30.0", versions.HTTP_1_1_UPSTREAM_DEFAULT, True),
        ("1.25.0", versions.SSL_DIRECTIVE, True),
        ("1.25.1", versions.SSL_DIRECTIVE, False),
        ("1.25.0", versions.HTTP2_DIRECTIVE, False),
        ("1.25.1", versions.HTTP2_DIRECTIVE, True),
        ("1.22.1", versions.LISTEN_SSL, True),
        (None, versions.HTTP_1_1_UPSTREAM_DEFAULT, False),
        (None, versions.SSL_DIRECTIVE, True),
    ],
)
def test_a_version_has_a_feature_from_its_release(text, version, expected):
    """A release has a feature from `since` on and up to, not including, `until`; an unknown nginx (None) is
    judged as the oldest the gate meets."""
    assert versions.has(versions.parse(text), version) is expected
