"""The WebSocket connectivity gate's library: the site model and static check (nginx/), the stacks (stacks/), the
clients (client/), the reports (reports/). No module here imports pytest; the plugins in fixtures/ hand it the
run's options and contract."""

__version__ = "1.0.0"
