"""Phone, ID and bank-card numbers typed into free text are stored masked (issue 13, point 5).

A villager writes the numbers into the hardship detail, a cadre into a step note, a household
description holds a phone: the stored application, the audit log, the session, the cadre's
summary, the export and what is left after 删除我的信息 hold none in full. The dedicated phone
and ID fields keep theirs (the township calls and checks the ID) until deletion.
"""

from __future__ import annotations

import json

from tests.kit.world import World
from workflow.export import export
from workflow.model import load_workflow

PHONE, OTHER_PHONE, ID, CARD = "13987654321", "13700001234", "11010519491231002X", "6222021234567890123"
DETAIL = f"老伴住院，有事打 {OTHER_PHONE[:3]} {OTHER_PHONE[3:7]} {OTHER_PHONE[7:]}，身份证{ID}，卡号{CARD}"
APPLY = ["申请纳入监测", "1", "张三", "金墩村", PHONE, "跳过", "3", "6000", "1", DETAIL, "1"]


def world_with_application(url: str) -> World:
    world = World(url)
    world.store.create_invite("cadre", ["金墩村"], "heqing", "JDCX-2026")
    world.say("王书记", "邀请码 JDCX-2026")
    for line in APPLY:
        world.say("张三", line)
    return world


def full_numbers(text: str) -> list[str]:
    return [n for n in (OTHER_PHONE, ID, CARD) if n in text]


def test_numbers_in_free_text_are_stored_masked(store_url: str) -> None:
    world = world_with_application(store_url)
    [app] = world.store.list_applications()
    assert app.data["phone"] == PHONE  # the dedicated field keeps the number it is for
    assert full_numbers(json.dumps(app.data, ensure_ascii=False)) == [], app.data["risk_detail"]
    assert "137****1234" in app.data["risk_detail"] and "6222********0123" in app.data["risk_detail"]
    world.say("王书记", f"走访 {app.number} 已入户，女儿电话{OTHER_PHONE}")
    notes = " ".join(e.note for e in world.store.events(app.number))
    assert full_numbers(notes) == [] and "137****1234" in notes
    summary = world.say("王书记", app.number)
    assert full_numbers(summary) == [] and PHONE not in summary
    exported = export(world.store.list_applications(), load_workflow(), "csv")
    assert full_numbers(exported) == [] and PHONE not in exported
    world.close()


def test_a_description_kept_in_the_session_is_masked(store_url: str) -> None:
    world = World(store_url)
    world.say("李四", "申请纳入监测")
    world.say("李四", "1")
    world.say("李四", f"我家4口人，老伴住院，我电话{OTHER_PHONE}，孩子读初中")  # a family described inside the form: kept
    state = json.dumps(world.store.load_session(*world.person("李四")), ensure_ascii=False)
    assert "137****1234" in state and OTHER_PHONE not in state
    world.close()


def test_replies_kept_for_channel_retries_go_with_the_applicant(store_url: str) -> None:
    world = world_with_application(store_url)
    world.store.save_reply("wechat:msg:1", ["请核对：申请人：张三（金墩村）"])
    world.store.save_reply("wechat:msg:2", ["别人的回复"])
    world.say("张三", "删除我的信息")
    world.say("张三", "1")
    assert world.store.get_reply("wechat:msg:1") is None
    assert world.store.get_reply("wechat:msg:2") == ["别人的回复"]
    world.close()
