"""Drafts and the true state of an application (issue 13, points 6 and 11).

Consent is asked before anything identifying; a form left before consent, or any conversation
left silent, is emptied in the store after the 30-minute timeout; a form the user consented to
is kept for a week, and after a timeout the user is told it was kept and asked its question
again; a household never has two open applications; a database that does not answer keeps the
form as it was.
"""

from __future__ import annotations

import json

import pytest

from storage.base import StoreUnavailable
from tests.kit.world import World

PHONE = "13987654321"
FORM = ["申请纳入监测", "1", "张三", "金墩村", PHONE, "跳过", "3", "6000", "1", "老伴住院"]


def stored_session(world: World, name: str) -> str:
    return json.dumps(world.store.load_session(*world.person(name)), ensure_ascii=False)


def test_consent_comes_before_anything_identifying(store_url: str) -> None:
    world = World(store_url)
    first = world.say("张三", "申请纳入监测")
    assert "同意吗" in first and "叫什么名字" not in first and "手机号是多少" not in first
    assert "什么也没有保存" in world.say("张三", "不同意")
    assert world.store.list_applications() == []
    assert "flow" not in stored_session(world, "张三")
    world.close()


def test_a_silent_conversation_is_emptied_after_the_timeout(store_url: str) -> None:
    world = World(store_url)
    for line in ("确认申请", "金墩村", PHONE):  # the phone is in the session while the code is asked
        world.say("李四", line)
    assert PHONE in stored_session(world, "李四")
    world.clock.advance(31 * 60)
    world.say("别人", "你好")  # any save sweeps what has expired
    assert PHONE not in stored_session(world, "李四")
    reply = world.say("李四", "123456")
    assert "已经结束了" in reply
    world.close()


def test_a_consented_form_is_kept_past_the_timeout_and_the_user_is_told(store_url: str) -> None:
    world = World(store_url)
    for line in FORM:
        world.say("张三", line)
    world.clock.advance(45 * 60)
    world.say("别人", "你好")
    reply = world.say("张三", "1")  # an answer to a summary shown 45 minutes ago is not taken as 确认
    assert "还替您保留着（还没有提交）" in reply and "请核对" in reply
    assert world.store.list_applications() == []
    assert "申请已提交" in world.say("张三", "1")
    assert len(world.store.list_applications()) == 1
    world.close()


def test_a_consented_form_goes_after_a_week(store_url: str) -> None:
    world = World(store_url)
    for line in FORM:
        world.say("张三", line)
    world.clock.advance(8 * 24 * 3600)
    world.say("别人", "你好")
    assert PHONE not in stored_session(world, "张三")
    assert "没填完的内容已经删除" in world.say("张三", "1")
    world.close()


def test_a_household_has_one_open_application(store_url: str) -> None:
    world = World(store_url)
    for line in [*FORM, "1"]:
        world.say("张三", line)
    [app] = world.store.list_applications()
    again = world.say("张三", "我要申请纳入监测")
    assert f"已经有一份正在办理的申请 {app.number}" in again and "同意吗" not in again
    assert len(world.store.list_applications()) == 1
    world.close()


def test_two_forms_opened_side_by_side_submit_once(store_url: str) -> None:
    """A second form opened before the first was submitted (two phones, one account) is stopped at 确认."""
    world = World(store_url)
    for line in FORM:
        world.say("张三", line)
    session = world.store.load_session(*world.person("张三"))
    world.say("张三", "1")  # the first form is submitted
    other = {**session, "flow": {**session["flow"], "slots": {**session["flow"]["slots"], "instance": "another"}}}
    world.store.save_session(*world.person("张三"), other)
    reply = world.say("张三", "1")
    assert "已经有一份正在办理的申请" in reply
    assert len(world.store.list_applications()) == 1
    world.close()


def test_a_database_that_does_not_answer_keeps_the_form(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(store_url)
    for line in FORM:
        world.say("张三", line)
    before = world.store.load_session(*world.person("张三"))["flow"]

    def locked(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("locked")

    with monkeypatch.context() as patch:
        patch.setattr(world.store, "submit_application", locked)
        reply = world.say("张三", "1")
    assert "已经填的内容都还在" in reply and "对话已结束" not in reply
    assert world.store.load_session(*world.person("张三"))["flow"] == before
    assert "申请已提交" in world.say("张三", "1")
    world.close()
