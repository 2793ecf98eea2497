"""Bad input never raises: each kind gets a sensible Chinese reply."""

from __future__ import annotations

import pytest

from tests.dialogs.chat import Chat

CASES = {
    "empty": "",
    "only emoji": "🙏🙏🙏👍",
    "5000 characters": "低保" * 2500,
    "mixed scripts": "ｈｅｌｌｏ 娃 читать 初中 ١٢٣",
    "sql": "1' OR '1'='1'; DROP TABLE sessions;--",
    "number for a word": "123456789",
    "control characters": "\x00\x07初中\x1b[31m",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_chinese_reply(chat: Chat, text: str) -> None:
    reply = chat.say(text)
    assert reply and "Traceback" not in reply and any("\u4e00" <= c <= "\u9fff" for c in reply)


def test_very_long_message_says_it_was_cut(chat: Chat) -> None:
    assert "太长" in chat.say("娃读初中" * 1000)


def test_number_where_a_choice_is_expected_reprompts(chat: Chat) -> None:
    chat.say("外出打工路费补多少")
    assert "1 到 3" in chat.say("99")
