"""The time-scaled idle check: its plan keeps every decision clear of a loaded machine's jitter and of Nginx's
300 ms lazy timer, the scaled site file is one Nginx accepts, and a cut names the production time it stands for."""

import re
from pathlib import Path

import pytest

from selftest.gate_run import run_gate
from ws_gate.nginx.binary import machine_nginx
from ws_gate.nginx.idle_check import GUARD, LAG, MIN_SCALED_PING, plan_idle, scale_timers
from ws_gate.nginx.rewrite import rewrite_site
from ws_gate.nginx.runtime import check_config, write_main_conf
from ws_gate.nginx.site import load_site, walk

CONFS = Path(__file__).parent / "confs"
HOUR = 3600.0
PRODUCTION_TIME = r"after [\d.]+ s = (\d+) s in production; time scaled 1/1500 \(proxy_read_timeout 60 s ran as 0\.04"

PLANS = [
    pytest.param(3600, None, 1 / 1500, 1.9, id="an-hour-without-pings"),
    pytest.param(60, None, 1 / 1500, 1.9, id="nginx-default-without-pings"),
    pytest.param(60, 55, 0.08, 5.0, id="60s-over-55s-pings"),
    pytest.param(60, 65, 0.08, 5.4, id="60s-under-65s-pings"),
    pytest.param(90, 60, 1 / 60, 1.7, id="90s-over-60s-pings"),
    pytest.param(86400, 25, 1 / 1500, 1.9, id="a-day-needs-no-pings"),
]


@pytest.mark.parametrize(("read_timeout", "ping", "factor", "hold"), PLANS)
def test_plan_scales_time_with_room_on_either_side(read_timeout, ping, factor, hold):
    """The factor keeps a scaled ping at 1 s or more and 0.4 s from the timeout it must beat; the hold ends 0.5 s
    before the scaled horizon."""
    plan = plan_idle(read_timeout, ping, HOUR)
    assert (round(plan.factor, 5), round(plan.hold, 2), plan.resolvable) == (round(factor, 5), hold, True)
    if plan.ping_interval is not None:
        assert plan.scaled_ping >= MIN_SCALED_PING
        assert abs(read_timeout - ping) * plan.factor >= 2 * GUARD - 1e-9
    else:
        assert plan.hold == pytest.approx(HOUR * plan.factor - LAG)


@pytest.mark.parametrize(("read_timeout", "ping"), [(3500, None), (60, 60)], ids=["near-the-hour", "at-the-ping"])
def test_plan_leaves_a_close_call_to_the_static_check(read_timeout, ping):
    """A timeout too close to what decides it for a scaled run to split is not judged time-scaled."""
    assert plan_idle(read_timeout, ping, HOUR).resolvable is False


@pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")
def test_scaled_site_is_one_nginx_accepts(tmp_path):
    """Every timer of an upgraded connection is scaled, Nginx's defaults included, and `nginx -t` accepts it."""
    site = scale_timers(load_site(CONFS / "send-timeout-short.conf", tmp_path), 1 / 1500)
    timers = {(stmt["directive"], stmt["args"][0]) for stmt in walk(site.directives) if "timeout" in stmt["directive"]}
    assert timers >= {("proxy_read_timeout", "2400ms"), ("proxy_send_timeout", "20ms"), ("send_timeout", "40ms")}
    text = rewrite_site(site, {80: "127.0.0.1:50080"}, "127.0.0.1:8001", "127.0.0.1:50001", tmp_path).text
    check_config(machine_nginx(), write_main_conf(tmp_path, text), tmp_path)


@pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")
def test_send_timeout_only_location_is_cut_after_the_scaled_minute(tmp_path):
    """With only proxy_send_timeout set, Nginx's 60 s read timeout cuts the idle session, and the failure says so
    in production time."""
    site = tmp_path / "send-timeout-only.conf"
    site.write_text((CONFS / "ws-good.conf").read_text().replace("proxy_read_timeout 3600s;", ""))
    run = run_gate(tmp_path, f"--nginx-conf={site}")
    idle = "tests/test_idle_timeout.py::test_idle_session_outlives_the_read_timeout"
    said = re.search(PRODUCTION_TIME, run.output)
    # Seen from the client, a little after Nginx's timer fires (later still on a loaded machine), and long before
    # the hour the session needed.
    assert (idle in run.failed, bool(said) and 50 <= int(said[1]) < 3600) == (True, True), run.output[-3000:]


LATE_PINGS = {"STUB_BREAK": "pings-late"}  # the stub pings at 1.5 times its interval, as a busy machine holds it up
IDLE = "tests/test_idle_timeout.py::test_idle_session_outlives_the_read_timeout"
TOO_BUSY = "inconclusive: the machine was too busy to scale this timeout: the stub's ping"


@pytest.mark.skipif(machine_nginx() is None, reason="nginx not installed (apt-get install nginx-light)")
@pytest.mark.parametrize(
    ("pings", "outcome"),
    [("ping-every-55s", "inconclusive"), ("ping-every-65s", "failed")],
    ids=["late-pings-under-a-timeout-they-would-beat", "a-timeout-below-the-interval-cuts-before-any-ping"],
)
def test_late_stub_pings_are_no_cut_of_nginx(tmp_path, pings, outcome):
    """Under a 60 s read timeout, pings every 55 s that come half an interval late get the session cut: that is the
    machine, not Nginx, and after the rerun with more room the case says it could not tell, never a failure. Pings
    every 65 s come too late however punctual: Nginx's cut comes before any ping is due, and still fails."""
    site = tmp_path / "read-60s.conf"
    site.write_text(
        (CONFS / "ws-good.conf").read_text().replace("proxy_read_timeout 3600s;", "proxy_read_timeout 60s;")
    )
    contract = Path(__file__).parent / "contracts" / f"{pings}.toml"
    run = run_gate(tmp_path, f"--nginx-conf={site}", f"--contract={contract}", env=LATE_PINGS)
    said = {
        "inconclusive": IDLE in run.skipped and run.skip_reasons[IDLE].startswith(TOO_BUSY),
        "failed": IDLE in run.failed,
    }
    assert (said[outcome], run.exit_code) == (True, 0 if outcome == "inconclusive" else 1), run.output[-3000:]
