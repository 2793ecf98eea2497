"""A villager confirming the application a cadre filled in for them (代填): "确认申请", then the
village and the phone number the cadre wrote down; the waiting application becomes theirs.

Flow: confirm_proxy.yaml. Reader: the words 确认申请 (workflow/texts.yaml confirm_words).
"""

from __future__ import annotations

from pathlib import Path

from conversation.context import Context
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from conversation.skills import apply
from conversation.skills.shared import words
from foundation.text import clean

FLOW = "confirm_application"


def confirm_command(ctx: Context, said: str) -> Outcome | None:
    if clean(said) not in words("confirm_words"):
        return None
    return Outcome(start=Start(FLOW))


def offer(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    return apply.offer_proxy(ctx, state, answer, inside_application=False)


SKILL = Skill(
    name="confirm_proxy",
    flows=(Path(__file__).with_name("confirm_proxy.yaml"),),
    hooks=Hooks(parsers={"confirm_phone": apply.phone}, actions={"confirm_village": apply.ask_village, "offer_proxy": offer}),
    readers=(confirm_command,),
)
