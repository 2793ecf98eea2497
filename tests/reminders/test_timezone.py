"""One clock, Beijing time, whatever zone the server runs in (issue 13, point 10).

Each check runs in a child Python with TZ set to a zone other than Beijing's: at 07:30 Beijing
time a UTC server's own calendar still says yesterday, and "today", deadlines and reminders must
not follow it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT = Path(__file__).with_name("transcripts") / "deadline_before_8_beijing.yaml"

CLOCK_CHECKS = """
import datetime as dt, time
from foundation.clock import Clock, add_working_days, at, end_of, local
from policy_kb.loader import default_kb
from reminders.scheduler import not_at_night, quiet
from storage.open import open_store
from workflow.desk import Desk

now = at(dt.date(2026, 12, 2), 7, 30)
assert now == dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.timezone.utc).timestamp()
server_day = time.localtime(now)[:3]
assert server_day != (2026, 12, 2), f"TZ={time.tzname}: the server's zone must disagree with Beijing here"
clock = Clock(lambda: now)
assert clock.today() == dt.date(2026, 12, 2) and local(now).hour == 7
assert quiet(now) and not_at_night(now) == at(dt.date(2026, 12, 2), 8)
late = at(dt.date(2026, 12, 2), 22, 30)
assert Clock(lambda: late).today() == dt.date(2026, 12, 2) and not_at_night(late) == at(dt.date(2026, 12, 3), 8)
with open_store(URL) as store:
    desk = Desk(store, default_kb(), clock=clock)
    assert desk.deadline("township_audit", "heqing", clock.today()) == end_of(dt.date(2026, 12, 11))
    assert add_working_days(clock.today(), 7) == dt.date(2026, 12, 11)
print("ok")
"""


def run_in_zone(zone: str, code: str) -> str:
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_today_deadlines_and_quiet_hours_follow_beijing_time_on_any_server_zone(zone: str, store_url: str) -> None:
    assert run_in_zone(zone, f"URL = {store_url!r}\n{textwrap.dedent(CLOCK_CHECKS)}").strip() == "ok"


def test_a_deadline_set_at_0730_beijing_on_a_utc_server_counts_from_beijings_today(store_url: str) -> None:
    """The chat, end to end: 上报 at 07:30 on 2 December (23:30 on 1 December UTC) → 7 working days from 2 December."""
    code = f"from pathlib import Path\nfrom tests.kit.transcripts import run_transcript\nrun_transcript(Path({str(TRANSCRIPT)!r}), {store_url!r})\nprint('ok')"
    assert run_in_zone("UTC", code).strip() == "ok"
