"""Dates and times as the county counts them: Beijing time, working days, months; and the one
clock every part of the assistant reads.

Deadlines in the procedure are in working days (鹤庆: 乡镇在7个工作日内核查). Only weekends are
skipped: statutory holidays and make-up working days change every year and are not known here,
so around a holiday a computed deadline can be earlier than the legal one, never later.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # China has no daylight saving time
DAY = 24 * 3600.0


class Clock:
    """Unix time, and "today" as Beijing time has it, whatever zone the server runs in.

    `today` can be fixed (`bot.py console --date`, tests): the policy date then stays put while
    time still passes for session timeouts. Tests move time by setting a clock's `source`.
    """

    def __init__(self, source: Callable[[], float] = time.time, today: dt.date | None = None) -> None:
        self.source = source
        self.fixed_today = today

    def now(self) -> float:
        return self.source()

    def today(self) -> dt.date:
        return self.fixed_today or local(self.source()).date()


def local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, TZ)


def at(day: dt.date, hour: int = 0, minute: int = 0) -> float:
    """The Unix time of `day` at hour:minute Beijing time."""
    return dt.datetime.combine(day, dt.time(hour, minute), TZ).timestamp()


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (negative: before it)."""
    step = 1 if count >= 0 else -1
    left = abs(count)
    while left:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


def end_of(day: dt.date) -> float:
    """A deadline "by `day`" ends when the next day starts."""
    return at(day + dt.timedelta(days=1))


def last_day_of(deadline: float) -> dt.date:
    """The day a deadline stored by `end_of` belongs to."""
    return local(deadline - 1).date()


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the month before `today`'s."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def short(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"
