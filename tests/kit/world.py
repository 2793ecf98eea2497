"""People talking to the real assistant over a real store, with a clock the test moves.

`Chat` is one villager; `World` is several people (villager, cadre, township, county) on one
store, with the real reminder scheduler and a pusher that records what each person got. Both are
built by the composition root (app/wiring.py), as the bot is.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from app.wiring import assistant
from conversation.messages import ChannelLimits, Incoming
from foundation.clock import at, local
from policy_kb.loader import default_kb
from reminders.scheduler import Scheduler
from storage.open import open_store
from tests.kit.clock import TestClock

LIMITS = ChannelLimits(max_chars=4000)


class Chat:
    """A user talking to an assistant over a real SQLite file; `restart` re-opens both."""

    def __init__(self, db: Path | str, region: str | None = None, today: dt.date | None = None) -> None:
        self.db = str(db)
        self.region = region
        self.clock = TestClock(today=today or dt.date(2026, 11, 22))
        self.user = "villager-1"
        self.restart()

    def restart(self) -> None:
        self.store = open_store(self.db)
        self.assistant = assistant(self.store, kb=default_kb(), region=self.region, clock=self.clock)

    def say(self, text: str, kind: str = "text") -> str:
        replies = self.assistant.handle(Incoming("test", self.user, text, kind=kind), LIMITS)  # type: ignore[arg-type]
        return "\n".join(r.as_text() for r in replies)


class RecordingPusher:
    """Delivers into a list per (channel, user); optionally refuses some users (unreachable)."""

    def __init__(self) -> None:
        self.got: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.unreachable: set[tuple[str, str]] = set()

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        if (channel, user) in self.unreachable:
            return False
        self.got[(channel, user)].extend(texts)
        return True


class World:
    """Several people on one store; the clock is Beijing time the test sets (10:00 of `day`)."""

    def __init__(self, url: str, region: str | None = "heqing", day: dt.date = dt.date(2026, 11, 23)) -> None:
        self.url = url
        self.region = region
        self.clock = TestClock(at(day, 10))
        self.people: dict[str, tuple[str, str]] = {}
        self.pusher = RecordingPusher()
        self.open()

    def open(self) -> None:
        self.store = open_store(self.url)
        self.assistant = assistant(self.store, kb=default_kb(), region=self.region, clock=self.clock)
        self.scheduler = Scheduler(self.store, default_kb(), self.pusher, plan_every=0, clock=self.clock)

    def restart(self) -> None:
        """A new process: the store and assistant are opened again."""
        self.store.close()
        self.open()

    def close(self) -> None:
        self.store.close()

    @property
    def today(self) -> dt.date:
        return local(self.clock.at).date()

    def set_time(self, when: dt.datetime) -> None:
        self.clock.at = when.timestamp()

    def person(self, name: str, channel: str = "wechat") -> tuple[str, str]:
        return self.people.setdefault(name, (channel, f"{channel}-{len(self.people) + 1}"))

    def say(self, name: str, text: str) -> str:
        channel, user = self.person(name)
        replies = self.assistant.handle(Incoming(channel, user, text), LIMITS)
        return "\n".join(r.as_text() for r in replies)

    def deliver(self) -> dict[str, list[str]]:
        """Runs the scheduler once now; what each known person was pushed in that run."""
        before = {k: len(v) for k, v in self.pusher.got.items()}
        self.scheduler.run_once(self.clock.at)
        return {name: self.pusher.got[key][before.get(key, 0):] for name, key in self.people.items()}
