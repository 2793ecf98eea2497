"""The Telegram adapter's edges (issue 13.15): taps made while the bot was down, buttons of an
old question, updates delivered twice, group chats, the webhook secret, double taps."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from app import telegram_cmd
from channels.telegram import TelegramAdapter, TelegramConfig
from conversation.assistant import Assistant
from tests.channels.channel_testkit import BOT_TOKEN, DESCRIPTION, Counting, FakeBotAPI, serving
from tests.channels.test_telegram import SECRET, Chat, bot_process, button, start_check, telegram, text_of, with_buttons

HOOK = "https://bot.example.org/tg/hook"


def problems(caplog: pytest.LogCaptureFixture, level: int = logging.ERROR) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


async def tapped(api: FakeBotAPI, chat_id: int, message: dict[str, Any], index: int, until: Callable[[list[dict[str, Any]]], bool],
                 user_id: int | None = None) -> list[dict[str, Any]]:
    """Taps a button of `message` and waits for the replies `until` accepts (whether the core ran or not)."""
    after = len(api.sent)
    api.presses(chat_id, message, message["reply_markup"]["inline_keyboard"][index][0]["callback_data"], user_id)
    return await api.replies(chat_id, after, until)


# -- (a) a tap made while the bot was down -------------------------------------------------
def test_tap_made_while_the_bot_was_down_is_still_answered(make_assistant: Callable[[], Assistant], caplog: pytest.LogCaptureFixture) -> None:
    api = FakeBotAPI()
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        core = Counting(make_assistant())
        async with telegram(core, api):
            menu = with_buttons(await Chat(api, core, 1001).say("/start"))
        assert menu is not None
        index, _ = button(menu, "家庭核查")
        api.callbacks_too_old = True  # the tap waited in Telegram's queue longer than a callback query lives
        api.presses(1001, menu, menu["reply_markup"]["inline_keyboard"][index][0]["callback_data"])
        core = Counting(make_assistant())
        async with telegram(core, api) as (adapter, _):
            replies = await api.replies(1001, len(api.sent), lambda sent: bool(core.of("1001")) and len(sent) >= len(core.of("1001")[0][1]))
            assert core.of("1001")[0][0].kind == "button"
            assert text_of(replies)
            assert adapter.metrics.count("errors", "telegram") == 0
        assert [m for m, _ in api.calls].count("answerCallbackQuery") == 1
        assert not problems(caplog)

    asyncio.run(scenario())


# -- (b) a button of an old question -------------------------------------------------------
def test_button_of_an_old_question_is_not_read_against_the_current_one(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()

    async def scenario() -> None:
        async with telegram(core, api):
            chat = Chat(api, core, 1101)
            await start_check(chat, use_buttons=True)
            read_back = with_buttons(await chat.say(DESCRIPTION))  # 1 对，帮我算 / 2 对，保存 / 3 不对
            assert read_back is not None
            current = await chat.press(read_back, 0)
            question = with_buttons(current)
            assert question is not None, text_of(current)  # the check asks its next question with buttons
            session, steps = core.store.load_session("telegram", "1101"), len(core.of("1101"))
            stale = await tapped(api, 1101, read_back, 2,
                                 lambda sent: any("过期" in m["text"] for m in sent) and with_buttons(sent) is not None)
            assert "这个按钮已过期" in text_of(stale)
            assert len(core.of("1101")) == steps and core.store.load_session("telegram", "1101") == session
            again = with_buttons(stale)  # the current question is asked again, with buttons that work
            assert again is not None and question["text"] in again["text"]
            assert again["reply_markup"] == question["reply_markup"]
            await chat.press(again, 0)
            assert len(core.of("1101")) == steps + 1 and core.of("1101")[-1][0].kind == "button"
            # a button without a question token (sent before buttons carried one) is not read as an answer either
            after = len(api.sent)
            legacy = {**read_back, "message_id": 77}
            api.presses(1101, legacy, "1")
            await api.replies(1101, after, lambda sent: any("过期" in m["text"] for m in sent))
            assert len(core.of("1101")) == steps + 1

    asyncio.run(scenario())


def test_buttons_carry_the_question_they_answer(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()

    async def scenario() -> None:
        async with telegram(core, api):
            menu = with_buttons(await Chat(api, core, 1151).say("/start"))
            assert menu is not None
            data = [row[0]["callback_data"] for row in menu["reply_markup"]["inline_keyboard"]]
            tokens = {d.split(":")[0] for d in data}
            assert len(tokens) == 1 and all(":" in d and len(d.encode()) <= 64 for d in data)

    asyncio.run(scenario())


# -- (c) the same update delivered twice ---------------------------------------------------
def test_update_delivered_twice_is_answered_once_across_processes(make_assistant: Callable[[], Assistant]) -> None:
    api = FakeBotAPI()
    first, second = Counting(make_assistant()), Counting(make_assistant())  # two processes on one database

    async def scenario() -> None:
        async with serving(api.app) as api_url, bot_process(first, api_url, True) as (one, url_one), \
                bot_process(second, api_url, True) as (two, url_two), aiohttp.ClientSession() as http:
            update = api.says(1201, "/start")
            for url in (url_one, url_one, url_two):
                async with http.post(f"{url}/tg/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                    assert response.status == 200
            await api.replies(1201, 0, lambda sent: bool(sent))
            await asyncio.sleep(0.5)
            assert len(first.steps) + len(second.steps) == 1
            assert len([m for m in api.sent if m["chat"]["id"] == 1201]) == len((first.steps or second.steps)[0][1])
            assert one.metrics.count("duplicates", "telegram") + two.metrics.count("duplicates", "telegram") == 2

    asyncio.run(scenario())


def test_polled_update_seen_again_after_a_restart_is_not_answered_again(make_assistant: Callable[[], Assistant]) -> None:
    api = FakeBotAPI()

    async def scenario() -> None:
        core = Counting(make_assistant())
        async with telegram(core, api):
            update = api.says(1251, "帮助")
            await api.replies(1251, 0, lambda sent: bool(sent))
        api.updates.append(update)  # Telegram hands it out again: the offset was not confirmed before the crash
        core = Counting(make_assistant())
        async with telegram(core, api):
            api.says(1251, "菜单")
            await api.replies(1251, 0, lambda sent: bool(core.steps) and len(sent) >= 2)
            await asyncio.sleep(0.3)
            assert [m.text for m, _ in core.steps] == ["菜单"]

    asyncio.run(scenario())


# -- (d) group chats -----------------------------------------------------------------------
def test_group_is_answered_only_when_addressed_and_each_member_has_a_session(make_assistant: Callable[[], Assistant]) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()
    group = -2001
    api.chat_types[group] = "supergroup"

    async def scenario() -> None:
        async with telegram(core, api):
            for text in ("菜单", "/help@another_bot", "@someone_else 家庭核查", "/unknown"):
                api.says(group, text, user_id=11)
            api.says(1301, "/help@another_bot")  # not for us in a private chat either
            await asyncio.sleep(0.5)
            assert core.steps == [] and api.sent == []

            after = len(api.sent)
            api.says(group, "/help@fanpin_test_bot", user_id=11)
            helped = await api.replies(group, after, lambda sent: len(core.steps) == 1 and len(sent) >= len(core.steps[0][1]))
            assert core.steps[0][0].user == f"{group}:11" and core.steps[0][0].text == "帮助"
            assert helped[0].get("reply_parameters", {}).get("message_id")  # the answer quotes who it is for

            after = len(api.sent)
            api.says(group, "@fanpin_test_bot 家庭核查", user_id=11)
            asked = await api.replies(group, after, lambda sent: len(core.steps) == 2 and len(sent) >= len(core.steps[1][1]))
            assert core.steps[1][0].text == "家庭核查"

            after = len(api.sent)
            api.says(group, "初中住校补助多少", user_id=12, reply_to=asked[-1])  # another member replies to the bot
            await api.replies(group, after, lambda sent: len(core.steps) == 3 and len(sent) >= len(core.steps[2][1]))
            assert core.steps[2][0].user == f"{group}:12"
            api.says(group, "初中住校补助多少", user_id=12, reply_to={**asked[-1], "from": {"id": 99, "is_bot": False, "first_name": "张三"}})
            await asyncio.sleep(0.3)
            assert len(core.steps) == 3  # a reply to another member is not for the bot

            mine, theirs = core.store.load_session("telegram", f"{group}:11"), core.store.load_session("telegram", f"{group}:12")
            assert (mine or {}).get("flow", {}).get("flow") == "household_check"
            assert (theirs or {}).get("flow") is None
            assert core.store.load_session("telegram", str(group)) is None

            # a button in the group answers the session of whoever taps it
            menu_after = len(api.sent)
            api.says(group, "/start@fanpin_test_bot", user_id=12)
            replies = await api.replies(group, menu_after, lambda sent: len(core.steps) == 4 and len(sent) >= len(core.steps[3][1]))
            menu = with_buttons(replies)
            assert menu is not None
            index, _ = button(menu, "家庭核查")
            await tapped(api, group, menu, index, lambda sent: len(core.steps) == 5 and len(sent) >= len(core.steps[4][1]), user_id=12)
            assert core.steps[4][0].user == f"{group}:12" and core.steps[4][0].kind == "button"

    asyncio.run(scenario())


# -- (e) the webhook secret ----------------------------------------------------------------
def test_webhook_mode_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                         make_assistant: Callable[[], Assistant]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert TelegramConfig.from_env().webhook_secret == ""  # long polling needs none
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramConfig.from_env(HOOK)
    args = argparse.Namespace(webhook_url=HOOK, host="127.0.0.1", port=0)
    assert telegram_cmd.run(args) == 2
    out = capsys.readouterr().out
    assert "TELEGRAM_WEBHOOK_SECRET" in out and "webhook" in out
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "含中文不行")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramConfig.from_env(HOOK)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    assert TelegramConfig.from_env(HOOK).webhook_secret == TelegramConfig.from_env(HOOK).webhook_secret == SECRET
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramAdapter(Counting(make_assistant()), TelegramConfig(BOT_TOKEN, "http://127.0.0.1:1", HOOK, ""))


# -- (f) a double tap ----------------------------------------------------------------------
def test_double_tap_is_not_an_error(make_assistant: Callable[[], Assistant], caplog: pytest.LogCaptureFixture) -> None:
    core, api = Counting(make_assistant()), FakeBotAPI()
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with telegram(core, api) as (adapter, _):
            menu = with_buttons(await Chat(api, core, 1401).say("/start"))
            assert menu is not None
            index, data = button(menu, "家庭核查")
            after = len(api.sent)
            api.presses(1401, menu, data)
            api.presses(1401, menu, data)
            await api.replies(1401, after, lambda sent: len(core.steps) >= 2 and any("过期" in m["text"] for m in sent))
            await asyncio.sleep(0.2)
            assert [m.kind for m, _ in core.steps] == ["menu", "button"]  # the second tap is not a second answer
            assert adapter.metrics.count("errors", "telegram") == 0
            assert not problems(caplog, logging.WARNING)
            assert any("not modified" in r.getMessage().lower() for r in caplog.records if r.levelno == logging.DEBUG)

    asyncio.run(scenario())
