"""Several people (villager, cadre, township, county) talking to one real Assistant over one store.

The clock is Beijing time the test sets ("day: 2026-11-30" is 10:00 that day); the assistant's
date and the store's timestamps follow it. `deliver()` runs the real reminder scheduler once
with a pusher that records what each person got.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from dialogs.assistant import Assistant
from dialogs.messages import ChannelLimits, Incoming
from policy_kb.loader import default_kb
from reminders.scheduler import Scheduler
from storage.open import open_store
from workflow.calendar import at, local

LIMITS = ChannelLimits(max_chars=4000)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


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
    def __init__(self, url: str, region: str | None = "heqing", day: dt.date = dt.date(2026, 11, 23)) -> None:
        self.url = url
        self.region = region
        self.clock = Clock(at(day, 10))
        self.people: dict[str, tuple[str, str]] = {}
        self.pusher = RecordingPusher()
        self.open()

    def open(self) -> None:
        self.store = open_store(self.url)
        self.store.clock = self.clock  # type: ignore[attr-defined]
        self.assistant = Assistant(self.store, kb=default_kb(), region=self.region, today=self.today, clock=self.clock)
        self.scheduler = Scheduler(self.store, default_kb(), self.pusher, plan_every=0, clock=self.clock)

    def restart(self) -> None:
        """A new process: the store and assistant are opened again."""
        self.store.close()
        self.open()

    def close(self) -> None:
        self.store.close()

    @property
    def today(self) -> dt.date:
        return local(self.clock.now).date()

    def set_time(self, when: dt.datetime) -> None:
        self.clock.now = when.timestamp()
        self.assistant.fixed_today = self.today

    def person(self, name: str, channel: str = "wechat") -> tuple[str, str]:
        return self.people.setdefault(name, (channel, f"{channel}-{len(self.people) + 1}"))

    def say(self, name: str, text: str) -> str:
        channel, user = self.person(name)
        replies = self.assistant.handle(Incoming(channel, user, text), LIMITS)
        return "\n".join(r.as_text() for r in replies)

    def deliver(self) -> dict[str, list[str]]:
        """Runs the scheduler once now; what each known person was pushed in that run."""
        before = {k: len(v) for k, v in self.pusher.got.items()}
        self.scheduler.run_once(self.clock.now)
        return {name: self.pusher.got[key][before.get(key, 0):] for name, key in self.people.items()}


def run_step(world: World, step: dict[str, Any], where: str) -> None:
    """One transcript step: a message from someone, a move of the clock, a restart, or a delivery."""
    if "day" in step:
        day = dt.date.fromisoformat(str(step["day"]))
        hour, minute = map(int, str(step.get("time", "10:00")).split(":"))
        world.set_time(dt.datetime.combine(day, dt.time(hour, minute), local(world.clock.now).tzinfo))
        return
    if step.get("restart"):
        world.restart()
        return
    if "pushes" in step:
        got = "\n".join(world.deliver().get(step["pushes"], [])) or "（没有推送）"
        _check(step, got, f"{where}：推送给{step['pushes']}的内容")
        return
    speakers = [k for k in step if k not in ("expect", "absent")]
    assert len(speakers) == 1, f"{where}: 一步只能有一个人说话：{step}"
    name = speakers[0]
    reply = world.say(name, str(step[name]))
    _check(step, reply, f"{where}「{name}: {step[name]}」的回复")


def _check(step: dict[str, Any], got: str, where: str) -> None:
    for wanted in step.get("expect", []):
        assert str(wanted) in got, f"缺少「{wanted}」。{where}：\n{got}"
    for unwanted in step.get("absent", []):
        assert str(unwanted) not in got, f"不应出现「{unwanted}」。{where}：\n{got}"
