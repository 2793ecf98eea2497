"""What `python bot.py` with no sub-command does: the configured channel, else the console.

WeChat when WECHAT_TOKEN is set, Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the
console chat with the embedded SQLite store.
"""

from __future__ import annotations

import argparse
import os


def register(sub) -> None:
    """No parser: this module only supplies the default action."""


def run_default() -> int:
    if os.environ.get("WECHAT_TOKEN"):
        from app.wechat_cmd import run_server

        return run_server(argparse.Namespace(config=None, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8080"))))
    if os.environ.get("TELEGRAM_BOT_TOKEN"):
        from app.telegram_cmd import run

        return run(argparse.Namespace(webhook_url="", host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8080"))))
    from app.console_cmd import run as run_console

    return run_console(False, None, None, None)
