"""A question about one measure ("娃读初中住校补多少"): the amount that applies, asking first only
the fact the amount depends on (住校吗？) when the question did not say it.

Flow: policy_question.yaml. Intents: measure_question (the router found the measure), ask_policy
(the menu's "问政策").
"""

from __future__ import annotations

from pathlib import Path

from conversation.asking import fact_choices, fact_question, offered_values, plain, read_fact
from conversation.context import Context
from conversation.messages import Choice, Reply
from conversation.render import measure_answer
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from eligibility.engine import expiry_warning
from policy_kb.facts import fact_model
from policy_kb.model import Measure
from understanding.answers import Reprompt, is_unknown
from understanding.router import Route

FLOW = "policy_question"


def measure_question(ctx: Context, text: str, route: Route) -> Outcome:
    """Starts the policy question for the measure the router found (or the user picked)."""
    entities = route.reading.entities if route.reading is not None else None
    slots = {"measure": route.name, "member": plain(entities.member) if entities else {},
             "household": plain(entities.household) if entities else {}}
    lead = [Reply(ctx.texts["region_note"].format(region=ctx.view().region.name))] if ctx.region != ctx.services.default_region else []
    return Outcome(lead, Start(FLOW, slots))


def ask_policy(ctx: Context, text: str, route: Route) -> Outcome:
    return Outcome([Reply(ctx.texts["ask_policy"])])


def ask_amount_facts(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    slots, sub = state.slots, state.sub
    measure = ctx.view().measure(slots["measure"])
    if measure is None:
        return ActionResult([Reply(ctx.texts["out_of_scope"])], end=True)
    member: dict = slots.setdefault("member", {})
    if text is not None and sub.get("asking"):
        spec = fact_model().get(sub["asking"])
        assert spec is not None
        if is_unknown(text):
            slots.setdefault("skipped", []).append(sub["asking"])
        else:
            choices = [Choice(**c) for c in sub.get("choices", [])]
            try:
                member[spec.name] = read_fact(spec, text, choices, ctx)
            except (Reprompt, ValueError) as exc:
                again = fact_question(spec, "", choices)
                return ActionResult([Reply(f"{exc}\n{again.text}", again.choices)], asking=True)
    amounts, missing = ctx.engine.question_amounts(measure, ctx.region, ctx.today, slots.get("household", {}), member)
    skipped = set(slots.get("skipped", []))
    for path in missing:
        spec = fact_model().get(path)
        if path in skipped or spec is None or spec.scope != "member" or spec.type not in ("enum", "bool"):
            continue
        offered = [v for v in offered_values_of(measure, path) if v in spec.values] if spec.type == "enum" else None
        choices = fact_choices(spec, offered)
        sub["asking"] = spec.path
        sub["choices"] = [{"key": c.key, "label": c.label} for c in choices]
        return ActionResult([fact_question(spec, "", choices)], asking=True)
    return ActionResult([Reply(answer_text(ctx, measure, amounts))], end=True)


def answer_text(ctx: Context, measure: Measure, amounts: list) -> str:
    expired = [*ctx.engine.measure_expired(measure, ctx.today), *(s for a in amounts for s in a.expired)]
    warnings = tuple(f"注意：{expiry_warning(ctx.kb.sources[s])}" for s in dict.fromkeys(expired))
    text = measure_answer(measure, amounts, ctx.kb, warnings, ctx.view().region.name)
    if "household.monitored" in measure.when.facts:
        text += "\n" + ctx.texts["audience_note"]
    return text + "\n" + ctx.texts["more_detail"]


def offered_values_of(measure: Measure, path: str) -> list[str]:
    values: list[str] = []
    for line in measure.amounts:
        for v in offered_values(line.when, path):
            if v not in values:
                values.append(v)
    return values


SKILL = Skill(
    name="policy_question",
    flows=(Path(__file__).with_name("policy_question.yaml"),),
    hooks=Hooks(actions={"ask_amount_facts": ask_amount_facts}),
    intents={"measure_question": measure_question, "ask_policy": ask_policy},
)
