"""A villager confirming the application a cadre filled in for them (代填): "确认申请", then the
village, the phone number the cadre wrote down and the six-digit code the cadre told them in
person; the waiting application becomes theirs. Every miss reads the same (workflow/desk.py).

Flow: confirm_proxy.yaml. Reader: the words 确认申请 (workflow/texts.yaml confirm_words).
"""

from __future__ import annotations

import re
from pathlib import Path

from conversation.context import Context
from conversation.messages import Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from conversation.skills import apply
from conversation.skills.shared import say, text, words
from foundation.text import clean, normalize_width
from understanding.answers import Reprompt
from understanding.numerals import to_digits
from workflow.desk import TooManyTries
from workflow.views import status_text

FLOW = "confirm_application"
_CODE = re.compile(r"^\D*(\d{6})\D*$")


def confirm_command(ctx: Context, said: str) -> Outcome | None:
    if clean(said) not in words("confirm_words"):
        return None
    return Outcome(start=Start(FLOW))


def proxy_code(ctx: Context, answer: str) -> str:
    found = _CODE.match(to_digits(normalize_width(answer)).replace(" ", ""))
    if found is None:
        raise Reprompt(text("bad_proxy_code"))
    return found.group(1)


def link_with_code(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    slots = state.slots
    d = ctx.desk
    try:
        linked = d.confirm_proxy(ctx.actor, slots["village"], slots["phone"], slots.pop("code"))
    except TooManyTries:
        return ActionResult(say("proxy_too_many"), end=True)
    if linked is None:
        return ActionResult(say("proxy_miss"), end=True)
    return ActionResult([Reply(text("proxy_linked", number=linked.number)), Reply(status_text(d, linked))], end=True)


SKILL = Skill(
    name="confirm_proxy",
    flows=(Path(__file__).with_name("confirm_proxy.yaml"),),
    hooks=Hooks(parsers={"confirm_phone": apply.phone, "proxy_code": proxy_code},
                actions={"confirm_village": apply.ask_village, "link_with_code": link_with_code}),
    readers=(confirm_command,),
)
