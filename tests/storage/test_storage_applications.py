"""Applications (申请纳入监测): idempotent submit, compare-and-set transitions, audit events."""

from __future__ import annotations

import re

import tests.storage.storage_workers as workers
from storage.sqlstore import SqlStore


def test_submit_is_idempotent(store: SqlStore) -> None:
    data = {"name": "张三", "income": 6500}
    app, created = store.submit_application(
        "form-1", data, channel="wechat", user="u1", village="河清村", region="河清乡", filled_by=("wechat", "c1"), deadline=123.0
    )
    assert created and re.fullmatch(r"SQ20\d\d-\d{6}", app.number)
    assert (app.state, app.version, app.filled_by, app.deadline, app.data) == ("submitted", 1, ("wechat", "c1"), 123.0, data)
    again, created_again = store.submit_application("form-1", {"name": "changed"}, channel="wechat", user="u1")
    assert not created_again and again == app
    assert store.get_application(app.number) == app
    assert len(store.list_applications()) == 1
    [event] = store.events(app.number)
    assert (event.actor, event.from_state, event.to_state) == ("wechat:c1", None, "submitted")
    second, _ = store.submit_application("form-2", {}, channel="wechat", user="u1")
    assert second.number > app.number
    assert store.get_application("SQ1999-000001") is None


def test_submit_race_creates_one_row_per_key(store_url: str, store: SqlStore) -> None:
    keys = [f"form-{i}" for i in range(60)]
    first, second = workers.race(store_url, workers.submit, keys)
    by_key = {key: number for key, number, _ in first}
    assert all(by_key[key] == number for key, number, _ in second)  # both got the same application
    created = [key for key, _, was_created in first + second if was_created]
    assert sorted(created) == sorted(keys)
    apps = store.list_applications()
    assert len(apps) == len(keys) == len({app.number for app in apps})


def test_list_filters(store: SqlStore) -> None:
    for key, user, village in [("a", "u1", "河清村"), ("b", "u2", "河清村"), ("c", "u1", "新田村"), ("d", "u3", "石门村")]:
        store.submit_application(key, {}, channel="wechat", user=user, village=village)
    store.transition(store.list_applications(user=("wechat", "u3"))[0].number, "submitted", "approved", "admin", "")

    def keys(**filters) -> list[str]:
        return [app.idem_key for app in store.list_applications(**filters)]

    assert keys(user=("wechat", "u1")) == ["a", "c"]
    assert keys(user=("telegram", "u1")) == []
    assert keys(villages=["河清村", "石门村"]) == ["a", "b", "d"]
    assert keys(villages=[]) == []
    assert keys(states=["approved"]) == ["d"]
    assert keys(villages=["河清村", "石门村"], states=["submitted"]) == ["a", "b"]


def test_transition_is_compare_and_set(store: SqlStore) -> None:
    app, _ = store.submit_application("form-1", {}, channel="wechat", user="u1", deadline=100.0)
    moved = store.transition(app.number, "submitted", "reviewing", "wechat:c1", "受理", deadline=500.0)
    assert moved is not None and (moved.state, moved.version, moved.deadline) == ("reviewing", 2, 500.0)
    assert store.transition(app.number, "submitted", "rejected", "wechat:c2", "") is None
    assert store.transition("SQ2026-999999", "submitted", "reviewing", "x", "") is None
    done = store.transition(app.number, "reviewing", "approved", "county:z", "审批通过")
    assert done is not None and done.deadline is None
    history = [(e.actor, e.from_state, e.to_state, e.note) for e in store.events(app.number)]
    assert history == [
        ("wechat:u1", None, "submitted", "submitted"),
        ("wechat:c1", "submitted", "reviewing", "受理"),
        ("county:z", "reviewing", "approved", "审批通过"),
    ]


def test_transition_race_has_one_winner_and_one_event(store_url: str, store: SqlStore) -> None:
    numbers = [store.submit_application(f"form-{i}", {}, channel="wechat", user="u")[0].number for i in range(60)]
    first, second = workers.race(store_url, workers.advance, numbers)
    assert sorted(first + second) == sorted(numbers)
    assert not set(first) & set(second)
    for number in numbers:
        app = store.get_application(number)
        assert app is not None and (app.state, app.version) == ("reviewing", 2)
        assert [e.to_state for e in store.events(number)] == ["submitted", "reviewing"]


def test_update_data_uses_the_version(store: SqlStore) -> None:
    app, _ = store.submit_application("form-1", {"income": 1}, channel="wechat", user="u1")
    updated = store.update_application_data(app.number, app.version, {"income": 2}, "wechat:c1", "更正收入")
    assert updated is not None and (updated.data, updated.version) == ({"income": 2}, 2)
    assert store.update_application_data(app.number, app.version, {"income": 3}, "wechat:c2") is None  # stale version
    assert store.get_application(app.number).data == {"income": 2}
    assert store.events(app.number)[-1].note == "更正收入"
