"""Telegram adapter (python-telegram-bot v22), for cadres and testers.

Long polling by default; with a webhook URL, Telegram posts updates to the shared web
server, which checks the secret token header before queueing them. Webhook mode needs
TELEGRAM_WEBHOOK_SECRET: every process behind the URL must check the same secret.
Every update is handled once, by update id, across processes (a lease in the store): a
webhook retry, an update polled again after a crash, the same update posted to two
processes. Updates run concurrently; a per-user lock keeps one user in order.

Choices become inline buttons whose callback data is "<question token>:<choice key>"; the
token (a hash of the question's text and choices) of the question last asked is kept in
the store per user, so buttons keep working after a restart and in every process, and a
tap on the buttons of an older question is answered "这个按钮已过期" with the current
question asked again, never read as its answer. A tap is handled even when Telegram no
longer takes its answerCallbackQuery (a tap made while the bot was down).

Private chats are answered; a group only when the bot is addressed (@mention, a reply to
the bot, /command@thisbot or a bare /command the bot knows), each member with a session
of their own ("<chat id>:<user id>"). /command@another_bot is ignored everywhere.

Every Bot API call, replies and pushes alike, goes through PTB's AIORateLimiter when
aiolimiter is installed (python-telegram-bot[rate-limiter]); without it calls are not
throttled and bursts of pushes may meet Telegram's 429 answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from channels.base import SORRY, Adapter, Core
from channels.metrics import Metrics
from conversation.messages import ChannelLimits, Choice, Incoming, Reply
from storage.base import KVStore, StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMANDS = {"start": "菜单", "help": "帮助", "cancel": "取消"}
UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a webhook secret_token
UPDATE_TTL = 26 * 3600  # Telegram keeps an undelivered update for 24 hours: its id is remembered longer
QUESTION_TTL = 8 * 24 * 3600  # the question last asked; a form the user consented to is kept 7 days
STALE = "这个按钮已过期，请回答最新的问题："
STALE_NOTHING_OPEN = "这个按钮已过期。请直接打字提问，或发“菜单”。"
PRIVATE = "private"


@dataclass(frozen=True)
class TelegramConfig:
    """TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE_URL points at a local Bot API server (or a test double);
    TELEGRAM_WEBHOOK_SECRET, required with a webhook URL."""

    token: str
    api_base_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: str = ""

    def __post_init__(self) -> None:
        if self.webhook_url and not SECRET_FORM.fullmatch(self.webhook_secret):
            what = "格式不对" if self.webhook_secret else "没有设置"
            raise ValueError(
                f"webhook 模式需要 TELEGRAM_WEBHOOK_SECRET，现在{what}：请设为 1–256 个字符（只用 A-Z a-z 0-9 _ -），"
                "同一个 webhook 地址后面的每个进程都用同一个值。"
            )

    @classmethod
    def from_env(cls, webhook_url: str = "") -> TelegramConfig:
        token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
        if not token:
            raise ValueError("缺少 TELEGRAM_BOT_TOKEN（找 @BotFather 要）。")
        return cls(
            token=token,
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL") or cls.api_base_url,
            webhook_url=webhook_url,
            webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET", "") if webhook_url else "",
        )


def question_token(reply: Reply) -> str:
    """A short token of a question (its text and choices): what its buttons answer."""
    shown = "\x1e".join([reply.text, *(f"{c.key}\x1f{c.label}" for c in reply.choices)])
    return hashlib.blake2b(shown.encode(), digest_size=5).hexdigest()


def keyboard(choices: list[Choice], token: str = "") -> InlineKeyboardMarkup | None:
    """One button per row (labels are Chinese phrases that would not fit side by side); the
    callback data is "token:key", the token naming the question the buttons answer."""
    if not choices:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=f"{token}:{c.key}" if token else c.key)] for c in choices])


def rate_limiter() -> AIORateLimiter | None:
    try:
        return AIORateLimiter()
    except RuntimeError:
        log.warning("aiolimiter is not installed: Telegram calls are not rate limited")
        return None


def not_modified(error: object) -> bool:
    """Telegram's answer to an edit that changes nothing (a double tap took the buttons away already)."""
    return isinstance(error, BadRequest) and "not modified" in str(error).lower()


@dataclass(frozen=True)
class Addressed:
    """An update for the bot: the neutral message, the chat to answer in, the message to quote (groups)."""

    incoming: Incoming
    chat_id: int
    quote: int | None = None


class TelegramAdapter(Adapter):
    channel = "telegram"
    limits = ChannelLimits(max_chars=4096, buttons=True)

    def __init__(self, core: Core, config: TelegramConfig, metrics: Metrics | None = None, poll_timeout: float = 10,
                 store: KVStore | None = None) -> None:
        """`store` (default: the core's) keeps the handled update ids and each user's open question."""
        super().__init__(core, metrics)
        self.config = config
        self.poll_timeout = poll_timeout
        self.store: Any = store if store is not None else core.store  # type: ignore[attr-defined]
        self.bot_id = config.token.split(":")[0]
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

    # -- which updates are for the bot -----------------------------------------------------
    def _addressed(self, update: Update) -> Addressed | None:
        """Messages and button presses meant for the bot; None for the rest (edits, channel
        posts, group talk not addressed to it, commands for another bot)."""
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or chat.type == "channel" or (sender is not None and sender.is_bot):
            return None
        private = chat.type == PRIVATE
        user = str(chat.id) if private or sender is None else f"{chat.id}:{sender.id}"
        update_id = str(update.update_id)
        query = update.callback_query
        if query is not None:
            return Addressed(Incoming(self.channel, user, query.data or "", "button", update_id), chat.id)
        msg = update.message
        if msg is None:
            return None
        quote = None if private else msg.message_id
        text = msg.text or ""
        if text.startswith("/"):
            command, at, bot = text.split()[0].removeprefix("/").partition("@")
            if at and bot.lower() != (self.application.bot.username or "").lower():
                return None
            if command in COMMANDS:
                return Addressed(Incoming(self.channel, user, COMMANDS[command], "menu", update_id), chat.id, quote)
            if not private and not at and not self._replies_to_me(msg):
                return None
            return Addressed(Incoming(self.channel, user, text, "text", update_id), chat.id, quote)
        text, mentioned = self._without_mention(text)
        if not private and not mentioned and not self._replies_to_me(msg):
            if not (msg.caption and self._without_mention(msg.caption)[1]):
                return None
        if msg.text is not None:
            if not text:  # "@bot" alone
                return Addressed(Incoming(self.channel, user, COMMANDS["start"], "menu", update_id), chat.id, quote)
            return Addressed(Incoming(self.channel, user, text, "text", update_id), chat.id, quote)
        if msg.voice is not None:
            return Addressed(Incoming(self.channel, user, "", "voice", update_id), chat.id, quote)
        return Addressed(Incoming(self.channel, user, "", "other", update_id), chat.id, quote)

    def _without_mention(self, text: str) -> tuple[str, bool]:
        """The text without "@thisbot", and whether it was there."""
        username = self.application.bot.username
        if not username:
            return text, False
        stripped, found = re.subn(rf"(?<![\w/])@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
        return (stripped.strip() if found else text), bool(found)

    def _replies_to_me(self, msg: Message) -> bool:
        replied = msg.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == self.application.bot.id

    # -- one update ------------------------------------------------------------------------
    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """A store call: on the loop when the store is local (microseconds), else in a worker thread."""
        if getattr(self.store, "local", False):
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _first_delivery(self, update_id: int) -> bool:
        """True once per update across every process on the store (Telegram retries, re-polls)."""
        return bool(self.store.kv_lock(f"telegram:update:{self.bot_id}:{update_id}", UPDATE_TTL))

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received = time.perf_counter()
        addressed = self._addressed(update)
        if addressed is None:
            return
        if not await self._off_loop(self._first_delivery, update.update_id):
            log.info("telegram: update %s was delivered again; it was handled already", update.update_id)
            self.metrics.inc("duplicates", self.channel)
            return
        if update.callback_query is not None:
            await self._settle(update.callback_query)
        incoming = addressed.incoming
        async with self.user_locks.hold(incoming.user):
            replies = await asyncio.get_running_loop().run_in_executor(None, self._answer, incoming, received)
            await self._send(addressed.chat_id, replies, addressed.quote)

    async def _settle(self, query: Any) -> None:
        """Stops the spinner and takes the buttons away. Neither is needed for the tap to be
        answered: a tap older than Telegram's callback lifetime is handled all the same."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("telegram: the button tap could not be acknowledged (%s); answering it all the same", exc)
        if query.message is None:
            return
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:
            if not_modified(exc):
                log.debug("telegram: the buttons were taken away already (a double tap): %s", exc)
            else:
                log.warning("telegram: could not take the buttons off the tapped message: %s", exc)

    def _answer(self, msg: Incoming, received: float) -> list[Reply]:
        """The replies to one update, in a worker thread: a tap is checked against the question
        last asked; the question these replies ask is remembered for the next tap."""
        if msg.kind == "button":
            token, _, key = msg.text.rpartition(":")
            try:
                raw = self.store.kv_get(self._question_key(msg.user))
            except StoreUnavailable:
                log.warning("telegram: the store did not answer in time for a button tap")
                return [Reply(SORRY)]
            current = json.loads(raw) if raw else None
            if not token or current is None or current["token"] != token:
                self.metrics.inc("messages", self.channel)
                if current is None:
                    return [Reply(STALE_NOTHING_OPEN)]
                return [Reply(STALE), Reply(current["text"], [Choice(k, label) for k, label in current["choices"]])]
            msg = dataclasses.replace(msg, text=key)
        replies = self.respond(msg, received)
        asked = next((r for r in reversed(replies) if r.choices), None)
        value = "" if asked is None else json.dumps(
            {"token": question_token(asked), "text": asked.text, "choices": [[c.key, c.label] for c in asked.choices]}, ensure_ascii=False
        )
        try:
            self.store.kv_set(self._question_key(msg.user), value, QUESTION_TTL)
        except StoreUnavailable:
            log.warning("telegram: the store did not answer in time; the question asked is not remembered")
        return replies

    def _question_key(self, user: str) -> str:
        return f"telegram:question:{self.bot_id}:{user}"

    async def _send(self, chat_id: int, replies: list[Reply], quote: int | None = None) -> None:
        for i, reply in enumerate(replies):
            quoted = ReplyParameters(quote, allow_sending_without_reply=True) if quote is not None and i == 0 else None
            markup = keyboard(reply.choices, question_token(reply))
            await self.application.bot.send_message(chat_id, reply.text, reply_markup=markup, reply_parameters=quoted)
            self.metrics.inc("replies", self.channel)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not_modified(context.error):
            log.debug("telegram: nothing to change: %s", context.error)
            return
        log.error("telegram: update failed: %s", context.error, exc_info=context.error)
        self.metrics.inc("errors", self.channel)

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        """Sends through the rate-limited bot; False if the user blocked the bot. A group
        member's session key ("chat:user") is pushed to in their group."""
        try:
            await self._send(int(user.split(":")[0]), replies)
        except Forbidden:
            return False
        return True
