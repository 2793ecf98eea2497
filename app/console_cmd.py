"""`bot.py console`: chat in a terminal, or `--jsonl` for programs (the test contract).

`--jsonl` reads one JSON object per line, {"user": "<id>", "text": "<message>"}, and writes
exactly one JSON object per input line, flushed: {"user": "<id>", "replies": ["...", ...]}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from dialogs.messages import ChannelLimits, Incoming

CHANNEL = "console"
LIMITS = ChannelLimits(max_chars=4000, buttons=False)


def register(sub: argparse._SubParsersAction) -> None:
    console = sub.add_parser("console", help="在终端里聊天；--jsonl 供程序调用")
    console.add_argument("--jsonl", action="store_true", help="每行一个 JSON 输入，每行一个 JSON 输出")
    console.add_argument("--db", help="存储：文件路径或数据库 URL（默认 DATABASE_URL，否则 data/assistant.db）")
    console.add_argument("--region", help="地区（如 博罗县 或 boluo）")
    console.add_argument("--date", help="按哪天的政策回答，YYYY-MM-DD")
    console.set_defaults(func=lambda a: (run_jsonl if a.jsonl else run_interactive)(a.db, a.region, a.date))


def _assistant(db: str | None, region: str | None, date: str | None):
    from dialogs.assistant import Assistant
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
    return Assistant(open_store(db), kb=kb, region=region_id, today=today)


def run_jsonl(db: str | None, region: str | None, date: str | None) -> int:
    assistant = _assistant(db, region, date)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            user, text = str(data["user"]), str(data.get("text", ""))
        except (ValueError, KeyError, TypeError):
            print(json.dumps({"user": None, "replies": ["输入格式不对：每行应为 {\"user\": \"...\", \"text\": \"...\"}"]}, ensure_ascii=False), flush=True)
            continue
        replies = assistant.handle(Incoming(CHANNEL, user, text), LIMITS)
        print(json.dumps({"user": user, "replies": [r.as_text() for r in replies]}, ensure_ascii=False), flush=True)
    return 0


def run_interactive(db: str | None, region: str | None, date: str | None) -> int:
    assistant = _assistant(db, region, date)
    print("防止返贫政策助手（控制台）。输入“菜单”查看功能，Ctrl+D 退出。")
    for reply in assistant.handle(Incoming(CHANNEL, "console-user", "", kind="follow"), LIMITS):
        print(reply.as_text(), "\n")
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        for reply in assistant.handle(Incoming(CHANNEL, "console-user", text), LIMITS):
            print(reply.as_text(), "\n")
