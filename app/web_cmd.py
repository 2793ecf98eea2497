"""`bot.py web`: the staff web console (/console/) alone, with /healthz and /metrics.

`bot.py wechat` and `bot.py telegram` serve the same console on their server too. Links to it
(后台登录 in the chat, `bot.py admin login-link`) use CONSOLE_BASE_URL (default
http://127.0.0.1:8080/console/).
"""

from __future__ import annotations

import argparse


def register(sub) -> None:
    web = sub.add_parser("web", help="工作人员网页后台（/console/、/healthz、/metrics）")
    web.add_argument("--host", default="127.0.0.1", help="监听地址，默认 127.0.0.1")
    web.add_argument("--port", type=int, default=8080, help="监听端口，默认 8080")
    web.add_argument("--db", help="存储：文件路径或数据库 URL（默认 DATABASE_URL，否则 data/assistant.db）")
    web.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.wiring import serve
    from channels.web.app import Console
    from conversation.skills.staff_login import base_url

    print(f"网页后台：{base_url()}（登录链接：在聊天里发“后台登录”，或 bot.py admin login-link）")
    return serve(lambda core, store, metrics: [Console(core, store, metrics)], args.db, args.host, args.port)
