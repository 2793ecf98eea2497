"""The web console with 10,000 applications: median time to render 待办 and an application page,
on SQLite and (when reachable) PostgreSQL, and the PostgreSQL plan of the 待办 query.

    .venv/bin/python bench/console.py                   # SQLite, and PostgreSQL at BENCH_POSTGRES_URL
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/console.py

Each page is fetched through the real server stack (aiohttp test client: routing, session,
role re-read from the store, templates) by a signed-in township reviewer and a cadre. Target: median ≤ 100 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from app.wiring import assistant  # noqa: E402
from channels.metrics import Metrics  # noqa: E402
from channels.server import build_app  # noqa: E402
from channels.web.app import Console  # noqa: E402
from conversation.skills.staff_login import issue_login_link  # noqa: E402
from foundation.clock import Clock, at, end_of  # noqa: E402
from policy_kb.loader import default_kb  # noqa: E402
from storage import sql as sqlmod  # noqa: E402
from storage.open import open_store  # noqa: E402
from workflow.access import actor_of  # noqa: E402

APPLICATIONS = 10_000
REQUESTS = int(os.environ.get("CONSOLE_BENCH_REQUESTS", "60"))
TARGET_MS = 100.0
TODAY = dt.date(2026, 11, 23)
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
STATES = ["submitted", "visited", "village_review", "township_audit", "county_decision", "monitored", "not_monitored", "support_plan",
          "risk_eliminated"]
RISKS = ["因病", "因残", "因学", "因灾", "因意外", "失业", "收入骤减", "刚性支出骤增", "其他"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LINK = re.compile(r'href="/console/a/([A-Za-z0-9_-]+)"')


PATHS = {"county_decision": [], "monitored": ["county_decision"], "not_monitored": ["county_decision"], "support_plan": ["county_decision", "monitored"],
         "risk_eliminated": ["county_decision", "monitored", "support_plan"]}
LINE = ["submitted", "visited", "village_review", "township_audit"]


def path_to(state: str) -> list[str]:
    """The states an application passed through to reach `state`, from 提交."""
    if state in LINE:
        return LINE[: LINE.index(state) + 1]
    return [*LINE, *PATHS[state], state]


def seed(store: Any, count: int = APPLICATIONS) -> None:
    """`count` applications over 40 villages of 鹤庆 (a tenth in 博罗), in every state, each with its
    audit trail: one real transition per step, a day or three apart over the last two months (so 月报
    and 统计 read a full log); township audits with deadlines from three weeks ago to two weeks ahead."""
    moment = 0.0
    store.clock = lambda: moment  # each store call below happens at `moment`
    for i in range(count):
        region = "boluo" if i % 10 == 9 else "heqing"
        path = path_to(STATES[i % len(STATES)])
        moment = at(TODAY - dt.timedelta(days=60), 8) + i * 37.0  # applications arrive over the two months
        data = {"name": f"户主{i}", "phone": f"138{i:08d}", "id_number": None, "village": f"村{i % 40}村", "size": 1 + i % 6,
                "income": 8000 + i % 20000, "income_per_head": 3000 + i % 5000, "risk": RISKS[i % len(RISKS)], "risk_detail": "说明"}
        app, _ = store.submit_application(f"bench-{i}", data, channel="wechat", user=f"v{i}", village=f"村{i % 40}村", region=region)
        for before, after in zip(path, path[1:], strict=False):
            moment += 86400 * (1 + (i + len(before)) % 3)
            deadline = end_of(TODAY + dt.timedelta(days=(i % 35) - 21)) if after == "township_audit" else None
            store.transition(app.number, before, after, "bench", deadline=deadline)
    store.clock = time.time


async def medians(console: Console, store: Any, who: dict[str, tuple[str, str]]) -> list[tuple[str, float]]:
    app = build_app([console], console.metrics)
    figures: list[tuple[str, float]] = []
    async with TestClient(TestServer(app)) as client:
        for name, (channel, user) in who.items():
            client.session.cookie_jar.clear()
            link = issue_login_link(store, actor_of(store, channel, user), time.time(), "http://127.0.0.1/console/")
            path = link.split("127.0.0.1", 1)[1]  # type: ignore[union-attr]
            page = await (await client.get(path)).text()
            response = await client.post("/console/login", data={"t": path.split("t=")[1], "csrf": CSRF.search(page).group(1)})
            todo = await response.text()
            refs = LINK.findall(todo)
            assert refs, f"{name}: empty 待办"
            for label, url in ((f"{name} 待办", "/console/todo"), (f"{name} 待办 第3页", "/console/todo?page=3"),
                               (f"{name} 待办 筛选", "/console/todo?risk=因病"), (f"{name} 申请页", f"/console/a/{refs[0]}"),
                               (f"{name} 月报", f"/console/report?month={TODAY.year}-{TODAY.month:02d}"),
                               (f"{name} 月报 XLSX", f"/console/report.xlsx?month={TODAY.year}-{TODAY.month:02d}"),
                               (f"{name} 统计", "/console/stats"),
                               (f"{name} 政策库", "/console/policy")):
                times = []
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    response = await client.get(url)
                    await response.read()
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status == 200, (url, response.status)
                figures.append((label, statistics.median(times)))
    return figures


def explain(store: Any, console: Console, actor: Any) -> str:
    """EXPLAIN ANALYZE of the 待办 page query, as the store sends it."""
    captured: list[tuple[str, tuple]] = []
    original = sqlmod.Tx.all

    def spy(self, sql, *params):
        captured.append((sql, params))
        return original(self, sql, *params)

    sqlmod.Tx.all = spy  # type: ignore[method-assign]
    try:
        store.page_applications(states=console.desk.workflow.waiting_for(actor.role), region=actor.region, now=time.time(), limit=30, offset=0)
    finally:
        sqlmod.Tx.all = original  # type: ignore[method-assign]
    text, params = captured[-1]
    import psycopg

    with psycopg.connect(store.url.split("?")[0]) as conn:
        schema = re.search(r"schema=(\w+)", store.url).group(1)  # type: ignore[union-attr]
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("ANALYZE applications")
        rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) " + store.dialect.sql(text).replace("%%", "%"), params).fetchall()
    return "\n".join(r[0] for r in rows)


def bench(url: str, label: str) -> list[tuple[str, str]]:
    store = open_store(url)
    try:
        started = time.perf_counter()
        seed(store)
        seeded = time.perf_counter() - started
        store.set_role("wechat", "township-1", "township", region="heqing")
        store.set_role("wechat", "cadre-1", "cadre", region="heqing", villages=["村3村", "村7村"])
        core = assistant(store, kb=default_kb(), region="heqing", clock=Clock())
        console = Console(core, store, Metrics(), public_url="http://127.0.0.1/console/")
        figures = asyncio.run(medians(console, store, {"乡镇": ("wechat", "township-1"), "村干部": ("wechat", "cadre-1")}))
        out = [(f"{label}: {APPLICATIONS} 条申请写入", f"{seeded:.1f} s")]
        out += [(f"{label}: {name} 中位数", f"{ms:.1f} ms (target ≤ {TARGET_MS:g} ms: {'ok' if ms <= TARGET_MS else 'SLOW'})") for name, ms in figures]
        if store.dialect.name == "postgres":
            out.append((f"{label}: EXPLAIN 待办（乡镇）", "\n" + explain(store, console, actor_of(store, "wechat", "township-1"))))
        return out
    finally:
        store.close()


def run() -> list[tuple[str, str]]:
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        figures += bench(f"sqlite:///{folder}/bench.db", "SQLite")
    try:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3):
            pass
    except Exception as exc:  # noqa: BLE001 (any reason PostgreSQL is not there)
        figures.append(("PostgreSQL", f"skipped ({exc.__class__.__name__}: {exc})"))
        return figures
    try:
        figures += bench(f"{POSTGRES_URL}?schema={schema}&options=-csynchronous_commit%3Doff", "PostgreSQL")
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return figures


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
