"""The one transcript runner: a YAML conversation replayed against the real assistant.

A file names its `region` and `date`, optionally its `people` (name: channel) and the `invites`
an admin made, and `steps`. A step is a message (`<person>: <text>`, or `user: <text>` for the
one villager of a single-user script, with `kind:` for follow/unfollow events) with the
substrings its reply must (`expect`) and must not (`absent`) contain; or `day:` (and `time:`)
to move the clock to that day, `wait_minutes:` to move it on, `restart: true` to re-open store
and assistant as a new process would, `pushes: <person>` to run the reminder scheduler once and
check what that person was pushed. `keep: {name: regex}` on a message step keeps the regex's
first group from the reply (a one-time code), and `{name}` in a later message says it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from conversation.messages import Incoming
from foundation.clock import local
from tests.kit.world import LIMITS, World

VILLAGER = "村民"
STEP_KEYS = ("expect", "absent", "kind", "keep")


def run_transcript(path: Path, store_url: str) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    world = World(store_url, region=script.get("region"), day=dt.date.fromisoformat(str(script.get("date", "2026-11-22"))))
    try:
        for name, channel in (script.get("people") or {}).items():
            world.person(name, channel)
        for invite in script.get("invites") or []:
            world.store.create_invite(invite["role"], invite.get("villages", []), invite.get("region"), invite["code"])
        kept: dict[str, str] = {}
        for number, step in enumerate(script["steps"], 1):
            run_step(world, step, f"{path.name} 第 {number} 步", kept)
    finally:
        world.close()


def run_step(world: World, step: dict[str, Any], where: str, kept: dict[str, str]) -> None:
    if "day" in step:
        day = dt.date.fromisoformat(str(step["day"]))
        hour, minute = map(int, str(step.get("time", "10:00")).split(":"))
        world.set_time(dt.datetime.combine(day, dt.time(hour, minute), local(world.clock.at).tzinfo))
        return
    if "wait_minutes" in step:
        world.clock.advance(step["wait_minutes"] * 60)
        if len(step) == 1:
            return
    if step.get("restart"):
        world.restart()
        if len(step) == 1:
            return
    if "pushes" in step:
        got = "\n".join(world.deliver().get(step["pushes"], [])) or "（没有推送）"
        check(step, got, f"{where}：推送给{step['pushes']}的内容")
        return
    speakers = [k for k in step if k not in (*STEP_KEYS, "wait_minutes", "restart")]
    assert len(speakers) == 1, f"{where}: 一步只能有一个人说话：{step}"
    name = speakers[0]
    person = VILLAGER if name == "user" else name
    channel, user = world.person(person)
    said = re.sub(r"\{(\w+)\}", lambda m: kept[m.group(1)], str(step[name]))
    replies = world.assistant.handle(Incoming(channel, user, said, kind=step.get("kind", "text")), LIMITS)
    got = "\n".join(r.as_text() for r in replies)
    check(step, got, f"{where}「{person}: {said}」的回复")
    for key, pattern in (step.get("keep") or {}).items():
        found = re.search(pattern, got)
        assert found, f"{where}: 回复里没有「{pattern}」：\n{got}"
        kept[key] = found.group(1)


def check(step: dict[str, Any], got: str, where: str) -> None:
    for wanted in step.get("expect", []):
        assert str(wanted) in got, f"缺少「{wanted}」。{where}：\n{got}"
    for unwanted in step.get("absent", []):
        assert str(unwanted) not in got, f"不应出现「{unwanted}」。{where}：\n{got}"
