"""The two crash windows of a submission, made to happen on purpose (test_crash.py hits them at random).

A process that dies raises no Python exception the assistant could catch; `Killed` (a
BaseException) escapes Assistant.handle the same way, and a new World is the next process.
"""

from __future__ import annotations

import pytest

from tests.kit.world import World

ANSWERS = ["申请纳入监测", "1", "张三", "金墩村", "13812345678", "跳过", "4", "2万", "1", "老伴住院"]


class Killed(BaseException):
    """The process died here."""


def at_confirmation(url: str) -> World:
    world = World(url)
    for answer in ANSWERS:
        world.say("张三", answer)
    return world


def count(world: World) -> int:
    return len(world.store.list_applications(user=world.person("张三")))


def test_killed_before_the_application_was_stored(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world = at_confirmation(store_url)
    monkeypatch.setattr(world.store, "submit_application", lambda *a, **k: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        world.say("张三", "1")
    world.restart()
    reply = world.say("张三", "我的申请到哪一步了")
    assert "还没有提交" in reply and count(world) == 0
    assert "SQ2026-000001" in world.say("张三", "1") and count(world) == 1
    world.close()


def test_killed_after_the_application_was_stored(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world = at_confirmation(store_url)
    save = world.store.save_session

    def die_once_stored(channel: str, user: str, state: dict) -> None:
        if world.store.list_applications(user=(channel, user)):
            raise Killed()
        save(channel, user, state)

    monkeypatch.setattr(world.store, "save_session", die_once_stored)
    with pytest.raises(Killed):
        world.say("张三", "1")
    world.restart()
    reply = world.say("张三", "1")  # the user taps again: it must not submit a second time
    assert "已经提交成功" in reply and "SQ2026-000001" in reply and count(world) == 1
    assert "SQ2026-000001" in world.say("张三", "我的申请")
    world.close()


def test_the_same_confirmation_in_two_processes_makes_one_application(store_url: str) -> None:
    """A WeChat retry handled by a second process that read the session before the first one saved it."""
    first = at_confirmation(store_url)
    second = World(store_url)
    second.people = dict(first.people)
    who = first.person("张三")
    session_before = first.store.load_session(*who)
    assert "SQ2026-000001" in first.say("张三", "1")
    first.store.save_session(*who, session_before)
    assert "SQ2026-000001" in second.say("张三", "1")
    assert count(first) == 1
    first.close()
    second.close()
