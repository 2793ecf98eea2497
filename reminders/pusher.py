"""How the scheduler reaches a user: the `Pusher` protocol (plain texts in, delivered or not out),
and a pusher that prints, for trying things out locally. The channels implement pushing to WeChat
and Telegram (channels/push.py); the scheduler knows none of them.

`send` returns False when the user cannot be reached now (nothing was delivered: try later), and
True, or the channel's id of the delivered message (a str, stored with the reminder), once it was
delivered. A pusher whose channel drops a repeated message with the same key (an idempotent
receiver) says so with `idempotent = True`; its `send` then takes `key`, the same for every try of
one reminder, and the scheduler may send again a push whose outcome a crash left unknown.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

Delivered = bool | str  # False: not delivered; True or the channel's message id: delivered


class Pusher(Protocol):
    async def send(self, channel: str, user: str, texts: list[str]) -> Delivered:
        """True (or the channel's message id) once delivered; False if the user cannot be reached now (try later). Errors raise."""
        ...


class IdempotentPusher(Protocol):
    idempotent: bool  # True: a repeated `key` is dropped by the receiver

    async def send(self, channel: str, user: str, texts: list[str], key: str) -> Delivered: ...


def delivered(result: Delivered | None) -> tuple[bool, str | None]:
    """(delivered?, the channel's message id if it gave one) of what a pusher returned."""
    if isinstance(result, str):
        return True, result or None
    return bool(result), None


class ConsolePusher:
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        print(f"【提醒 → {channel}:{user}】", *texts, sep="\n", end="\n\n", file=self.out, flush=True)
        return True
