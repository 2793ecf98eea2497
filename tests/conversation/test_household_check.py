"""The household check as a real interview: one description, a confirmation, only deciding
questions, then the answer with ★ measures first, amounts with units and sources."""

from __future__ import annotations

import re

import pytest

from conversation.assistant import load_texts
from tests.kit.world import Chat

CRASHED = load_texts()["crashed"]

DESCRIPTION = "我家是监测户，4口人。我45岁在外省打工，老婆43岁在家种地，儿子14岁读初中住校，女儿8岁读小学不住校"
MAX_TURNS = 25


def start_interview(chat: Chat) -> str:
    """Ask for a check, consent, describe the family, confirm; return the first question."""
    chat.say("帮我看看我家能享受什么")
    chat.say("同意")
    chat.say(DESCRIPTION)
    return chat.say("对")


def interview(chat: Chat, answer: str = "不知道") -> tuple[list[str], str]:
    """Run the check, answering every question the same way; return the questions and the answer."""
    reply = start_interview(chat)
    questions = []
    for _ in range(MAX_TURNS):
        if "必须落实（★）" in reply:
            return questions, reply
        questions.append(reply)
        reply = chat.say(answer)
    raise AssertionError(f"no answer after {MAX_TURNS} questions; last: {reply}")


@pytest.fixture
def answered(chat: Chat) -> tuple[list[str], str]:
    return interview(chat)


def test_stated_facts_are_not_asked_again(answered: tuple[list[str], str]) -> None:
    questions, _ = answered
    asked = "\n".join(questions)
    assert "防止返贫监测对象（已纳入监测）" not in asked and "在读什么学段" not in asked


def test_mandatory_measures_come_first(answered: tuple[list[str], str]) -> None:
    _, answer = answered
    assert answer.index("★ 必须落实") < answer.index("● 可以争取")


def test_education_amounts_per_child(answered: tuple[list[str], str]) -> None:
    _, answer = answered
    assert "750元/生/学期" in answer and "312.5元/生/学期" in answer


def test_yearly_total_is_given(answered: tuple[list[str], str]) -> None:
    _, answer = answered
    assert re.search(r"合计每年约[\d.万]+元", answer)


def test_sources_are_cited(answered: tuple[list[str], str]) -> None:
    _, answer = answered
    assert "依据：《防止返贫监测对象帮扶政策“明白纸”》" in answer


def test_unknown_answers_are_listed_for_checking(answered: tuple[list[str], str]) -> None:
    _, answer = answered
    assert "还需要核实" in answer


def test_questions_are_numbered_choices_or_numbers(answered: tuple[list[str], str]) -> None:
    questions, _ = answered
    assert all(re.search(r"\n1\. |请回复数字|直接说名字", q) for q in questions)


def test_each_fact_is_asked_once(answered: tuple[list[str], str]) -> None:
    questions, _ = answered
    assert len(questions) == len(set(questions))


def test_consent_is_remembered(chat: Chat) -> None:
    interview(chat)
    assert "同意保存吗" not in chat.say("帮我看看我家能享受什么")


def sensible_answer(question: str) -> str:
    """What a villager would answer to each kind of question (no, none, the first option)."""
    if "下面哪几位" in question:
        return "没有"
    if "下面每一位" in question:
        return "1"
    if "\n1. 是" in question:
        return "不是"
    if "\n1. " in question:
        return "1"
    if "请回复数字" in question:
        return "0"
    return "没有"


def test_family_questions_are_asked_once_for_everyone(chat: Chat) -> None:
    """A fact missing for several members is one question about all of them; the check ends in
    the answer (a crash or a loop would not)."""
    reply = start_interview(chat)
    per_member, grouped = [], []
    for _ in range(MAX_TURNS):
        if "必须落实（★）" in reply:
            break
        if reply.startswith("关于"):
            per_member.append(reply.split("\n")[0])
        if "下面哪几位" in reply or "下面每一位" in reply:
            grouped.append(reply.split("\n")[0])
        reply = chat.say(sensible_answer(reply))
    else:
        raise AssertionError(f"no answer after {MAX_TURNS} turns; last: {reply}")
    assert grouped, "no question was asked about several members at once"
    assert per_member == []


def test_one_digit_answers_for_every_member(chat: Chat) -> None:
    reply = start_interview(chat)
    for _ in range(MAX_TURNS):
        if "下面每一位买的是哪种医保" in reply:
            break
        reply = chat.say(sensible_answer(reply))
    else:
        raise AssertionError(f"the insurance of every member was never asked in {MAX_TURNS} turns; last: {reply}")
    after = chat.say("1")
    assert "买的是哪种医保" not in after and CRASHED not in after
