"""Bad input never raises: each kind gets the reply meant for it, never the apology for a crash."""

from __future__ import annotations

import pytest

from conversation.assistant import load_texts
from tests.kit.world import Chat

CRASHED = load_texts()["crashed"]
# message -> a piece of the reply meant for it
CASES = {
    "empty": ("", "没收到文字"),
    "only emoji": ("🙏🙏🙏👍", "菜单"),
    "5000 characters": ("低保" * 2500, "太长"),
    "mixed scripts": ("ｈｅｌｌｏ 娃 читать 初中 ١٢٣", "您好"),
    "sql": ("1' OR '1'='1'; DROP TABLE sessions;--", "用中文回答"),
    "english": ("How much is the transport subsidy?", "用中文回答"),
    "number for a word": ("123456789", "答不了"),
    "control characters": ("\x00\x07初中\x1b[31m", "教育助学补贴"),
}


@pytest.mark.parametrize("text, meant", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_the_reply_meant_for_it(chat: Chat, text: str, meant: str) -> None:
    reply = chat.say(text)
    assert meant in reply and CRASHED not in reply and "Traceback" not in reply, reply


def test_very_long_message_says_it_was_cut(chat: Chat) -> None:
    assert "太长" in chat.say("娃读初中" * 1000)


def test_number_where_a_choice_is_expected_reprompts(chat: Chat) -> None:
    chat.say("外出打工路费补多少")
    assert "1 到 4" in chat.say("99")  # 省外、省内县外、市内县外、县内
