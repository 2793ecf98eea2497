"""`bot.py console`: chat in a terminal, or `--jsonl` for programs (the test contract)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys


def register(sub: argparse._SubParsersAction) -> None:
    console = sub.add_parser("console", help="在终端里聊天；--jsonl 供程序调用")
    console.add_argument("--jsonl", action="store_true", help="每行一个 JSON 输入，每行一个 JSON 输出")
    console.add_argument("--db", help="存储：文件路径或数据库 URL（默认 DATABASE_URL，否则 data/assistant.db）")
    console.add_argument("--region", help="地区（如 博罗县 或 boluo）")
    console.add_argument("--date", help="按哪天的政策回答，YYYY-MM-DD")
    console.set_defaults(func=lambda a: run(a.jsonl, a.db, a.region, a.date))


def build_assistant(db: str | None, region: str | None, date: str | None):
    """The core with its store; a wrong region or date exits with a Chinese message."""
    from app.wiring import assistant
    from foundation.clock import Clock
    from policy_kb.loader import default_kb
    from storage.open import open_store

    kb = default_kb()
    try:
        region_id = kb.resolve_region(region).id
    except KeyError:
        names = "、".join(r.name for r in kb.regions.values())
        raise SystemExit(f"不认识的地区：{region}。可选：{names}") from None
    try:
        today = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise SystemExit(f"日期格式不对：{date!r}，请写成 YYYY-MM-DD") from None
    return assistant(open_store(db), kb=kb, region=region_id, clock=Clock(today=today))


def run(jsonl: bool, db: str | None, region: str | None, date: str | None) -> int:
    from channels.console import ConsoleAdapter

    adapter = ConsoleAdapter(build_assistant(db, region, date))
    if jsonl:
        asyncio.run(adapter.run_jsonl(sys.stdin, sys.stdout))
    else:
        asyncio.run(adapter.run_interactive())
    return 0
