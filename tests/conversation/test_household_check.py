"""The household check, answer first: one description, a read-back that carries the consent
choice, the result at once on a phone screen, at most three follow-ups that say what changed,
details on request, and no question that cannot matter for the person asked about."""

from __future__ import annotations

import re

from conversation.messages import Incoming
from tests.kit.world import LIMITS, Chat

DESCRIPTION = "我家是监测户，4口人。我45岁在外省打工，老婆43岁在家种地，儿子14岁读初中住校，女儿8岁读小学不住校"


def result_after_readback(chat: Chat, choice: str = "1") -> tuple[str, str]:
    readback = chat.say(DESCRIPTION)
    return readback, chat.say(choice)


def replies(chat: Chat, text: str) -> list[str]:
    """Each message the assistant sends, as the channel gets it."""
    return [r.as_text() for r in chat.assistant.handle(Incoming("test", chat.user, text), LIMITS)]


def test_a_description_is_read_back_with_the_consent_choice_in_it(chat: Chat) -> None:
    readback = replies(chat, DESCRIPTION)
    assert len(readback) == 1 and "我记下的是" in readback[0] and "同意保存吗" not in readback[0]
    for choice in ("1. 对，帮我算（不保存）", "2. 对，保存，下次不用再说", "3. 不对，重新说"):
        assert readback[0].count(choice) == 1


def test_the_result_comes_right_after_the_read_back(chat: Chat) -> None:
    _, result = result_after_readback(chat)
    assert "★必须落实" in result
    assert "750元/学期" in result and "312.5元/学期" in result
    assert re.search(r"合计每年约[\d.万]+元", result)


def test_the_first_result_fits_a_phone(chat: Chat) -> None:
    chat.say(DESCRIPTION)
    first = replies(chat, "1")[0]
    assert "★必须落实" in first and len(first) <= 600, len(first)


def test_one_line_per_member_with_their_items(chat: Chat) -> None:
    _, result = result_after_readback(chat)
    lines = result.split("\n")
    child = [line for line in lines if line.startswith("子女（14岁，初中住校）：")]
    assert len(child) == 1 and "教育助学补贴750元/学期" in child[0]


def test_at_most_three_follow_ups_then_done(chat: Chat) -> None:
    _, reply = result_after_readback(chat)
    questions = 0
    for _ in range(6):
        if "以上就是按现有情况能确定的" in reply:
            break
        questions += 1
        reply = chat.say("不知道")
    assert "以上就是按现有情况能确定的" in reply and questions <= 3


def test_stated_facts_are_not_asked_again(chat: Chat) -> None:
    _, reply = result_after_readback(chat)
    asked = reply
    for _ in range(4):
        reply = chat.say("不知道")
        asked += reply
    for stated in ("已纳入监测", "在读什么学段", "住校（寄宿）吗", "在哪里打工"):
        assert stated not in asked, stated


def test_a_follow_up_answer_says_only_what_changed(chat: Chat) -> None:
    _, reply = result_after_readback(chat)
    question = reply.split("\n\n")[-1]
    assert "\n1. " in question
    changed = chat.say("1")
    assert any(w in changed for w in ("多了一项", "这项不符合", "金额变了", "不影响结果"))
    assert "★必须落实" not in changed  # not the whole result again


def test_details_on_request(chat: Chat) -> None:
    result_after_readback(chat)
    for _ in range(4):
        chat.say("跳过")
    detail = chat.say("怎么办 2")
    assert "怎么办：" in detail and "负责：" in detail and "依据：" in detail
    source = chat.say("原文 2")
    assert "“" in source and "明白纸" in source
    assert "可以争取" in chat.say("更多")


def test_choice_2_saves_and_the_next_check_starts_from_it(chat: Chat) -> None:
    result_after_readback(chat, "2")
    for _ in range(4):
        chat.say("跳过")
    assert chat.store.load_profile("test", chat.user)
    again = chat.say("家庭核查")
    assert "我记下的是" in again and "初中住校" in again


def test_choice_1_saves_nothing(chat: Chat) -> None:
    result_after_readback(chat, "1")
    for _ in range(4):
        chat.say("跳过")
    assert not chat.store.load_profile("test", chat.user)


def test_a_correction_in_the_read_back_changes_that_member(chat: Chat) -> None:
    chat.say(DESCRIPTION)
    again = chat.say("女儿是三年级，住校")
    assert "改过了" in again
    assert "小学住校" in again and again.count("子女") == 2  # corrected, nobody added


def test_choice_3_asks_for_the_description_again(chat: Chat) -> None:
    chat.say(DESCRIPTION)
    assert "说说家里的情况" in chat.say("3")


def test_no_question_about_a_fact_that_cannot_matter_for_that_person(chat: Chat) -> None:
    """A 5-year-old is not asked where they work, an 80-year-old not which school, children not
    whether they want a job, a safe house not its 危房 grade."""
    chat.say("监测户，我爸八十岁，孙女五岁读幼儿园，儿子十岁读小学，房子是安全的砖房")
    reply = chat.say("1")
    asked = []
    for _ in range(5):
        asked.append(reply.split("\n\n")[-1])
        if "以上就是" in reply:
            break
        reply = chat.say("不知道")
    text = "\n".join(asked)
    for senseless in ("在哪里打工", "现在做什么", "在读什么学段", "想出去找工作", "鉴定是几级危房", "住房现在怎么样"):
        assert senseless not in text, senseless
