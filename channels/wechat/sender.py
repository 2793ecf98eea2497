"""What the WeChat channel sends on its own: the replies of a step that outlived the 5-second
window or did not fit one passive reply (customer-service messages), and reminders (customer
service inside the 48-hour window, template messages outside it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from channels.metrics import Metrics
from channels.wechat.config import ConfigError, WeChatConfig
from channels.wechat.token import SharedTokenClient
from conversation.messages import Reply
from storage.base import KVStore

log = logging.getLogger(__name__)

SERVICE_WINDOW = 47 * 3600  # WeChat allows customer-service messages 48 h after the user's last message


class LastActive(Protocol):
    def last_active(self, channel: str, user: str) -> float | None: ...


class Sender:
    def __init__(self, config: WeChatConfig, store: KVStore, metrics: Metrics, channel: str, core: LastActive,
                 clock: Callable[[], float], store_call: Callable[..., Awaitable[Any]]) -> None:
        self.config = config
        self.client = SharedTokenClient(config, store) if config.has_api else None
        self.metrics = metrics
        self.channel = channel
        self.core = core
        self.clock = clock
        self.store_call = store_call
        self._deliveries: set[asyncio.Task[None]] = set()

    def deliver(self, user: str, step: asyncio.Future[list[Reply] | None], sent: int) -> None:
        """Sends the step's replies after the first `sent` by customer service, in the background."""

        async def deliver() -> None:
            try:
                replies = await step
            except Exception:
                log.exception("wechat: a late step for %s failed", user)
                self.metrics.inc("errors", self.channel)
                return
            await self.send_service(user, (replies or [])[sent:])  # None: a retry, nothing to send

        task = asyncio.ensure_future(deliver())
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def stop(self) -> None:
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=10)

    async def send_service(self, user: str, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                if self.client is None:
                    raise ConfigError("WECHAT_APP_ID / WECHAT_APP_SECRET are not set")
                await offload(self.client.message.send_text, user, reply.as_text())
            except Exception:
                log.exception("wechat: customer-service message to %s failed", user)
                self.metrics.inc("errors", self.channel)
                return
            self.metrics.inc("replies", self.channel)

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        """Customer-service messages inside the 48-hour window, else template messages."""
        if self.client is None:
            return False
        last = await self.store_call(self.core.last_active, self.channel, user)
        if last is not None and self.clock() - last < SERVICE_WINDOW:
            for reply in replies:
                await offload(self.client.message.send_text, user, reply.as_text())
        elif self.config.template_id:
            for reply in replies:
                data = {self.config.template_field: {"value": reply.as_text()}}
                await offload(self.client.message.send_template, user, self.config.template_id, data)
        else:
            return False
        self.metrics.inc("replies", self.channel, len(replies))
        return True


async def offload(func: Callable[..., Any], *args: Any) -> Any:
    """API calls block (HTTP): keep them off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)
