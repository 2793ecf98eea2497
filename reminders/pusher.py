"""How the scheduler reaches a user: the `Pusher` protocol, and the pushers that implement it.

The channel adapters (adapters/wechat.py, adapters/telegram.py) already deliver unsolicited
messages through `send_push(user, replies)`; `AdapterPusher` routes each reminder to the adapter
of its channel. `ConsolePusher` prints, for trying things out locally.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Protocol, TextIO

from dialogs.messages import Reply


class Pusher(Protocol):
    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        """True once delivered; False if the user cannot be reached now (try later). Errors raise."""
        ...


class PushTarget(Protocol):
    """What a channel adapter offers (adapters.base.Adapter.send_push)."""

    async def send_push(self, user: str, replies: list[Reply]) -> bool: ...


class ConsolePusher:
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        print(f"【提醒 → {channel}:{user}】", *texts, sep="\n", end="\n\n", file=self.out, flush=True)
        return True


class AdapterPusher:
    """Sends each reminder through the adapter of its channel; a channel without one is unreachable (False)."""

    def __init__(self, adapters: Mapping[str, PushTarget], fallback: Pusher | None = None) -> None:
        self.adapters = dict(adapters)
        self.fallback = fallback

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        adapter = self.adapters.get(channel)
        if adapter is not None:
            return await adapter.send_push(user, [Reply(text) for text in texts])
        if self.fallback is not None:
            return await self.fallback.send(channel, user, texts)
        return False
