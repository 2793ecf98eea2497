"""How the scheduler reaches a user: the `Pusher` protocol (plain texts in, delivered or not out),
and a pusher that prints, for trying things out locally. The channels implement pushing to WeChat
and Telegram (channels/push.py); the scheduler knows none of them."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO


class Pusher(Protocol):
    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        """True once delivered; False if the user cannot be reached now (try later). Errors raise."""
        ...


class ConsolePusher:
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        print(f"【提醒 → {channel}:{user}】", *texts, sep="\n", end="\n\n", file=self.out, flush=True)
        return True
