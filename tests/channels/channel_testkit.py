"""Loopback doubles of the outside services (Telegram's Bot API, WeChat's API), and a
step-counting wrapper around the real Assistant.

Tests are plain functions running one `asyncio.run(...)` each: the doubles, the real
server and the real libraries (python-telegram-bot, wechatpy) share that loop, all on
127.0.0.1 with ephemeral ports.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from conversation.messages import ChannelLimits, Incoming, Reply
from conversation.session import Turn

BOT_TOKEN = "123456:TEST-token"
DESCRIPTION = "我家4口人，是监测户。我45岁在广东打工，老婆在家种地，儿子14岁读初中住校，老父亲72岁有二级残疾证。"
CHECK_STEPS = 30


def menu_number(menu: str, label: str) -> str:
    """The number in front of the menu line naming `label` ("2" for "2. 家庭核查（…）")."""
    return next(line.split(".")[0] for line in menu.splitlines() if label in line and line[:1].isdigit())


def check_answer(question: str, has_choices: bool) -> str:
    """How the test villager answers the household check: describes the family when asked,
    takes the first choice, and says "不知道" to open questions."""
    if "说说家里" in question:
        return DESCRIPTION
    return "1" if has_choices else "不知道"


class Counting:
    """The real Assistant, recording each step and its replies; `delay` makes steps slow.

    The recording step is set on the assistant itself, so every path a channel takes (`handle`,
    or `claim`/`step`/`finish`) goes through the assistant's own code and is recorded.
    """

    def __init__(self, assistant: Any, delay: float = 0.0) -> None:
        self.assistant, self.store, self.delay = assistant, assistant.store, delay
        self.steps: list[tuple[Incoming, list[Reply]]] = []
        self._lock = threading.Lock()
        self._step = assistant.step
        assistant.step = self.step

    def step(self, turn: Turn, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        time.sleep(self.delay)
        replies = self._step(turn, msg, limits)
        with self._lock:
            self.steps.append((msg, replies))
        return replies

    def handle(self, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        return self.assistant.handle(msg, limits)

    def claim(self, msg: Incoming) -> Turn | None:
        return self.assistant.claim(msg)

    def finish(self, turn: Turn, passive: list[str]) -> None:
        self.assistant.finish(turn, passive)

    def last_active(self, channel: str, user: str) -> float | None:
        return self.assistant.last_active(channel, user)

    def of(self, user: str) -> list[tuple[Incoming, list[Reply]]]:
        return [(m, r) for m, r in self.steps if m.user == user]


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serves `app` on 127.0.0.1 at a free port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


BOT_USER = {"id": 123456, "is_bot": True, "first_name": "政策助手", "username": "fanpin_test_bot"}


class BotAPIError(Exception):
    """An API method's refusal: answered as Telegram's 400 with this description."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class FakeBotAPI:
    """Enough of Telegram's Bot API for PTB: form fields carry JSON values, as PTB posts them."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self.chat_types: dict[int, str] = {}  # chats that are not private (groups), by id
        self.callbacks_too_old = False  # answerCallbackQuery fails as for a tap made while the bot was down
        self.keyboards_removed: set[tuple[int, int]] = set()  # (chat, message) whose buttons were taken away
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = {}
        for key, value in (await request.post()).items():
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        method = request.match_info["method"]
        self.calls.append((method, params))
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": f"no {method} here"}, status=404)
        try:
            result = await handler(params)
        except BotAPIError as exc:
            return web.json_response({"ok": False, "error_code": 400, "description": exc.description}, status=400)
        return web.json_response({"ok": True, "result": result})

    async def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(BOT_USER)

    async def api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if self.callbacks_too_old:
            raise BotAPIError("Bad Request: query is too old and response timeout expired or query id is invalid")
        return True

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> bool:
        """Taking the buttons off a message that has none left is refused, as Telegram does."""
        message = (int(params["chat_id"]), int(params["message_id"]))
        if not params.get("reply_markup") or not params["reply_markup"].get("inline_keyboard"):
            if message in self.keyboards_removed:
                raise BotAPIError("Bad Request: message is not modified: specified new message content and reply markup are "
                                  "exactly the same as a current content and reply markup of the message")
            self.keyboards_removed.add(message)
        return True

    async def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: confirms updates below `offset`, waits up to `timeout` for new ones."""
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.updates), float(params.get("timeout") or 0))
            except TimeoutError:
                pass
        return list(self.updates)

    async def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": self.chat_types.get(chat_id, "private"), "first_name": "村民"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": BOT_USER, "text": params["text"]}
        if "reply_parameters" in params:
            message["reply_parameters"] = params["reply_parameters"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(message)
        async with self._changed:
            self._changed.notify_all()
        return message

    # -- what the user does -------------------------------------------------------------
    def update(self, chat_id: int, **body: Any) -> dict[str, Any]:
        """Queues an update for the next getUpdates; returns it (for webhook posts)."""
        update = {"update_id": next(self._update_ids), **body}
        self.updates.append(update)
        asyncio.ensure_future(self._notify())
        return update

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def says(self, chat_id: int, text: str, user_id: int | None = None, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message from `user_id` (the chat's own id in a private chat) in the chat; in a group
        (`chat_types`), @names are mentions and `reply_to` the message answered."""
        user = {"id": chat_id if user_id is None else user_id, "is_bot": False, "first_name": "村民"}
        chat = {"id": chat_id, "type": self.chat_types.get(chat_id, "private")}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": user, "text": text}
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        entities += [{"type": "mention", "offset": m.start(), "length": m.end() - m.start()} for m in re.finditer(r"(?<![/\w])@\w+", text)]
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self.update(chat_id, message=message)

    def presses(self, chat_id: int, message: dict[str, Any], data: str, user_id: int | None = None) -> dict[str, Any]:
        user = {"id": chat_id if user_id is None else user_id, "is_bot": False, "first_name": "村民"}
        query = {"id": f"cq{next(self._query_ids)}", "from": user, "chat_instance": str(chat_id), "data": data, "message": message}
        return self.update(chat_id, callback_query=query)

    async def replies(self, chat_id: int, after: int, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 10) -> list[dict[str, Any]]:
        """Messages sent to the chat since index `after`, once `until(them)` holds."""

        def mine() -> list[dict[str, Any]]:
            return [m for m in self.sent[after:] if m["chat"]["id"] == chat_id]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: until(mine())), timeout)
        return mine()


class FakeWeChatAPI:
    """WeChat's API (token, customer service, templates, menu), counting what it is asked."""

    def __init__(self, app_id: str, secret: str, token_delay: float = 0.0) -> None:
        self.app_id, self.secret, self.token_delay = app_id, secret, token_delay
        self.tokens: list[str] = []
        self.service: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_get("/cgi-bin/token", self._token)
        self.app.router.add_post("/cgi-bin/message/custom/send", self._post(self.service))
        self.app.router.add_post("/cgi-bin/message/template/send", self._post(self.templates))
        self.app.router.add_post("/cgi-bin/menu/create", self._post(self.menus))

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if (q.get("grant_type"), q.get("appid"), q.get("secret")) != ("client_credential", self.app_id, self.secret):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        await asyncio.sleep(self.token_delay)
        self.tokens.append(f"TOKEN-{len(self.tokens) + 1}")
        return web.json_response({"access_token": self.tokens[-1], "expires_in": 7200})

    def _post(self, into: list[dict[str, Any]]) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            if not self.tokens or request.query.get("access_token") != self.tokens[-1]:
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
            into.append(json.loads(await request.read()))
            return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(into)})

        return handle
