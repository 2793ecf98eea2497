"""The console's 月报 and 统计 read the database in grouped queries: the first move of each
application into a state within a month, counts per column, and the median time of each step."""

from __future__ import annotations

from storage.sql import migrations
from storage.sqlstore import SqlStore
from tests.storage.conftest import Clock

DAY = 86400.0


def _walk(store: SqlStore, clock: Clock, key: str, steps: list[tuple[str, float]], region: str = "heqing", village: str = "金墩村",
          risk: str = "因病") -> str:
    """An application submitted now that takes each (state, days later) step in turn."""
    app, _ = store.submit_application(key, {"risk": risk}, channel="wechat", user=key, village=village, region=region)
    state = "submitted"
    for target, days in steps:
        clock.advance(days * DAY)
        assert store.transition(app.number, state, target, "staff") is not None
        state = target
    return app.number


def test_entries_are_the_first_move_into_a_state_within_the_window(store: SqlStore, clock: Clock) -> None:
    start = clock()
    inside = _walk(store, clock, "a", [("audit", 1), ("verified", 1)])
    store.record_event(inside, "staff", "看过")  # a note is not a move
    back = _walk(store, clock, "b", [("verified", 1), ("audit", 1), ("verified", 1)])  # verified twice: the first counts
    other_region = _walk(store, clock, "c", [("verified", 1)], region="boluo")
    end = clock() + 1
    _walk(store, clock, "d", [("verified", 2)])  # after the window
    moves = store.entries(["verified"], start, end, region="heqing")
    assert [(app.number, event.to_state) for app, event in moves] == [(inside, "verified"), (back, "verified")]
    assert moves[1][1].from_state == "submitted"  # b's first move into verified, not its return from audit
    assert [app.number for app, _ in store.entries(["verified"], start, end)] == [inside, back, other_region]
    assert store.entries(["verified"], start, end, region="heqing", villages=[]) == []
    assert store.entries([], start, end) == []


def test_tallies_count_per_column_in_scope(store: SqlStore, clock: Clock) -> None:
    _walk(store, clock, "a", [("audit", 1)], village="金墩村", risk="因病")
    _walk(store, clock, "b", [("audit", 1)], village="金墩村", risk="因学")
    _walk(store, clock, "c", [], village="新田村", risk="因病")
    _walk(store, clock, "d", [], region="boluo", village="某村", risk="因灾")
    assert store.tally_applications("state", region="heqing") == [("audit", 2), ("submitted", 1)]
    assert store.tally_applications("village", region="heqing") == [("金墩村", 2), ("新田村", 1)]
    assert store.tally_applications("risk", region="heqing") == [("因病", 2), ("因学", 1)]
    assert store.tally_applications("risk", region="heqing", villages=["新田村"]) == [("因病", 1)]
    assert store.tally_applications("state") == [("audit", 2), ("submitted", 2)]  # every region (admin)


def test_tallies_of_overdue_count_only_passed_deadlines(store: SqlStore, clock: Clock) -> None:
    for key, deadline in (("a", clock() - 1), ("b", clock() + DAY), ("c", None)):
        store.submit_application(key, {}, channel="wechat", user=key, region="heqing", deadline=deadline)
    assert store.tally_applications("state", region="heqing", overdue_at=clock()) == [("submitted", 1)]


def test_step_times_are_counted_per_kind_of_step(store: SqlStore, clock: Clock) -> None:
    for key, days in (("a", 1), ("b", 1), ("c", 6)):
        number = _walk(store, clock, key, [("audit", days)])
        store.record_event(number, "staff", "备注")  # a note after the step is not a step
    _walk(store, clock, "d", [("audit", 1), ("verified", 2.5)])
    _walk(store, clock, "f", [("audit", 30)], region="boluo")
    times = sorted((f, t, round(seconds / DAY, 2), n) for f, t, seconds, n in store.step_times(region="heqing"))
    assert times == [("audit", "verified", 2.5, 1), ("submitted", "audit", 1.0, 3), ("submitted", "audit", 6.0, 1)]
    assert store.step_times(region="heqing", villages=[]) == []


def test_step_counts_are_filled_in_for_the_audit_log_already_there(store: SqlStore, clock: Clock) -> None:
    """Migration 0010 counts the steps the audit log held before the table existed."""
    _walk(store, clock, "a", [("audit", 2)])
    store._transact(lambda tx: tx.run("DELETE FROM step_counts"), write=True)
    [backfill] = [sql for sql in next(m for m in migrations() if m.version == 10).statements if sql.lstrip().startswith("INSERT")]
    store._transact(lambda tx: tx.run(backfill), write=True)
    assert [(f, t, round(s / DAY, 2), n) for f, t, s, n in store.step_times(region="heqing", villages=["金墩村"])] == [("submitted", "audit", 2.0, 1)]
