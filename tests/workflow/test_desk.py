"""The application desk on its own: deadlines in working days, who may do what, races, notices, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from foundation.clock import add_working_days, at, end_of, last_day_of
from policy_kb.loader import default_kb
from storage.open import open_store
from storage.sqlstore import SqlStore
from workflow.access import Actor
from workflow.desk import Desk, StepRefused

MONDAY = dt.date(2026, 11, 23)
VILLAGER = Actor("wechat", "v1")
CADRE = Actor("wechat", "c1", "cadre", "heqing", ("金墩村",))
OTHER_CADRE = Actor("wechat", "c2", "cadre", "heqing", ("上村",))
TOWNSHIP = Actor("telegram", "t1", "township", "heqing")
OTHER_TOWNSHIP = Actor("telegram", "t2", "township", "boluo")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        opened.clock = lambda: at(MONDAY, 10)
        yield opened


@pytest.fixture
def desk(store: SqlStore) -> Desk:
    return Desk(store, default_kb(), clock=store.clock)


def submit(desk: Desk, key: str = "k1", region: str = "heqing") -> str:
    data = {"name": "张三", "phone": "13812345678", "id_number": None, "village": "金墩村", "size": 4, "income": 20000, "income_per_head": 5000,
            "risk": "因病", "risk_detail": "住院"}
    app, created = desk.submit(key, data, (VILLAGER.channel, VILLAGER.user), "金墩村", region, None)
    assert created
    return app.number


def step(desk: Desk, number: str, actor: Actor, word: str, note: str = "", day: dt.date = MONDAY):
    app = desk.store.get_application(number)
    assert app is not None
    return desk.take(actor, app, desk.workflow.by_word(word), note, day)  # type: ignore[arg-type]


def test_working_days_skip_weekends() -> None:
    assert add_working_days(dt.date(2026, 11, 23), 7) == dt.date(2026, 12, 2)  # Monday -> Wednesday next week
    assert add_working_days(dt.date(2026, 11, 27), 7) == dt.date(2026, 12, 8)  # Friday -> Tuesday
    assert add_working_days(dt.date(2026, 11, 28), 1) == dt.date(2026, 11, 30)  # Saturday -> Monday
    assert add_working_days(dt.date(2026, 12, 2), -2) == dt.date(2026, 11, 30)
    assert last_day_of(end_of(dt.date(2026, 12, 2))) == dt.date(2026, 12, 2)


def test_township_deadline_is_seven_working_days_in_heqing_only(desk: Desk) -> None:
    assert desk.deadline("township_audit", "heqing", dt.date(2026, 11, 27)) == end_of(dt.date(2026, 12, 8))
    assert desk.deadline("township_audit", "boluo", MONDAY) is None  # 博罗 sets no such time limit
    assert desk.deadline("visited", "heqing", MONDAY) is None


def test_steps_need_the_right_role_and_scope(desk: Desk) -> None:
    number = submit(desk)
    with pytest.raises(StepRefused, match="没有权限"):
        step(desk, number, VILLAGER, "走访")
    with pytest.raises(StepRefused, match="没有找到"):
        step(desk, number, OTHER_CADRE, "走访")
    with pytest.raises(StepRefused, match="不能办"):
        step(desk, number, CADRE, "上报")
    for word in ("走访", "评议", "上报"):
        step(desk, number, CADRE, word, "ok")
    with pytest.raises(StepRefused, match="没有找到"):
        step(desk, number, OTHER_TOWNSHIP, "审核")
    assert step(desk, number, TOWNSHIP, "审核").state == "county_decision"


def test_two_cadres_tapping_at_once_move_it_once(desk: Desk) -> None:
    number = submit(desk)
    stale = desk.store.get_application(number)
    step(desk, number, CADRE, "走访", "第一个")
    with pytest.raises(StepRefused, match="刚被别人办理过"):
        desk.take(CADRE, stale, desk.workflow.by_word("走访"), "第二个", MONDAY)  # type: ignore[arg-type]
    moves = [e for e in desk.store.events(number) if e.to_state == "visited"]
    assert [(e.actor, e.note) for e in moves] == [("wechat:c1", "第一个")]


def test_a_rejection_needs_a_reason(desk: Desk) -> None:
    number = submit(desk)
    for actor, word in ((CADRE, "走访"), (CADRE, "评议"), (CADRE, "上报"), (TOWNSHIP, "审核")):
        step(desk, number, actor, word)
    county = Actor("telegram", "x1", "county", "heqing")
    with pytest.raises(StepRefused, match="要写备注"):
        step(desk, number, county, "不纳入", "无")
    assert step(desk, number, county, "不纳入", "收入高于标准").state == "not_monitored"


def test_each_step_is_told_once_and_lost_notices_are_queued_again(desk: Desk, store: SqlStore) -> None:
    number = submit(desk)
    step(desk, number, CADRE, "走访", "已核实")
    app = store.get_application(number)
    [event] = [e for e in store.events(number) if e.to_state == "visited"]
    assert desk.notify(app, event) is None  # queued already by the step
    store.transition(number, "visited", "village_review", "wechat:c1", "评议通过")  # a step whose process died before telling
    assert desk.queue_missed_notices(since=0) == 1
    assert desk.queue_missed_notices(since=0) == 0
    texts = [r.payload["texts"][0] for r in store.claim_due(at(MONDAY, 11), 10, "test")]
    assert len(texts) == 2 and "走访排查完成" in texts[0] and "民主评议完成" in texts[1]
    assert not any("13812345678" in t for t in texts)


def test_the_audit_log_says_who_when_and_why(desk: Desk, store: SqlStore) -> None:
    number = submit(desk)
    step(desk, number, CADRE, "走访", "已入户核实")
    events = store.events(number)
    assert [(e.from_state, e.to_state, e.actor, e.note) for e in events] == [
        (None, "submitted", "wechat:v1", "submitted"), ("submitted", "visited", "wechat:c1", "已入户核实")]
    assert events[1].at == at(MONDAY, 10)
