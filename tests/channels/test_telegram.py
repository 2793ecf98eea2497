"""The Telegram adapter with the real python-telegram-bot Application, polling (or receiving
webhooks from) a Bot API double on loopback, and the real Assistant on SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from channels.base import ASK_TO_TYPE, UNSUPPORTED
from channels.server import start_server
from channels.telegram import TelegramAdapter, TelegramConfig
from conversation.assistant import Assistant
from conversation.messages import Reply
from tests.channels.channel_testkit import BOT_TOKEN, CHECK_STEPS, DESCRIPTION, Counting, FakeBotAPI, check_answer, serving

SECRET = "webhook-secret_1"


@dataclass
class Chat:
    """One Telegram user talking to the bot; each call returns the replies of one step."""

    api: FakeBotAPI
    core: Counting
    chat_id: int

    async def _step(self, act: Callable[[], Any]) -> list[dict[str, Any]]:
        after, steps = len(self.api.sent), len(self.core.of(str(self.chat_id)))
        act()

        def complete(sent: list[dict[str, Any]]) -> bool:
            done = self.core.of(str(self.chat_id))[steps:]
            return bool(done) and len(sent) >= len(done[0][1])

        return await self.api.replies(self.chat_id, after, complete)

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._step(lambda: self.api.says(self.chat_id, text))

    async def press(self, message: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
        button = message["reply_markup"]["inline_keyboard"][index][0]
        return await self._step(lambda: self.api.presses(self.chat_id, message, button["callback_data"]))


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def with_buttons(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((m for m in reversed(messages) if m.get("reply_markup")), None)


def button(message: dict[str, Any], label: str) -> tuple[int, str]:
    """Row index and callback data of the button whose label mentions `label`."""
    rows = message["reply_markup"]["inline_keyboard"]
    return next((i, row[0]["callback_data"]) for i, row in enumerate(rows) if label in row[0]["text"])


async def start_check(chat: Chat, use_buttons: bool) -> list[dict[str, Any]]:
    """Opens the menu with /start and picks 家庭核查, by button or by typing its number."""
    menu = with_buttons(await chat.say("/start"))
    assert menu is not None
    index, data = button(menu, "家庭核查")
    return await (chat.press(menu, index) if use_buttons else chat.say(data.rpartition(":")[2]))  # the data is "question:key"


@asynccontextmanager
async def telegram(core: Counting, api: FakeBotAPI, webhook: bool = False) -> AsyncIterator[tuple[TelegramAdapter, str]]:
    async with serving(api.app) as api_url, bot_process(core, api_url, webhook) as running:
        yield running


@asynccontextmanager
async def bot_process(core: Counting, api_url: str, webhook: bool = False) -> AsyncIterator[tuple[TelegramAdapter, str]]:
    """One `bot.py telegram` process against the Bot API double at `api_url`: its adapter and server URL."""
    config = TelegramConfig(BOT_TOKEN, api_url, "https://bot.example.org/tg/hook" if webhook else "", SECRET)
    adapter = TelegramAdapter(core, config, poll_timeout=1, store=core.store)
    runner, port = await start_server([adapter], adapter.metrics, "127.0.0.1", 0)
    try:
        yield adapter, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def household_check(chat: Chat, use_buttons: bool, first: list[dict[str, Any]]) -> str:
    """Walks the check from its first question to the result, choices typed or pressed.
    Returns the result's text."""
    replies = first
    for _ in range(CHECK_STEPS):
        text = text_of(replies)
        if "★" in text:
            return text
        message = with_buttons(replies)
        if message is not None and use_buttons:
            replies = await chat.press(message)
        else:
            replies = await chat.say(check_answer(text, message is not None))
    raise AssertionError(f"no result; last replies: {text_of(replies)}")


def test_household_check_by_text_and_by_buttons(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()

    async def scenario() -> None:
        async with telegram(core, api):
            for chat_id, use_buttons in ((501, False), (502, True)):
                chat = Chat(api, core, chat_id)
                result = await household_check(chat, use_buttons, await start_check(chat, use_buttons))
                assert "★" in result and "元" in result
                assert all(len(m["text"]) <= 4096 for m in api.sent)
            presses = [call for call in api.calls if call[0] == "answerCallbackQuery"]
            edits = [call for call in api.calls if call[0] == "editMessageReplyMarkup"]
            assert presses and len(presses) == len(edits)
            assert [m.kind for m, _ in core.of("502")].count("button") == len(presses)

    asyncio.run(scenario())


def test_commands_map_to_menu_help_cancel(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()

    async def scenario() -> None:
        async with telegram(core, api):
            chat = Chat(api, core, 601)
            await chat.say("/start")
            await chat.say("/help@fanpin_test_bot")
            await start_check(chat, use_buttons=False)
            cancelled = await chat.say("/cancel")
            kinds = [(m.kind, m.text) for m, _ in core.of("601")]
            assert kinds[:2] == [("menu", "菜单"), ("menu", "帮助")] and kinds[-1] == ("menu", "取消")
            assert "结束" in text_of(cancelled)
            assert await chat.say("你好")
            api.update(601, message={"message_id": 1, "date": int(time.time()), "chat": {"id": 601, "type": "private"},
                                     "voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}})
            api.update(601, message={"message_id": 2, "date": int(time.time()), "chat": {"id": 601, "type": "private"},
                                     "location": {"latitude": 23.1, "longitude": 113.3}})
            last = await api.replies(601, 0, lambda sent: sent[-1]["text"] == UNSUPPORTED)
            assert last[-2]["text"] == ASK_TO_TYPE

    asyncio.run(scenario())


def test_dialog_survives_a_restart(make_assistant: Callable[[], Assistant]) -> None:
    api = FakeBotAPI()

    async def scenario() -> None:
        core = Counting(make_assistant())
        async with telegram(core, api):
            chat = Chat(api, core, 701)
            await start_check(chat, use_buttons=True)
            before = await chat.say(DESCRIPTION)  # the read-back, with its choices as buttons
        core = Counting(make_assistant())  # a new process: new Assistant and store on the same file
        async with telegram(core, api):
            chat = Chat(api, core, 701)
            message = with_buttons(before)
            assert message is not None
            result = await household_check(chat, True, await chat.press(message))
            assert "★" in result and "元" in result
        assert core.of("701")[0][0].kind == "button"

    asyncio.run(scenario())


def test_one_chat_in_order_chats_in_parallel(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant(), delay=0.3), FakeBotAPI()
    sequence = ["菜单", "帮助", "家庭核查", "取消"]

    async def scenario() -> None:
        async with telegram(core, api):
            for chat_id in (801, 802):
                for text in sequence:
                    api.says(chat_id, text)
            for chat_id in (801, 802):
                await api.replies(chat_id, 0, all_answered(core, str(chat_id), len(sequence)))
        for chat_id in (801, 802):
            assert [m.text for m, _ in core.of(str(chat_id))] == sequence
            expected = [r.text for _, replies in core.of(str(chat_id)) for r in replies]
            assert [m["text"] for m in api.sent if m["chat"]["id"] == chat_id] == expected
        finished = [m.user for m, _ in core.steps]
        assert finished[: len(sequence)] != ["801"] * len(sequence)  # 802 did not wait for 801's queue

    asyncio.run(scenario())


def all_answered(core: Counting, user: str, steps: int) -> Callable[[list[dict[str, Any]]], bool]:
    def check(sent: list[dict[str, Any]]) -> bool:
        done = core.of(user)
        return len(done) == steps and len(sent) >= sum(len(replies) for _, replies in done)

    return check


def test_webhook_needs_the_secret(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()

    async def scenario() -> None:
        async with telegram(core, api, webhook=True) as (adapter, url), aiohttp.ClientSession() as http:
            set_webhook = [params for method, params in api.calls if method == "setWebhook"]
            assert set_webhook == [{"url": "https://bot.example.org/tg/hook", "secret_token": SECRET, "allowed_updates": ["message", "callback_query"]}]
            assert not [method for method, _ in api.calls if method == "getUpdates"]
            update = api.says(901, "/start")
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(f"{url}/tg/hook", json=update, headers=headers) as response:
                    assert response.status == 403
            async with http.post(f"{url}/tg/hook", data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                assert response.status == 400
            assert core.steps == []
            async with http.post(f"{url}/tg/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                assert response.status == 200
            menu = await api.replies(901, 0, lambda sent: bool(sent))
            assert with_buttons(menu) and core.steps[0][0].text == "菜单"
            assert await adapter.send_push("901", [Reply("提醒：明天截止。")])
            assert api.sent[-1]["text"] == "提醒：明天截止。"
            async with http.get(f"{url}/metrics") as response:
                metrics = await response.text()
            assert 'fanpin_messages_total{channel="telegram"} 1' in metrics
            assert 'fanpin_reply_latency_seconds_count{channel="telegram"} 1' in metrics

    asyncio.run(scenario())
