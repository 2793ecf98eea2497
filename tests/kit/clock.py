"""A clock the test moves: the assistant, the store and the scheduler all read it."""

from __future__ import annotations

import datetime as dt

from foundation.clock import Clock


class TestClock(Clock):
    """`at` is the Unix time the test sets; "today" follows it in Beijing time unless fixed."""

    __test__ = False  # not a pytest test class

    def __init__(self, at: float = 1_800_000_000.0, today: dt.date | None = None) -> None:
        self.at = at
        super().__init__(source=lambda: self.at, today=today)

    def advance(self, seconds: float) -> None:
        self.at += seconds
