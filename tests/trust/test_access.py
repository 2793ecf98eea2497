"""Nobody acts where they don't belong (issue 13, points 1 to 4), on SQLite and PostgreSQL.

1. A 代填 application is taken only with the code the cadre was shown: guessing is limited per
   account and per application, and every miss reads the same, also a right code another account
   already used. 2. Staff never take a step on their own application, and the refusal is in the
   audit log. 3. A revoked cadre reads nothing they filled in, a revoked reviewer gets no more of
   their reminders. 4. A village is known by its county.
"""

from __future__ import annotations

import re

import pytest

from tests.kit.world import World
from workflow.access import Actor, can_see, create_invite, in_scope
from workflow.desk import TRIES_PER_ACCOUNT, TRIES_PER_APPLICATION

PROXY = ["帮李四申请纳入监测", "1", "1", "13900001111", "跳过", "3", "6000", "6", "厂子倒闭了", "1"]
MISS = "没有找到和这个村、手机号、确认码都对得上"


def cadre_world(url: str) -> tuple[World, str]:
    """A cadre of 金墩村 and 上村 in 鹤庆 who filled in 李四's application; returns the code they were shown."""
    world = World(url)
    world.store.create_invite("cadre", ["金墩村", "上村"], "heqing", "JDCX-2026")
    world.say("王书记", "邀请码 JDCX-2026")
    reply = ""
    for line in PROXY:
        reply = world.say("王书记", line)
    found = re.search(r"确认码：(\d{6})", reply)
    assert found, reply
    return world, found.group(1)


def confirm(world: World, who: str, code: str, village: str = "金墩村", phone: str = "13900001111") -> str:
    for line in ("确认申请", village, phone):
        world.say(who, line)
    return world.say(who, code)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_village_and_phone_without_the_code_take_nothing(store_url: str) -> None:
    world, code = cadre_world(store_url)
    wrong = confirm(world, "路人", other_code(code))
    wrong_phone = confirm(world, "路人甲", code, phone="13900001112")
    assert MISS in wrong and wrong == wrong_phone  # a near miss reads like a far one
    assert "SQ2026" not in wrong and "李四" not in wrong
    assert world.store.get_application("SQ2026-000001").data.get("account") is None
    assert "还没有提交过申请" in world.say("路人", "我的申请")
    world.close()


def test_a_used_code_reads_like_a_wrong_one(store_url: str) -> None:
    world, code = cadre_world(store_url)
    assert "已确认" in confirm(world, "李四", code)
    taken = confirm(world, "路人", code)
    assert taken == confirm(world, "路人乙", other_code(code))
    assert world.store.get_application("SQ2026-000001").data["account"] == ":".join(world.person("李四"))
    world.close()


def test_an_account_gets_a_few_tries_a_day(store_url: str) -> None:
    world, code = cadre_world(store_url)
    for n in range(TRIES_PER_ACCOUNT):
        assert MISS in confirm(world, "路人", f"{n:06d}" if f"{n:06d}" != code else "999999", phone=f"1390000{n:04d}")
    assert "输错的次数太多" in confirm(world, "路人", code)  # even the right code, once the tries are used up
    assert world.store.get_application("SQ2026-000001").data.get("account") is None
    world.clock.advance(24 * 3600 + 1)
    assert "已确认" in confirm(world, "路人", code)  # a day later (the cadre's code still stands)
    world.close()


def test_an_application_takes_a_few_wrong_codes_then_its_code_is_void(store_url: str) -> None:
    world, code = cadre_world(store_url)
    wrong = [c for c in (f"{n:06d}" for n in range(TRIES_PER_APPLICATION + 1)) if c != code][:TRIES_PER_APPLICATION]
    for n, guess in enumerate(wrong):
        assert MISS in confirm(world, f"猜的人{n}", guess)  # each from a new account: the account limit is not what stops them
    assert MISS in confirm(world, "李四", code)  # void now, even for the right code
    assert "确认码已作废" in world.say("王书记", "SQ2026-000001")
    fresh = re.search(r"新确认码：(\d{6})", world.say("王书记", "确认码 SQ2026-000001"))
    assert fresh and "已确认" in confirm(world, "李四", fresh.group(1))
    events = [e.note for e in world.store.events("SQ2026-000001")]
    assert "确认码输错次数过多，已作废" in events
    world.close()


def test_only_a_cadre_of_the_village_makes_a_new_code(store_url: str) -> None:
    world, _ = cadre_world(store_url)
    assert "新确认码" not in world.say("路人", "确认码 SQ2026-000001")
    world.store.create_invite("cadre", ["别村"], "heqing", "BCUN-2026")
    world.say("别村干部", "邀请码 BCUN-2026")
    assert "新确认码" not in world.say("别村干部", "确认码 SQ2026-000001")
    world.close()


SELF = ["申请纳入监测", "1", "王书记", "金墩村", "13800002222", "跳过", "3", "6000", "1", "住院", "1"]


@pytest.mark.parametrize("role, steps", [
    ("cadre", ["走访 SQ2026-000001 自己走访了"]),
    ("township", []),
    ("county", []),
])
def test_staff_are_refused_every_step_on_their_own_application(store_url: str, role: str, steps: list[str]) -> None:
    world = World(store_url)
    world.store.create_invite("cadre", ["金墩村"], "heqing", "JDCX-2026")
    world.store.create_invite("cadre", ["金墩村"], "heqing", "JDCY-2026")
    world.store.create_invite("township", [], "heqing", "XZSH-2026")
    world.store.create_invite("county", [], "heqing", "XJYP-2026")
    world.say("王书记", {"cadre": "邀请码 JDCX-2026", "township": "邀请码 XZSH-2026", "county": "邀请码 XJYP-2026"}[role])
    world.say("另一位村干部", "邀请码 JDCY-2026")
    world.say("乡镇", "邀请码 XZSH-2026" if role != "township" else "邀请码 JDCY-2026")
    for line in SELF[:1] + (["2"] if role == "cadre" else []) + SELF[1:]:  # a cadre is asked whose application it is
        world.say("王书记", line)
    assert world.store.get_application("SQ2026-000001") is not None
    # Move it to the role's own step through other staff, then the applicant-staff tries it.
    if role in ("township", "county"):
        for line in ("走访 SQ2026-000001 已核实", "评议 SQ2026-000001 通过", "上报 SQ2026-000001"):
            assert "已办理" in world.say("另一位村干部", line), line
        steps = ["审核 SQ2026-000001 属实"]
    if role == "county":
        world.store.create_invite("township", [], "heqing", "XZSH-2027")
        world.say("乡镇乙", "邀请码 XZSH-2027")
        assert "已办理" in world.say("乡镇乙", "审核 SQ2026-000001 属实")
        steps = ["纳入 SQ2026-000001 属实", "不纳入 SQ2026-000001 收入高"]
    before = world.store.get_application("SQ2026-000001").state
    for line in steps:
        reply = world.say("王书记", line)
        assert "是您本人的申请" in reply and "回避" in reply, reply
    app = world.store.get_application("SQ2026-000001")
    assert app.state == before
    assert any(e.note.startswith("回避：") and e.actor == ":".join(world.person("王书记")) for e in world.store.events(app.number))
    assert "SQ2026-000001" not in world.say("王书记", "我的待办")  # nor offered as their work
    world.close()


def test_revoking_a_cadre_ends_what_they_filled_in(store_url: str) -> None:
    world, _ = cadre_world(store_url)
    assert "李四" in world.say("王书记", "SQ2026-000001")
    world.store.revoke_role(*world.person("王书记"))
    reply = world.say("王书记", "SQ2026-000001")
    assert "没有找到" in reply and "李四" not in reply
    world.close()


def test_revoking_a_reviewer_ends_their_reminders(store_url: str) -> None:
    world = World(store_url)
    world.store.create_invite("township", [], "heqing", "XZSH-2026")
    world.store.create_invite("township", [], "heqing", "XZSH-2027")
    for name, code in (("乡镇李", "XZSH-2026"), ("乡镇王", "XZSH-2027")):
        world.say(name, f"邀请码 {code}")
        world.say(name, "订阅提醒")
        channel, user = world.person(name)
        topic = world.store.get_subscription(channel, user)[0]
        world.store.schedule_reminder(channel, user, "rule", {"texts": ["SQ2026-000001 快到期限了"], "topic": topic},
                                      world.clock.now() - 1, f"rule:deadline:{name}")
    world.store.revoke_role(*world.person("乡镇李"))
    pushed = world.deliver()
    assert "快到期限" in "\n".join(pushed["乡镇王"])  # the reminder itself goes out
    assert "快到期限" not in "\n".join(pushed["乡镇李"])
    world.close()


def test_a_village_is_known_by_its_county(store_url: str) -> None:
    world = World(store_url)
    world.store.create_invite("cadre", ["金墩村"], "heqing", "JDCX-2026")
    world.say("王书记", "邀请码 JDCX-2026")
    app, _ = world.store.submit_application("k1", {"name": "外县人", "phone": "13900009999"}, channel="wechat", user="x",
                                            village="金墩村", region="yueyang")
    cadre = Actor("wechat", "c", "cadre", None, ("金墩村",))
    assert not in_scope(cadre, app) and not can_see(cadre, app)
    assert "外县人" not in world.say("王书记", app.number)
    with pytest.raises(ValueError):
        create_invite(world.store, "cadre", ["金墩村"], None, None)
    world.close()
