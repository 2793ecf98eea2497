"""The household check: a family described in a message or two, read back, the facts that still
decide something asked, and the entitlements per member, ★ first.

Flow: household_check.yaml. Intent: household_check (from the menu, or a message that describes a
household or asks what a family can get).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conversation.asking import fact_choices, fact_question, read_fact
from conversation.context import Context
from conversation.messages import Choice, Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from eligibility.household import Household, parse_household, with_defaults
from eligibility.report import missing_label, result_blocks
from policy_kb.facts import FactSpec, fact_model
from understanding.answers import Reprompt, is_unknown, parse_yes_no
from understanding.household_parse import parse_description
from understanding.numerals import to_digits
from understanding.router import Route

FLOW = "household_check"
MAX_QUESTIONS = 15


def household_check(ctx: Context, text: str, route: Route) -> Outcome:
    """Starts the check; a message that already describes the family fills it in."""
    slots: dict[str, Any] = {}
    if text:
        region = merge_description(slots, ctx, text)
        if region:
            ctx.region = region
    return Outcome(start=Start(FLOW, slots))


# -- the household in the flow's slots --------------------------------------------------------
def household_of(state: FlowState) -> Household:
    return with_defaults(parse_household(state.slots.get("household") or {}))


def store_household(state: FlowState, household: Household) -> None:
    state.slots["household"] = household.to_mapping()


def merge_description(slots: dict, ctx: Context, text: str) -> str | None:
    """Adds what a message says about the household to `slots`; returns the county it names, if
    any. Says nothing (returns None, slots unchanged) when the message describes nobody."""
    described = parse_description(ctx.canonical(text), ctx.region_names)
    if described.empty:
        return None
    data = slots.setdefault("household", {})
    data.update({k: sorted(v) if isinstance(v, frozenset) else v for k, v in described.household.items()})
    members = data.setdefault("members", [])
    for member in described.members:
        members.append({k: sorted(v) if isinstance(v, frozenset) else v for k, v in member.items()})
    if described.size:
        slots["size"] = described.size
    if not members:
        del data["members"]
    return described.region


def described(slots: dict) -> bool:
    return bool((slots.get("household") or {}).get("members"))


# -- steps ------------------------------------------------------------------------------------
def consent_known(ctx: Context, state: FlowState) -> bool:
    consent = ctx.store.get_consent(ctx.channel, ctx.user)
    if consent is not None:
        state.slots["consent"] = consent
    return consent is not None


def remember_consent(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    ctx.store.set_consent(ctx.channel, ctx.user, bool(state.slots.get("consent")))
    return ActionResult([])


def describe_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    if described(state.slots):
        return ActionResult([])
    question = Reply(ctx.texts["describe_household"])
    if text is None:
        return ActionResult([question], asking=True)
    region = merge_description(state.slots, ctx, text)
    if region:
        ctx.region = region
    if described(state.slots):
        return ActionResult([])
    state.retries += 1
    tail = "\n如果不好回答，可以回复“菜单”看看我能做什么，或回复“取消”结束。" if state.retries >= 3 else ""
    return ActionResult([Reply(f"{ctx.texts['describe_again']}\n{question.text}{tail}")], asking=True)


def clear_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    state.slots.pop("household", None)
    state.slots.pop("size", None)
    return ActionResult([], goto="describe")


def household_summary(ctx: Context, state: FlowState) -> str:
    household = household_of(state)
    facts = fact_model()
    lines = ["我记下的是："]
    statuses = [facts.household[k].label for k, v in household.facts.items()
                if v is True and facts.household[k].default is None]
    if statuses:
        lines.append("家里：" + "、".join(statuses))
    for i, member in enumerate(household.members or []):
        parts = [member.get("relation", "家人")]
        if "age" in member:
            parts.append(f"{member['age']}岁")
        for key in ("school_stage", "work_status", "work_place", "disability"):
            if member.get(key) and member[key] not in ("无", "不在读"):
                parts.append(str(member[key]))
        if member.get("boarding") is True:
            parts.append("住校")
        if member.get("chronic_diseases"):
            parts.append("、".join(sorted(member["chronic_diseases"])))
        lines.append(f"{i + 1}. " + " ".join(parts))
    size = state.slots.get("size")
    if size and size > len(household.members or []):
        lines.append(f"您说家里{size}口人，我只记下了{len(household.members or [])}位，其他家人没有说的先不算。")
    lines.append("对吗？")
    return "\n".join(lines)


def ask_deciding_facts(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    """Ask, one question at a time, the facts the engine says would decide a measure.

    A yes/no or choice fact missing for several members is one question about all of them
    ("下面哪几位想出去找工作？"), so a family of five is not asked the same thing five times.
    """
    sub = state.sub
    household = household_of(state)
    skipped: list = state.slots.setdefault("skipped", [])
    if text is not None and sub.get("asking"):
        path, members = sub["asking"]["path"], sub["asking"]["members"]
        spec = fact_model().get(path)
        assert spec is not None
        choices = [Choice(**c) for c in sub.get("choices", [])]
        if is_unknown(text):
            skipped.extend([m, path] for m in members)
        else:
            try:
                values = read_group(spec, text, choices, members, ctx)
            except (Reprompt, ValueError) as exc:
                sub["retries"] = sub.get("retries", 0) + 1
                again = group_question(spec, household, members, choices)
                tail = "\n实在不清楚，回复“不知道”跳过。" if sub["retries"] >= 3 else ""
                return ActionResult([Reply(f"{exc}\n{again.text}{tail}", again.choices)], asking=True)
            for member, value in zip(members, values, strict=True):
                if value is not None:
                    _set_fact(household, member, path, value)
            store_household(state, household)
        sub["asked"] = sub.get("asked", 0) + 1
        sub.pop("retries", None)
    if sub.get("asked", 0) >= MAX_QUESTIONS:
        return ActionResult([])
    result = ctx.engine.evaluate(household, ctx.region, ctx.today)
    done = {tuple(s) for s in skipped}
    # A figure (看病自付多少、当地收入) is worth asking only for a measure something already argues for.
    supported = {m for u in result.undecided if u.support for m in u.missing}
    pending = [(m, p) for m, p in result.deciding_facts
               if (m, p) not in done and p != "household.members" and (spec := fact_model().get(p)) and spec.type != "text"
               and (not spec.numeric or (m, p) in supported)]
    if not pending:
        return ActionResult([])
    member, path = pending[0]
    spec = fact_model().get(path)
    assert spec is not None
    members = [member]
    if member is not None and spec.type in ("bool", "enum", "set"):
        members = sorted({m for m, p in pending if p == path and m is not None})
    choices = fact_choices(spec)
    sub["asking"] = {"path": path, "members": members}
    sub["choices"] = [{"key": c.key, "label": c.label} for c in choices]
    return ActionResult([group_question(spec, household, members, choices)], asking=True)


def fact_model_bool(spec: FactSpec) -> FactSpec:
    """The yes/no question "does this member have any of these" behind a multi-choice fact."""
    return FactSpec(spec.scope, spec.name, "bool", spec.label, spec.ask)


def group_question(spec: FactSpec, household: Household, members: list, choices: list[Choice]) -> Reply:
    if len(members) == 1:
        return fact_question(spec, _who(household, members[0]), choices)
    people = "\n".join(f"{i + 1}. {_who(household, m)}" for i, m in enumerate(members))
    if spec.type in ("bool", "set"):
        ask = spec.ask.replace("这位", "下面哪几位").replace("有没有", "有").replace("吗？", "？")
        return Reply(f"{ask}\n{people}\n回复编号，可以多选（比如“1 3”）；都没有回复“没有”，都是回复“都是”。")
    options = "、".join(f"{c.key}={c.label}" for c in choices)
    return Reply(f"{spec.ask.replace('这位', '下面每一位')}\n{people}\n选项：{options}\n"
                 f"都一样就回复一个数字；不一样就按顺序回复，比如“{' '.join(c.key for c in choices[:1] * len(members))}”。")


def read_group(spec: FactSpec, text: str, choices: list[Choice], members: list, ctx: Context) -> list[Any]:
    """One value per member in `members`, from one answer."""
    if len(members) == 1:
        return [read_fact(spec, text, choices, ctx)]
    digits = [int(d) for d in re.findall(r"\d", to_digits(text))]
    if spec.type == "set":
        # Who has any: the others have none; for each one named, which ones is asked next.
        chosen = read_group(fact_model_bool(spec), text, choices, members, ctx)
        return [None if has else [] for has in chosen]
    if spec.type == "bool":
        if re.search(r"都是|都要|都想|都有|全部|都", text) and parse_yes_no(text) is not False:
            return [True] * len(members)
        if not digits and parse_yes_no(text) is False:
            return [False] * len(members)
        if not digits or any(d < 1 or d > len(members) for d in digits):
            raise Reprompt(f"请回复编号（1 到 {len(members)}），可以多选；都不是回复“没有”。")
        return [i + 1 in digits for i in range(len(members))]
    if not digits:
        named = [c.label for c in choices if c.label in text]
        if not named and parse_yes_no(text) is False and "无" in spec.values:
            named = ["无"]  # "没有" to "有残疾吗？是几级？"
        if len(named) == 1:
            return named * len(members)
    if len(digits) == 1:
        digits = digits * len(members)
    if len(digits) != len(members) or any(d < 1 or d > len(choices) for d in digits):
        raise Reprompt(f"请回复一个数字（1 到 {len(choices)}），或者按顺序给每一位回复一个数字。")
    return [choices[d - 1].label for d in digits]


def _who(household: Household, member: int | None) -> str:
    if member is None:
        return ""
    label = household.member_label(member)
    age = (household.members or [{}])[member].get("age")
    return f"{label}（{age}岁）" if age is not None else label


def _set_fact(household: Household, member: int | None, path: str, value: Any) -> None:
    name = path.split(".", 1)[1]
    if member is None:
        household.facts[name] = value
    else:
        (household.members or [])[member][name] = value


def answer_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    household = household_of(state)
    result = ctx.engine.evaluate(household, ctx.region, ctx.today)
    labels = [household.member_label(i) for i in range(len(household.members or []))]
    skipped = [missing_label((m, p), labels) for m, p in state.slots.get("skipped", [])]
    blocks = result_blocks(result, labels, skipped, ctx.view().parameters)
    if state.slots.get("consent"):
        ctx.store.save_profile(ctx.channel, ctx.user, {"household": household.to_mapping()})
        blocks.append(ctx.texts["household_saved"])
    return ActionResult(ctx.pack(blocks), end=True)


SKILL = Skill(
    name="household_check",
    flows=(Path(__file__).with_name("household_check.yaml"),),
    hooks=Hooks(
        prompts={"household_summary": household_summary},
        predicates={"consent_known": consent_known},
        actions={"remember_consent": remember_consent, "describe_household": describe_household, "clear_household": clear_household,
                 "ask_deciding_facts": ask_deciding_facts, "answer_household": answer_household},
    ),
    intents={"household_check": household_check},
)
