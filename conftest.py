"""The gate's pytest plugins live in fixtures/, over the library in ws_gate/; tests/ holds only the cases."""

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
    "fixtures.terminal",
]
