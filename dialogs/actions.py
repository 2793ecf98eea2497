"""The Python behind the flows: parsers, prompt builders, predicates and actions, by name.

Everything here works on a `Context` (the services and the user's region and date) and the
flow state, a JSON-able dict that the assistant stores after every message.
"""

from __future__ import annotations

import re
from typing import Any

from dialogs.answers import Reprompt, is_unknown, parse_choice, parse_number, parse_yes_no
from dialogs.context import Context
from dialogs.entities import extract, to_digits
from dialogs.flow import HOOKS, ActionResult
from dialogs.household_parse import parse_description
from dialogs.messages import Choice, Reply
from eligibility.facts import FactSpec, fact_model
from eligibility.household import Household, parse_household, with_defaults
from eligibility.report import missing_label, result_blocks
from policy_kb.conditions import Leaf, Node

MAX_QUESTIONS = 15
YES_NO = [Choice("1", "是"), Choice("2", "不是")]


# -- reading a household from the flow state -------------------------------------------------
def household_of(state: dict) -> Household:
    data = state["slots"].get("household") or {}
    return with_defaults(parse_household(data))


def store_household(state: dict, household: Household) -> None:
    state["slots"]["household"] = household.to_mapping()


def merge_description(state: dict, ctx: Context, text: str) -> bool:
    """Add what a message says about the household; True when it said anything."""
    described = parse_description(ctx.canonical(text), ctx.region_names)
    if described.empty:
        return False
    data = state["slots"].setdefault("household", {})
    data.update({k: sorted(v) if isinstance(v, frozenset) else v for k, v in described.household.items()})
    members = data.setdefault("members", [])
    for member in described.members:
        members.append({k: sorted(v) if isinstance(v, frozenset) else v for k, v in member.items()})
    if described.size:
        state["slots"]["size"] = described.size
    if described.region:
        ctx.region = described.region
    if not members:
        del data["members"]
    return True


@HOOKS.predicate("consent_known")
def consent_known(ctx: Context, state: dict) -> bool:
    consent = ctx.consent()
    if consent is not None:
        state["slots"]["consent"] = consent
    return consent is not None


@HOOKS.predicate("household_described")
def household_described(ctx: Context, state: dict) -> bool:
    return bool(state["slots"].get("household", {}).get("members"))


@HOOKS.parser("household_description")
def household_description(ctx: Context, text: str) -> str:
    state = ctx.flow_state
    if not merge_description(state, ctx, text) or not household_described(ctx, state):
        raise Reprompt("没听明白家里有哪些人。")
    return text


@HOOKS.action("clear_household")
def clear_household(ctx: Context, state: dict, text: str | None) -> ActionResult:
    state["slots"].pop("household", None)
    state["slots"].pop("size", None)
    return ActionResult([], goto="describe")


@HOOKS.prompt("household_summary")
def household_summary(ctx: Context, state: dict) -> str:
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
    size = state["slots"].get("size")
    if size and size > len(household.members or []):
        lines.append(f"您说家里{size}口人，我只记下了{len(household.members or [])}位，其他家人没有说的先不算。")
    lines.append("对吗？")
    return "\n".join(lines)


# -- asking the facts that decide --------------------------------------------------------------
def fact_choices(spec: FactSpec, offered: list[str] | None = None) -> list[Choice]:
    if spec.type == "bool":
        return list(YES_NO)
    if spec.type in ("enum",):
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
        said = extract(ctx.canonical(text), ctx.region_names)
        stated = (said.member if spec.scope == "member" else said.household).get(spec.name)
        if stated is not None and (spec.type != "enum" or not choices or stated in [c.label for c in choices]):
            return sorted(stated) if isinstance(stated, frozenset) else stated
    if spec.type == "bool":
        answer = parse_yes_no(text)
        if answer is None:
            raise Reprompt("请回复“是”或“不是”（也可以回复 1 或 2）。")
        return answer
    if spec.type == "enum":
        return choices[parse_choice(text, choices)].label
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


@HOOKS.action("ask_deciding_facts")
def ask_deciding_facts(ctx: Context, state: dict, text: str | None) -> ActionResult:
    """Ask, one question at a time, the facts the engine says would decide a measure.

    A yes/no or choice fact missing for several members is one question about all of them
    ("下面哪几位想出去找工作？"), so a family of five is not asked the same thing five times.
    """
    sub = state["sub"]
    household = household_of(state)
    skipped: list = state["slots"].setdefault("skipped", [])
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


@HOOKS.action("answer_household")
def answer_household(ctx: Context, state: dict, text: str | None) -> ActionResult:
    household = household_of(state)
    result = ctx.engine.evaluate(household, ctx.region, ctx.today)
    labels = [household.member_label(i) for i in range(len(household.members or []))]
    skipped = [missing_label((m, p), labels) for m, p in state["slots"].get("skipped", [])]
    blocks = result_blocks(result, labels, skipped, ctx.view().parameters)
    if state["slots"].get("consent"):
        ctx.save_household(household)
        blocks.append("家庭情况已保存。回复“我的信息”可以查看或删除。")
    return ActionResult(ctx.pack(blocks), end=True)


# -- policy questions whose amount depends on a fact ------------------------------------------
def offered_values(node: Node | None, path: str) -> list[str]:
    """The values of `path` that a measure's amount conditions test, in their order."""
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


@HOOKS.action("ask_amount_facts")
def ask_amount_facts(ctx: Context, state: dict, text: str | None) -> ActionResult:
    slots, sub = state["slots"], state["sub"]
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
    amounts, missing = ctx.measure_amounts(measure, slots.get("household", {}), member)
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
    return ActionResult([Reply(ctx.answer_text(measure, amounts))], end=True)


def offered_values_of(measure, path: str) -> list[str]:
    values: list[str] = []
    for line in measure.amounts:
        for v in offered_values(line.when, path):
            if v not in values:
                values.append(v)
    return values




@HOOKS.action("remember_consent")
def remember_consent(ctx: Context, state: dict, text: str | None) -> ActionResult:
    ctx.assistant.store.set_consent(ctx.channel, ctx.user, bool(state["slots"].get("consent")))
    return ActionResult([])
