"""Two scheduler processes on one database dispatch due reminders, each once, even when one is killed mid-run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tests.reminders.workers as workers
from foundation.clock import at
from storage.open import open_store
from tests.storage.storage_workers import race

COUNT = 10_000
NOW = at(dt.date(2026, 12, 3), 10)


def test_two_processes_dispatch_each_reminder_once(store_url: str, tmp_path: Path) -> None:
    now = at(dt.date(2026, 12, 3), 10)
    with open_store(store_url) as store, ThreadPoolExecutor(8) as threads:  # PostgreSQL commits in parallel
        list(threads.map(lambda i: store.schedule_reminder("wechat", f"u{i % 500}", "status", {"texts": [f"r{i}"]}, now - i % 1000, f"k{i}"),
                         range(COUNT)))
    counts = race(store_url, workers.dispatch_all, now, str(tmp_path))
    sent = Counter(line.split()[2] for index in range(2) for line in (tmp_path / f"{index}.txt").read_text(encoding="utf-8").splitlines())
    assert sent == Counter(f"r{i}" for i in range(COUNT))
    assert sum(counts) == COUNT and min(counts) > 0  # both processes took part
    with open_store(store_url) as store:
        assert store.claim_due(now + 10**6, 10, "check") == []


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain-channel", "idempotent-receiver"])
def test_a_dispatcher_killed_mid_run_sends_nothing_twice_and_the_rest_promptly(store_url: str, tmp_path: Path, idempotent: bool) -> None:
    """Two dispatcher processes; one SIGKILLs itself right after the channel accepted a push (others in flight).

    Nothing is delivered twice; what the dead one had claimed but not begun goes out within the lease;
    what it had begun is 'unknown' (a plain channel: never resent) or resent with its key (an
    idempotent receiver: each reminder shown exactly once).
    """
    count, lease = 400, 2.0
    (tmp_path / "shown").mkdir()
    with open_store(store_url) as store:
        ids = {store.schedule_reminder("wechat", f"u{i % 40}", "status", {"texts": [f"r{i}"]}, NOW - 1, f"k{i}"): f"r{i}"
               for i in range(count)}
    offset = NOW - time.time()
    exit_code, killed_pid, finished = workers.race_with_kill(store_url, workers.dispatch_until_settled, offset, str(tmp_path), 100, idempotent, lease)
    assert exit_code == -signal.SIGKILL
    pushes = [line.split() for line in (tmp_path / "channel.txt").read_text(encoding="utf-8").splitlines()]
    pushed = Counter(text for text, _pid, _at in pushes)
    pids = sorted({pid for _text, pid, _at in pushes})
    assert len(pids) == 2  # both took part
    killed_at = max(float(at) for _text, pid, at in pushes if pid == str(killed_pid))
    with open_store(store_url) as store:
        counts = store.reminder_counts()
        unknown = {ids[i] for i in ids if store.reminder_delivery(i)["outcome"] == "unknown"}
        records = {ids[i]: store.reminder_delivery(i) for i in ids}
    if idempotent:
        shown = {name.replace("reminder_", "") for name in os.listdir(tmp_path / "shown")}
        assert shown == {str(i) for i in ids}  # the receiver showed every reminder, each once
        assert counts == {"sent": count}
        assert all(records[text]["message_id"] == f"m-{text}" for text in pushed)
    else:
        assert max(pushed.values()) == 1  # never twice
        assert 1 <= len(unknown) <= 8  # the killed one's pushes in flight (concurrency 8), not resent
        assert counts == {"sent": count - len(unknown), "unknown": len(unknown)}
        assert set(pushed) | unknown == set(ids.values())  # every other reminder was delivered
        assert all(records[text]["state"] == "sent" and records[text]["message_id"] == f"m-{text}" for text in set(pushed) - unknown)
    assert finished - killed_at < lease + 5  # the dead one's claims came back after the lease, not minutes later
