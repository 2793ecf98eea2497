"""Reminders out through the channels: each reminder goes to the adapter of its channel.

An adapter returns False (not reachable now), True, or the channel's message id (a str), which
the scheduler stores with the reminder as it marks it sent. Neither WeChat nor Telegram drops a
repeated message, so this pusher is not `idempotent`: a push a crash left unknown is not resent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from conversation.messages import Reply
from reminders.pusher import Delivered, Pusher


class PushTarget(Protocol):
    """What a channel adapter offers (channels.base.Adapter.send_push)."""

    async def send_push(self, user: str, replies: list[Reply]) -> Delivered: ...


class AdapterPusher:
    """Sends each reminder through the adapter of its channel; a channel without one is unreachable (False)."""

    def __init__(self, adapters: Mapping[str, PushTarget], fallback: Pusher | None = None) -> None:
        self.adapters = dict(adapters)
        self.fallback = fallback

    async def send(self, channel: str, user: str, texts: list[str]) -> Delivered:
        adapter = self.adapters.get(channel)
        if adapter is not None:
            return await adapter.send_push(user, [Reply(text) for text in texts])
        if self.fallback is not None:
            return await self.fallback.send(channel, user, texts)
        return False
