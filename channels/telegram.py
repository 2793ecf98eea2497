"""Telegram adapter (python-telegram-bot v22), for cadres and testers.

Long polling by default; with a webhook URL, Telegram posts updates to the shared web
server, which checks the secret token header before queueing them. Choices become
inline buttons whose callback data is the choice key itself ("1", "2"…): the core reads
it against the stored session, so buttons keep working after a restart. Updates run
concurrently; the per-user lock in `Adapter.converse` keeps one chat in order.
Every Bot API call, replies and pushes alike, goes through PTB's AIORateLimiter when
aiolimiter is installed (python-telegram-bot[rate-limiter]); without it calls are not
throttled and bursts of pushes may meet Telegram's 429 answers.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from channels.base import Adapter, Core
from channels.metrics import Metrics
from conversation.messages import ChannelLimits, Choice, Incoming, Reply

log = logging.getLogger(__name__)

COMMANDS = {"start": "菜单", "help": "帮助", "cancel": "取消"}
UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class TelegramConfig:
    """TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE_URL points at a local Bot API server (or a test double)."""

    token: str
    api_base_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: str = ""

    @classmethod
    def from_env(cls, webhook_url: str = "") -> TelegramConfig:
        token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
        if not token:
            raise ValueError("缺少 TELEGRAM_BOT_TOKEN（找 @BotFather 要）。")
        return cls(
            token=token,
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL") or cls.api_base_url,
            webhook_url=webhook_url,
            webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or secrets.token_urlsafe(32),
        )


def keyboard(choices: list[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row: labels are Chinese phrases that would not fit side by side."""
    if not choices:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.key)] for c in choices])


def rate_limiter() -> AIORateLimiter | None:
    try:
        return AIORateLimiter()
    except RuntimeError:
        log.warning("aiolimiter is not installed: Telegram calls are not rate limited")
        return None


class TelegramAdapter(Adapter):
    channel = "telegram"
    limits = ChannelLimits(max_chars=4096, buttons=True)

    def __init__(self, core: Core, config: TelegramConfig, metrics: Metrics | None = None, poll_timeout: float = 10) -> None:
        super().__init__(core, metrics)
        self.config = config
        self.poll_timeout = poll_timeout
        base = config.api_base_url.rstrip("/")
        builder = Application.builder().token(config.token).base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        builder = builder.concurrent_updates(True)
        limiter = rate_limiter()
        if limiter is not None:
            builder = builder.rate_limiter(limiter)
        if config.webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    def routes(self) -> list[web.RouteDef]:
        if not self.config.webhook_url:
            return []
        return [web.post(urlsplit(self.config.webhook_url).path or "/", self.webhook)]

    async def start(self) -> None:
        await self.application.initialize()
        if self.config.webhook_url:
            await self.application.bot.set_webhook(self.config.webhook_url, secret_token=self.config.webhook_secret, allowed_updates=UPDATES)
        await self.application.start()
        if self.application.updater is not None:
            await self.application.updater.start_polling(timeout=self.poll_timeout, allowed_updates=UPDATES)

    async def stop(self) -> None:
        """Stops polling (confirming fetched updates), lets running handlers end, shuts down."""
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST: refused without our secret, else queued like a polled update."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.config.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="bad update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    def _incoming(self, update: Update) -> Incoming | None:
        """Messages and button presses; other updates (edits, channel posts) are ignored."""
        if update.effective_chat is None:
            return None
        chat, update_id = str(update.effective_chat.id), str(update.update_id)
        if update.callback_query is not None:
            return Incoming(self.channel, chat, update.callback_query.data or "", "button", update_id)
        msg = update.message
        if msg is None:
            return None
        if msg.text:
            command = msg.text.split()[0].split("@")[0].removeprefix("/") if msg.text.startswith("/") else ""
            if command in COMMANDS:
                return Incoming(self.channel, chat, COMMANDS[command], "menu", update_id)
            return Incoming(self.channel, chat, msg.text, "text", update_id)
        if msg.voice is not None:
            return Incoming(self.channel, chat, "", "voice", update_id)
        return Incoming(self.channel, chat, "", "other", update_id)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = self._incoming(update)
        if incoming is None:
            return
        query = update.callback_query
        if query is not None:
            # Stop the spinner and take the buttons away, so an old question cannot be answered twice.
            await query.answer()
            if query.message is not None:
                await query.edit_message_reply_markup(reply_markup=None)
        await self._send(int(incoming.user), await self.converse(incoming))

    async def _send(self, chat_id: int, replies: list[Reply]) -> None:
        for reply in replies:
            await self.application.bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply.choices))
            self.metrics.inc("replies", self.channel)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: update failed: %s", context.error, exc_info=context.error)
        self.metrics.inc("errors", self.channel)

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        """Sends through the rate-limited bot; False if the user blocked the bot."""
        try:
            await self._send(int(user), replies)
        except Forbidden:
            return False
        return True
