"""Asking one household fact and reading the answer: the question with its numbered choices, and
the answer as the fact's value. Used by the skills that ask facts (policy questions, the
household check)."""

from __future__ import annotations

from typing import Any

from conversation.context import Context
from conversation.messages import Choice, Reply
from policy_kb.conditions import Leaf, Node
from policy_kb.facts import FactSpec
from understanding.answers import Reprompt, parse_choice, parse_number, parse_yes_no

YES_NO = [Choice("1", "是"), Choice("2", "不是")]


def fact_choices(spec: FactSpec, offered: list[str] | None = None) -> list[Choice]:
    if spec.type == "bool":
        return list(YES_NO)
    if spec.type == "enum":
        values = offered or list(spec.values)
        return [Choice(str(i + 1), v) for i, v in enumerate(values)]
    return []


def fact_question(spec: FactSpec, who: str, choices: list[Choice]) -> Reply:
    prefix = f"关于{who}：" if who else ""
    hint = ""
    if spec.type == "set":
        hint = "\n有的话直接说名字，比如“高血压”；都没有就回复“没有”。"
    elif spec.numeric:
        hint = f"\n请回复数字{('（' + spec.unit + '）') if spec.unit else ''}。"
    return Reply(f"{prefix}{spec.ask}{hint}\n不清楚可以回复“不知道”。", choices)


def read_fact(spec: FactSpec, text: str, choices: list[Choice], ctx: Context | None = None) -> Any:
    """The answer as the fact's value; Reprompt says what is expected.

    Besides a digit or 是/不是, an answer may state the fact itself ("住校", "在广东打工"):
    it is read through the lexicon and entity extraction like any message.
    """
    if ctx is not None:
        said = ctx.extract(text)
        stated = (said.member if spec.scope == "member" else said.household).get(spec.name)
        if stated is not None and (spec.type != "enum" or not choices or stated in [c.label for c in choices]):
            return sorted(stated) if isinstance(stated, frozenset) else stated
    if spec.type == "bool":
        answer = parse_yes_no(text)
        if answer is None:
            raise Reprompt("请回复“是”或“不是”（也可以回复 1 或 2）。")
        return answer
    if spec.type == "enum":
        try:
            return choices[parse_choice(text, choices)].label
        except Reprompt:
            if ctx is None:
                raise
            return choices[parse_choice(ctx.canonical(text), choices)].label  # 县城 is 县内, 外省 is 省外
    if spec.type == "set":
        if parse_yes_no(text) is False:
            return []
        picked = [v for v in spec.values if v in text]
        if not picked:
            raise Reprompt(f"请说出名字（{'、'.join(spec.values)}），都没有就回复“没有”。")
        return picked
    if spec.numeric:
        value = parse_number(text)
        return spec.check(int(value) if spec.type == "int" else value)
    return text.strip()


def offered_values(node: Node | None, path: str) -> list[str]:
    """The values of `path` that a condition tests, in their order."""
    found: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Leaf):
            if n.paths == (path,) and n.op in ("eq", "in"):
                for v in (n.operand if isinstance(n.operand, list) else [n.operand]):
                    if v not in found:
                        found.append(v)
            return
        for child in getattr(n, "children", ()) or ([n.child] if hasattr(n, "child") else []):
            walk(child)

    if node is not None:
        walk(node)
    return found


def plain(facts: dict) -> dict:
    """Facts as JSON-able values (sets as sorted lists), for a flow's slots."""
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in facts.items()}
