"""Two scheduler processes on one database dispatch 10,000 due reminders, each exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tests.reminders.workers as workers
from foundation.clock import at
from storage.open import open_store
from tests.storage.storage_workers import race

COUNT = 10_000


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
