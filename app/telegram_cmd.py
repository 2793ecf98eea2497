"""`bot.py telegram`: the Telegram bot, long polling or (with --webhook-url) webhook, which
refuses to start without TELEGRAM_WEBHOOK_SECRET (every process behind the URL checks the same one)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    telegram = sub.add_parser("telegram", help="Telegram 机器人（默认长轮询；--webhook-url 用 webhook）")
    telegram.add_argument("--webhook-url", default="", help="公网 HTTPS 地址，如 https://example.org/telegram；其路径由本服务接收")
    telegram.add_argument("--host", default="127.0.0.1", help="监听地址（webhook、/healthz、/metrics），默认 127.0.0.1")
    telegram.add_argument("--port", type=int, default=8080, help="监听端口，默认 8080")
    telegram.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.wiring import serve
    from channels.telegram import TelegramAdapter, TelegramConfig
    from channels.web.app import Console

    try:
        config = TelegramConfig.from_env(args.webhook_url)
    except ValueError as exc:
        print(f"配置有误：{exc}")
        return 2
    print(f"Telegram：{'webhook ' + args.webhook_url if args.webhook_url else '长轮询'}。")
    return serve(lambda core, store, metrics: [TelegramAdapter(core, config, metrics, store=store), Console(core, store, metrics)], None, args.host, args.port)
