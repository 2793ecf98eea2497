"""`bot.py reminders run [--once]`: plan due reminders and push them, in a loop (or once).

Pushes go through the channel adapters configured in the environment (WECHAT_* like
`bot.py wechat`, TELEGRAM_BOT_TOKEN like `bot.py telegram`); `--print` prints them instead, for
local use. Any number of these processes may run against one database: no reminder is sent twice,
even when one of them is killed (reminders/scheduler.py says how).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from typing import Any

from conversation.messages import ChannelLimits, Incoming, Reply
from conversation.session import Turn


def register(sub: argparse._SubParsersAction) -> None:
    reminders = sub.add_parser("reminders", help="提醒：计划并推送到期的提醒和申请进度通知")
    actions = reminders.add_subparsers(dest="reminders_command", required=True)
    run = actions.add_parser("run", help="循环运行（--once 只运行一次）")
    run.add_argument("--once", action="store_true", help="计划并发送一次就退出")
    run.add_argument("--db", help="存储：文件路径或数据库 URL（默认 DATABASE_URL，否则 data/assistant.db）")
    run.add_argument("--print", action="store_true", help="不真的推送，打印出来（本地试用）")
    run.add_argument("--interval", type=float, default=60.0, help="两次运行之间的秒数，默认 60")
    run.add_argument("--max-per-run", type=int, default=1000, help="每次最多推送几条（停机后补发时限流），默认 1000")
    run.add_argument("--wechat-config", help="微信配置文件（同 bot.py wechat --config）")
    run.set_defaults(func=run_reminders)


class _PushOnly:
    """The core of an adapter that only pushes: this process never receives messages."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def handle(self, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        return []

    def claim(self, msg: Incoming) -> Turn | None:
        return None

    def step(self, turn: Turn, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        return []

    def finish(self, turn: Turn, passive: list[str]) -> None:
        """Nothing was claimed, so nothing is saved."""

    def last_active(self, channel: str, user: str) -> float | None:
        return self.store.session_saved_at(channel, user)


async def _channel_pusher(args: argparse.Namespace, store: Any, stack: AsyncExitStack):
    from channels.push import AdapterPusher
    from reminders.pusher import ConsolePusher

    if args.print:
        return ConsolePusher()
    adapters: dict[str, Any] = {}
    from channels.wechat.config import ConfigError, WeChatConfig
    from channels.wechat.webhook import WeChatAdapter

    try:
        config = WeChatConfig.load(args.wechat_config)
        if config.has_api:
            adapters["wechat"] = WeChatAdapter(_PushOnly(store), store, config)
    except (ConfigError, OSError) as exc:
        logging.getLogger(__name__).info("reminders: no WeChat pushes (%s)", exc)
    from channels.telegram import TelegramAdapter, TelegramConfig

    try:
        telegram = TelegramAdapter(_PushOnly(store), TelegramConfig.from_env())
    except ValueError:
        telegram = None
    if telegram is not None:
        # Only the bot client: start() would poll or reset the webhook of the running `bot.py telegram`.
        await telegram.application.initialize()
        stack.push_async_callback(telegram.application.shutdown)
        adapters["telegram"] = telegram
    if not adapters:
        print("没有配置微信或 Telegram，提醒会打印在这里。")
        return ConsolePusher()
    print(f"推送渠道：{'、'.join(adapters)}")
    return AdapterPusher(adapters)


async def _run(args: argparse.Namespace) -> int:
    from policy_kb.loader import default_kb
    from reminders.scheduler import Scheduler
    from storage.open import open_store

    store = open_store(args.db)
    try:
        async with AsyncExitStack() as stack:
            pusher = await _channel_pusher(args, store, stack)
            scheduler = Scheduler(store, default_kb(), pusher, max_per_run=args.max_per_run, plan_every=0 if args.once else 600.0)
            if args.once:
                report = await scheduler.tick(scheduler.clock.now())
                print(f"计划 {report.planned} 条，发送 {report.sent} 条，稍后重试 {report.retried} 条，放弃 {report.dropped} 条"
                      + (f"，{report.held} 条留到早上8点" if report.held else "") + "。")
                return 0
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print("提醒服务已启动，Ctrl+C 停止。")
            await scheduler.run_forever(stop, args.interval)
            return 0
    finally:
        store.close()


def run_reminders(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_run(args))
