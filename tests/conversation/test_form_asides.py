"""A question or a refusal typed into a form is never stored as an answer.

Every step of the application form, the household check's fact questions and the deletion
confirmation gets each of 30 such replies in turn: the reply answers the question (or says the
refusal was not recorded) and asks the same step again, and the saved flow is exactly as before.
A refusal to a consent question is a no, never a yes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.world import Chat

QUESTIONS = [
    "民主评议是啥子", "监测的流程是怎样的", "等一下 先问个事 娃读初中住校补多少", "外出打工路费补多少", "雨露计划补多少",
    "医保交了四百 能退一半不", "这个要多久才批下来？", "你们会不会把我的信息泄露出去?", "为什么要填身份证", "监测标准是多少",
    "低保户能享受什么", "特困人员能领护理补贴吗", "要交钱吗", "几耐先有结果啊", "点解要我手机号", "啷个填哦",
    "这个是干啥子的？", "什么时候公示", "乡镇审核要几天", "收入多少才能纳入监测",
]
REFUSALS = ["不想说", "不告诉你", "保密", "凭什么告诉你", "不方便说", "我不想填", "唔想讲", "干嘛要告诉你", "不说", "不想讲"]
ASIDES = QUESTIONS + REFUSALS

# The answers that walk the application form to each of its steps (a villager applying for their own
# household); consent comes first, before anything identifying is asked.
FORM = [
    ("consent", "1"), ("name", "张三"), ("village", "金墩村"), ("phone", "13812345678"), ("id_number", "跳过"), ("size", "4"),
    ("income", "20000"), ("risk", "1"), ("risk_detail", "老伴住院花了3万元"),
]


def flow_of(chat: Chat) -> dict | None:
    session = chat.assistant.sessions.load("test", chat.user)
    return None if session.flow is None else {"flow": session.flow.flow, "step": session.flow.step,
                                              "slots": dict(session.flow.slots), "sub": dict(session.flow.sub)}


def at_step(chat: Chat, step: str) -> None:
    chat.say("我要申请")
    for name, answer in FORM:
        if name == step:
            return
        chat.say(answer or "")
    raise AssertionError(step)


@pytest.mark.parametrize("step", [name for name, _ in FORM if name != "consent"])
def test_no_question_or_refusal_is_stored_at_any_step_of_the_form(tmp_path: Path, step: str) -> None:
    chat = Chat(tmp_path / "form.db")
    at_step(chat, step)
    before = flow_of(chat)
    assert before is not None and before["step"] == step
    for message in ASIDES:
        reply = chat.say(message)
        assert flow_of(chat) == before, f"{step}: 「{message}」changed the form:\n{reply}"
        assert "接着刚才的问题" in reply or "没有记下" in reply, f"{step}: 「{message}」:\n{reply}"


@pytest.mark.parametrize("message", [*QUESTIONS])
def test_a_question_at_the_consent_step_is_answered_and_consent_asked_again(tmp_path: Path, message: str) -> None:
    chat = Chat(tmp_path / "consent.db")
    at_step(chat, "consent")
    before = flow_of(chat)
    reply = chat.say(message)
    assert flow_of(chat) == before, reply
    assert "同意吗" in reply


@pytest.mark.parametrize("message", ["唔同意", "不同意", "不想说", "冇同意", "别", "凭什么告诉你", "保密", "算了"])
def test_a_refusal_of_consent_is_never_consent(tmp_path: Path, message: str) -> None:
    chat = Chat(tmp_path / "refuse.db")
    at_step(chat, "consent")
    chat.say(message)
    assert flow_of(chat) is None
    assert chat.store.list_applications() == []
    assert "提交成功" not in chat.say("1")


def test_questions_while_the_household_check_asks_a_fact_are_answered_not_stored(tmp_path: Path) -> None:
    chat = Chat(tmp_path / "check.db")
    chat.say("我家是监测户，儿子在外面打工，女儿读初中")
    chat.say("1")  # right, work it out, keep nothing
    before = flow_of(chat)
    assert before is not None and before["step"] == "answer" and before["sub"].get("asking"), chat.say("菜单")
    for message in ASIDES:
        reply = chat.say(message)
        assert flow_of(chat) == before, f"「{message}」changed the check:\n{reply}"


def test_a_question_at_the_delete_confirmation_deletes_nothing(tmp_path: Path) -> None:
    chat = Chat(tmp_path / "delete.db")
    chat.say("删除我的信息")
    before = flow_of(chat)
    for message in QUESTIONS:
        chat.say(message)
        assert flow_of(chat) == before
