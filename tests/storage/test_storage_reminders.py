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


def test_a_dead_workers_claim_comes_back_after_30_seconds_by_default(store: SqlStore) -> None:
    store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    assert len(store.claim_due(10, 10, "dies")) == 1
    assert store.claim_due(39, 10, "w2") == []
    assert [r.worker for r in store.claim_due(40, 10, "w2")] == ["w2"]


def test_a_begun_delivery_whose_worker_died_is_settled_unknown_and_never_claimed_again(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    store.claim_due(10, 10, "dies", lease_seconds=30)
    assert store.begin_delivery(reminder, "dies", "a1", now=11, lease_seconds=30)  # then killed before mark_sent
    assert store.claim_due(40, 10, "w2") == []  # still its lease
    assert store.claim_due(41, 10, "w2") == [] and store.claim_due(10**10, 10, "w2") == []
    assert store.reminder_counts() == {"unknown": 1}
    assert store.reminder_delivery(reminder)["outcome"] == "unknown"
    assert store.mark_sent(reminder, "a1", "m-1")  # a worker that was only slow reports the push after all
    assert store.reminder_counts() == {"sent": 1} and store.reminder_delivery(reminder)["message_id"] == "m-1"


def test_an_unknown_delivery_is_claimed_again_only_for_a_receiver_that_drops_repeats(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    store.claim_due(10, 10, "dies", lease_seconds=30)
    assert store.begin_delivery(reminder, "dies", "a1", now=11, lease_seconds=30)
    [again] = store.claim_due(41, 10, "w2", resend_unknown=True)
    assert (again.id, again.worker, again.attempts) == (reminder, "w2", 2)
    assert not store.mark_sent(reminder, "a1", "late")  # the dead attempt is no longer the row's
    assert store.begin_delivery(reminder, "w2", "a2", now=42) and store.mark_sent(reminder, "a2", "m-2")


def test_begin_delivery_only_for_the_claims_holder_and_it_renews_the_workers_claims(store: SqlStore) -> None:
    first, second, third = (store.schedule_reminder("wechat", f"u{i}", "deadline", {}, due_at=0) for i in range(3))
    store.claim_due(10, 10, "slow", lease_seconds=30)  # leases to 40
    assert store.begin_delivery(first, "slow", "a1", now=30, lease_seconds=30)  # past half: the others renewed to 60
    assert store.claim_due(50, 10, "w2") == []
    assert store.begin_delivery(second, "slow", "a2", now=55, lease_seconds=30)  # and again to 85
    assert not store.begin_delivery(second, "slow", "again", now=56)  # one attempt at a time
    assert store.claim_due(84, 10, "w2") == []
    assert [r.id for r in store.claim_due(86, 10, "w2")] == [third]  # then the stalled worker's last claim is taken over
    assert not store.begin_delivery(third, "slow", "a3", now=87)  # so it does not push it
    assert store.begin_delivery(third, "w2", "b3", now=87)


def test_sent_and_the_channel_message_id_in_one_step_only_for_the_attempt(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    store.claim_due(10, 10, "w")
    assert store.begin_delivery(reminder, "w", "a1", now=10)
    assert not store.mark_sent(reminder, "other", "m-x") and not store.mark_sent(reminder)
    assert store.mark_sent(reminder, "a1", "m-1") and not store.mark_sent(reminder, "a1", "m-1")
    record = store.reminder_delivery(reminder)
    assert (record["state"], record["message_id"], record["attempt"]) == ("sent", "m-1", "a1")


def test_requeue_before_the_push_does_not_count_as_an_attempt(store: SqlStore) -> None:
    reminder = store.schedule_reminder("wechat", "u1", "deadline", {}, due_at=0)
    store.claim_due(10, 10, "w")
    assert store.begin_delivery(reminder, "w", "a1", now=10)
    assert store.requeue_reminder(reminder, "a1", due_at=500)
    assert store.claim_due(499, 10, "w") == []
    [again] = store.claim_due(500, 10, "w")
    assert again.attempts == 1
