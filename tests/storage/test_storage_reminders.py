"""Reminder subscriptions and the due queue: dedupe, claiming, leases, retries, two delivering processes."""

from __future__ import annotations

from collections import Counter

import tests.storage.storage_workers as workers
from storage.sqlstore import SqlStore


def test_subscriptions(store: SqlStore) -> None:
    assert store.get_subscription("wechat", "u1") is None
    store.upsert_subscription("wechat", "u1", ["deadline", "policy"])
    store.upsert_subscription("wechat", "u1", ["deadline"])
    assert store.get_subscription("wechat", "u1") == ["deadline"]
    store.delete_subscription("wechat", "u1")
    assert store.get_subscription("wechat", "u1") is None


def test_schedule_ignores_duplicates_and_claims_only_due(store: SqlStore) -> None:
    first = store.schedule_reminder("wechat", "u1", "deadline", {"number": "SQ2026-000001"}, due_at=100, dedupe_key="d:1")
    assert first is not None
    assert store.schedule_reminder("wechat", "u1", "deadline", {"other": 1}, due_at=50, dedupe_key="d:1") is None
    later = store.schedule_reminder("wechat", "u2", "policy", {}, due_at=200)
    assert store.claim_due(99, 10, "w1") == []
    [claimed] = store.claim_due(150, 10, "w1")
    assert (claimed.id, claimed.state, claimed.worker, claimed.attempts) == (first, "sending", "w1", 1)
    assert claimed.payload == {"number": "SQ2026-000001"}
    assert store.claim_due(150, 10, "w2") == []  # already claimed
    assert store.mark_sent(first) and not store.mark_sent(first)
    assert [r.id for r in store.claim_due(1000, 10, "w2")] == [later]


def test_dead_workers_claims_come_back_after_the_lease(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    assert len(store.claim_due(10, 10, "dies", lease_seconds=60)) == 1
    assert store.claim_due(69, 10, "w2") == []
    [again] = store.claim_due(70, 10, "w2")
    assert (again.id, again.worker, again.attempts) == (reminder, "w2", 2)


def test_mark_failed_retries_or_gives_up(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    store.claim_due(10, 10, "w")
    assert store.mark_failed(reminder, retry_at=500)
    assert store.claim_due(499, 10, "w") == []
    [retry] = store.claim_due(500, 10, "w")
    assert retry.attempts == 2
    assert store.mark_failed(reminder, retry_at=None)
    assert store.claim_due(10**10, 10, "w") == []
    assert not store.mark_sent(reminder)


def test_two_processes_deliver_10000_due_reminders_each_exactly_once(store_url: str, store: SqlStore, tmp_path) -> None:
    ids = [store.schedule_reminder("wechat", f"u{i % 500}", "deadline", {"i": i}, due_at=i % 1000) for i in range(10_000)]
    counts = workers.race(store_url, workers.deliver, 1000.0, str(tmp_path))
    sent = Counter(int(line) for index in range(2) for line in (tmp_path / f"{index}.txt").read_text().split())
    assert sorted(sent) == sorted(ids)
    assert set(sent.values()) == {1}
    assert sum(counts) == 10_000 and min(counts) > 0  # both processes took part
    assert store.claim_due(10**10, 10, "check") == []
