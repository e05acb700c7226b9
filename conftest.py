"""The gate's fixtures live in fixtures/ as plugin modules; tests/ holds only tests."""

pytest_plugins = [
    "fixtures.redaction",
    "fixtures.options",
    "fixtures.stack",
    "fixtures.frontend",
    "fixtures.site_check",
    "fixtures.routes",
    "fixtures.verdict",
    "fixtures.policy",
    "fixtures.idle",
    "fixtures.overlap",
]
