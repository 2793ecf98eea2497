"""Applications submitted per second and reminders dispatched per second, on SQLite and PostgreSQL.

- submit: `Desk.submit` (one idempotent store transaction, number and audit event included) for
  SUBMITS new applications across VILLAGES villages, one after another; and the same again with the same keys (the
  double-tap path: each returns the stored application).
- apply in the chat: CHATS whole application dialogs (12 messages each, ending in the submission)
  through the real Assistant, one after another.
- dispatch: DISPATCHES due reminders pushed by the real scheduler with a pusher that only counts,
  one process; so the figure is the queue's cost (claim, mark sent) per reminder.

PostgreSQL runs when TEST_POSTGRES_URL or DATABASE_URL is set (in a scratch schema, dropped after).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SUBMITS = 2000
VILLAGES = 200  # the submissions spread over a county's villages, as the chat's per-village lookups assume
CHATS = 100
DIALOG = ["申请纳入监测", "张三", "金墩村", "13812345678", "跳过", "4", "2万", "1", "老伴住院", "1", "1", "1"]
DISPATCHES = 5000
DATA = {"name": "张三", "phone": "13812345678", "id_number": None, "village": "金墩村", "size": 4, "income": 20000, "income_per_head": 5000,
        "risk": "因病", "risk_detail": "住院", "consent_checks": True}


class CountingPusher:
    def __init__(self) -> None:
        self.sent = 0

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        self.sent += 1
        return True


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield str(Path(folder) / "bench.db")


@contextmanager
def postgres_url(base: str) -> Iterator[str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({count} in {seconds:.2f} s)"


def measure(url: str) -> list[tuple[str, str]]:
    from app.wiring import assistant as make_assistant
    from conversation.messages import ChannelLimits, Incoming
    from foundation.clock import at
    from policy_kb.loader import default_kb
    from reminders.scheduler import Scheduler
    from storage.open import open_store
    from workflow.desk import Desk

    rows = []
    with open_store(url) as store:
        desk = Desk(store, default_kb())

        def submit_all() -> None:
            for i in range(SUBMITS):
                desk.submit(f"bench:{i}", DATA, ("wechat", f"u{i}"), f"村{i % VILLAGES}", "heqing", None)

        rows.append(("submit new", rate(SUBMITS, timed(submit_all))))
        rows.append(("submit again (same key)", rate(SUBMITS, timed(submit_all))))
        assistant = make_assistant(store, kb=default_kb(), region="heqing")
        assistant.handle(Incoming("wechat", "warm-up", "你好"), ChannelLimits())  # builds the search index once

        def apply_in_chat() -> None:
            for i in range(CHATS):
                for text in DIALOG:
                    assistant.handle(Incoming("wechat", f"chat{i}", text), ChannelLimits())

        rows.append(("apply in the chat (12 messages each)", rate(CHATS, timed(apply_in_chat))))
        assert len(store.list_applications(user=("wechat", f"chat{CHATS - 1}"))) == 1
        now = at(dt.date(2026, 12, 3), 10)
        for i in range(DISPATCHES):
            store.schedule_reminder("wechat", f"u{i % 500}", "status", {"texts": [f"r{i}"]}, now - 1, f"bench:{i}")
        pusher = CountingPusher()
        scheduler = Scheduler(store, default_kb(), pusher, max_per_run=10**9, plan_every=0)
        seconds = timed(lambda: asyncio.run(scheduler.dispatch(now)))
        assert pusher.sent == DISPATCHES
        rows.append(("dispatch reminders", rate(DISPATCHES, seconds)))
    return rows


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run() -> list[tuple[str, str]]:
    with sqlite_url() as url:
        rows = [(f"SQLite {label}", figure) for label, figure in measure(url)]
    base = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgresql://", "postgres://")):
        with postgres_url(base) as url:
            rows += [(f"PostgreSQL {label}", figure) for label, figure in measure(url)]
    else:
        rows.append(("PostgreSQL", "skipped (set TEST_POSTGRES_URL or DATABASE_URL to a postgresql:// URL)"))
    return rows
