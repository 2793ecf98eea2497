"""The console's 月报 and 统计 read the database in grouped queries: the first move of each
application into a state within a month, counts per column, and the median time of each step."""

from __future__ import annotations

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


def test_step_medians_are_per_kind_of_step(store: SqlStore, clock: Clock) -> None:
    for key, days in (("a", 1), ("b", 2), ("c", 6)):  # odd count: the middle one
        number = _walk(store, clock, key, [("audit", days)])
        store.record_event(number, "staff", "备注")  # a note after the step does not count as a step
    for key, days in (("d", 1), ("e", 4)):  # even count: the mean of the two middle ones
        _walk(store, clock, key, [("audit", 1), ("verified", days)])
    _walk(store, clock, "f", [("audit", 30)], region="boluo")
    medians = {(f, t): (round(seconds / DAY, 2), n) for f, t, seconds, n in store.step_medians(region="heqing")}
    assert medians == {("submitted", "audit"): (1.0, 5), ("audit", "verified"): (2.5, 2)}
    assert store.step_medians(region="heqing", villages=[]) == []
