"""The household check, answer first: a family described in a message or two, read back in one
short message that also asks whether to keep it, then at once what the family is owed, then at
most three follow-up questions ranked by what they can change, each saying only what changed.

Flow: household_check.yaml. Intent: household_check (a message that describes a household, the
menu, or "我家能享受什么"). Reader: "怎么办 3" / "3" / "原文 3" / "更多" / "全部" about the last result.

Common sense (policy_kb/facts.yaml `derived`) fills what goes without saying: a pupil does not
work, a child under 16 is no worker, someone at home farming is not away. It is shown in the
read-back, so it can be corrected, and never asked.
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
from conversation.skills.shared import income_against_line
from eligibility.engine import Result
from eligibility.household import Household, parse_household
from eligibility.report import (
    PHONE_CHARS,
    all_items_text,
    compact_result,
    item_brief,
    item_detail,
    item_source,
    member_brief,
    more_text,
    numbered_items,
)
from foundation.text import clean
from policy_kb.facts import fact_model
from understanding.answers import Reprompt, is_unknown, negated, ordinal, parse_choice
from understanding.household_parse import HEAD, parse_description
from understanding.router import Route

FLOW = "household_check"
MAX_FOLLOW_UPS = 3
CHANGES_LISTED = 5  # "多了一项" lines an answer may bring; more, and the result is shown again instead
WORTH_TRYING = 6  # the best-ranked questions whose answers are tried before one is asked
RESULT_FOR = 30 * 60  # seconds the last result answers "怎么办 3" (the session's own lifetime)
READBACK = [Choice("1", "对，帮我算（不保存）"), Choice("2", "对，保存，下次不用再说"), Choice("3", "不对，重新说")]
_DETAIL = re.compile(r"^(怎么办|怎么申请|详细|详情|看看)?\s*第?([0-9一二三四五六七八九十]{1,3})\s*(项|个|条)?$")
_SOURCE = re.compile(r"^(原文|依据|出处)\s*第?([0-9一二三四五六七八九十]{1,3})\s*(项|个|条)?$")
# Common sense too plain to say in a read-back (nobody wonders whether a pupil is a soldier).
_MORE = ("更多", "可以争取的", "还有呢", "其他的")
_ALL = ("全部", "都看看", "全部项目")


def household_check(ctx: Context, text: str, route: Route) -> Outcome:
    """Starts the check; a message that already describes the family fills it in, or else the
    description given a little earlier (asked about something else, or typed into another form)."""
    slots: dict[str, Any] = {}
    kept = ctx.session.recent.pop("description", None)
    for said in ([text] if text else []) + ([kept["text"]] if kept and ctx.services.clock.now() - kept["at"] <= RESULT_FOR else []):
        region = merge_description(slots, ctx, said)
        if region:
            ctx.region = region
        if described(slots):
            break
    reading = route.reading
    if text and reading is not None and reading.people == 1 and len(slots.get("household", {}).get("members") or []) == 1 \
            and ctx.services.understander.is_question(text):
        slots["quick"] = True  # "姑娘读高职了，有哪样补助": one person asked about is answered at once, nothing kept
    return Outcome(start=Start(FLOW, slots))


# -- the household in the flow's slots --------------------------------------------------------
def household_of(slots: dict) -> Household:
    return parse_household(slots.get("household") or {})


def merge_description(slots: dict, ctx: Context, text: str) -> str | None:
    """Adds what a message says about the household to `slots`; returns the county it names, if
    any. Leaves the slots as they were when the message describes nobody."""
    canonical = ctx.canonical(text)
    described = parse_description(canonical, ctx.region_names, ctx.services.understander.homes, ctx.region)
    if described.empty:
        return None
    # what the family asked about in its own words (住院, 开农家乐): the measures, not the words, are kept
    named = ctx.services.understander.mentioned(canonical, described.region or ctx.region)
    slots["mentioned"] = list(dict.fromkeys([*slots.get("mentioned", []), *named]))
    data = slots.setdefault("household", {})
    data.update({k: sorted(v) if isinstance(v, frozenset) else v for k, v in described.household.items()})
    members = data.setdefault("members", [])
    earlier = list(members)  # a later message corrects these; the people of one message are all new
    people = described.members or ([{"relation": HEAD}] if described.household and not members else [])
    for member in people:  # ("鹤庆 监测户 房子震裂了": the household is said of, nobody named: its head is there)
        same = _same_person(earlier, member)
        if same is not None:
            same.update(member)
            earlier.remove(same)
        else:
            members.append(dict(member))
    if described.size:
        slots["size"] = described.size
    if not members:
        del data["members"]
    return described.region


def _same_person(members: list[dict], member: dict) -> dict | None:
    """A correction names someone already there ("女儿是三年级"): the head or spouse; or of several
    of that relation, the one whose school or age it corrects; else it is someone new."""
    relation = member.get("relation")
    alike = [m for m in members if m.get("relation") == relation]
    if not alike:
        return None
    if relation in ("户主", "配偶"):
        return alike[0]
    for key in ("school_stage", "age", "name"):
        if key in member:
            same = [m for m in alike if m.get(key) == member[key]]
            if len(same) == 1:
                return same[0]
    if len(alike) == 1:
        return alike[0]
    return None


def described(slots: dict) -> bool:
    return bool((slots.get("household") or {}).get("members"))


# -- describing and reading back --------------------------------------------------------------------
def describe_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    slots = state.slots
    if described(slots):
        return ActionResult([])
    if text is None and "household" not in slots:
        saved = ctx.store.load_profile(ctx.channel, ctx.user)
        if saved and saved.get("household", {}).get("members"):
            slots["household"] = saved["household"]
            slots["saved"] = True
            return ActionResult([])
    question = Reply(ctx.texts["describe_household"])
    if text is None:
        return ActionResult([question], asking=True)
    region = merge_description(slots, ctx, text)
    if region:
        ctx.region = region
    if described(slots):
        return ActionResult([])
    state.retries += 1
    tail = "\n如果不好回答，可以回复“菜单”看看我能做什么，或回复“取消”结束。" if state.retries >= 3 else ""
    return ActionResult([Reply(f"{ctx.texts['describe_again']}\n{question.text}{tail}")], asking=True)


def confirm_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    """The read-back with the consent choice in it; a message that adds or corrects something is
    merged and read back again."""
    slots = state.slots
    if text is None and slots.pop("quick", False):
        slots["consent"] = bool(slots.get("saved"))
        return ActionResult([])  # the result's line for the person shows what was understood
    if text is None:
        return ActionResult([readback(ctx, slots)], asking=True)
    try:
        chosen = parse_choice(text, READBACK)
    except Reprompt as exc:
        if ordinal(text).isdigit():
            return ActionResult([Reply(str(exc)), readback(ctx, slots)], asking=True)
        chosen = None
    if chosen is None:
        words = clean(text)
        if re.search(r"(不|别|唔|冇)(要)?保存|只这次|这次用", words):
            chosen = 0
        elif "保存" in words and not negated(words):
            chosen = 1
        elif words in ("对", "对的", "是", "是的", "没错", "对头", "嗯", "好", "好的", "可以", "行", "算", "帮我算", "要得", "系"):
            chosen = 0
        elif words.startswith(("不对", "错了", "不是", "唔系", "唔啱")) and len(words) <= 4:
            chosen = 2
    if chosen is None:
        before = len((slots.get("household") or {}).get("members") or [])
        region = merge_description(slots, ctx, text)
        if region:
            ctx.region = region
        after = len((slots.get("household") or {}).get("members") or [])
        changed = region or after != before or not parse_description(ctx.canonical(text), ctx.region_names).empty
        if changed:
            state.retries = 0
            return ActionResult([Reply(ctx.texts["readback_added"]), readback(ctx, slots)], asking=True)
        state.retries += 1
        tail = "\n" + ctx.texts["stuck"] if state.retries >= 2 else ""
        return ActionResult([Reply(ctx.texts["readback_again"] + tail), readback(ctx, slots)], asking=True)
    if chosen == 2:
        slots.pop("household", None)
        slots.pop("size", None)
        return ActionResult([], goto="describe")
    slots["consent"] = chosen == 1 or bool(slots.get("saved"))
    if chosen == 1:
        ctx.store.set_consent(ctx.channel, ctx.user, True)
    return ActionResult([])


def readback(ctx: Context, slots: dict) -> Reply:
    """"我记下的是（4口人，监测户）：" and one short line per member, what common sense adds in
    brackets, then the three choices."""
    household = ctx.engine.complete(household_of(slots), ctx.region, ctx.today)
    facts = fact_model()
    told = [(facts.household[k], v) for k, v in household.facts.items()
            if k in facts.household and household.said(None, k)]
    statuses = [spec.say or spec.label for spec, v in told if v is True]
    statuses += [spec.phrase(v) for spec, v in told if spec.type == "enum"]  # "住房危房": said, so shown and correctable
    size = slots.get("size")
    head = "、".join([*( [f"{size}口人"] if size else []), *statuses])
    lines = [f"我记下的是{f'（{head}）' if head else ''}："]
    lines += [f"{i + 1}. {member_brief(household, i)}" for i in range(len(household.members or []))]
    if size and size > len(household.members or []):
        lines.append(ctx.texts["readback_fewer"].format(size=size, known=len(household.members or [])))
    sense = ctx.engine.common_sense(household, ctx.region, ctx.today)
    if sense:
        lines.append(f"按常理：{'；'.join(sense)}。")
    lines.append("对吗？不对的地方直接说，比如“儿子是初二”。")
    return Reply("\n".join(lines), list(READBACK))


# -- the answer and the follow-ups -------------------------------------------------------------------
def answer_household(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    """The first result at once, then up to three questions; each answer says what changed."""
    slots, sub = state.slots, state.sub
    household = household_of(slots)
    if text is None and sub.get("asking"):  # asked again (after a question in between, or 返回)
        return ActionResult([_question(ctx, household, sub["asking"])], asking=True)
    if text is None:
        result = ctx.engine.evaluate(household, ctx.region, ctx.today)
        _remember(ctx, slots)
        first = compact_result(result, ctx.view().parameters, mentioned=frozenset(slots.get("mentioned", ())))
        hint = _not_monitored(ctx, household, slots)
        if hint and len(first) + len(hint) + 1 <= PHONE_CHARS:
            first, hint = f"{first}\n{hint}", ""
        replies = ctx.pack([first]) + ([Reply(hint)] if hint else [])
        return _next_question(ctx, state, result, replies)
    asking = sub.get("asking")
    answers_question = asking is not None and ordinal(text).isdigit() and 1 <= int(ordinal(text)) <= len(asking["choices"])
    detail = None if answers_question else result_request(ctx, text)
    if detail is not None:
        again = [_question(ctx, household, asking)] if asking else []
        return ActionResult(detail + again, asking=True)
    if not asking:
        return ActionResult([], end=True, reroute=True)
    before = ctx.engine.evaluate(household, ctx.region, ctx.today)
    spec = fact_model().get(asking["path"])
    assert spec is not None
    if is_unknown(text) or clean(text) in ("跳过", "下一个"):
        slots.setdefault("skipped", []).extend([m, asking["path"]] for m in asking["members"])
        return _next_question(ctx, state, before, [Reply(ctx.texts["follow_up_skipped"])])
    choices = [Choice(**c) for c in asking["choices"]]
    try:
        value = read_fact(spec, text, choices, ctx)
    except (Reprompt, ValueError):
        sub["retries"] = sub.get("retries", 0) + 1
        if sub["retries"] >= 2:
            return ActionResult([], end=True, reroute=True)
        return ActionResult([Reply(ctx.texts["follow_up_again"]), _question(ctx, household, asking)], asking=True)
    for member in asking["members"]:
        _set_fact(household, member, asking["path"], value)
    slots["household"] = household.to_mapping()
    after = ctx.engine.evaluate(household, ctx.region, ctx.today)
    _remember(ctx, slots)
    changed = changes(before, after)
    if changed.count("\n") >= CHANGES_LISTED:  # an answer that opens a whole list (是监测户): the result again, phone-sized
        first = compact_result(after, ctx.view().parameters, mentioned=frozenset(slots.get("mentioned", ())))
        return _next_question(ctx, state, after, ctx.pack([first]))
    return _next_question(ctx, state, after, [Reply(changed)])


def _not_monitored(ctx: Context, household: Household, slots: dict) -> str:
    """A household said not to be under monitoring: most help needs it first, so say how to get in,
    and, with an income told, where it stands against the line."""
    if household.facts.get("monitored") is not False or (None, "monitored") in household.derived:
        return ""
    per_head = household.facts.get("income_per_head")
    lines = income_against_line(ctx, "", per_head, slots.get("size"))[:2] if per_head is not None else []
    return "\n".join([*lines, ctx.texts["not_monitored"]])


def _next_question(ctx: Context, state: FlowState, result: Result, replies: list[Reply]) -> ActionResult:
    slots, sub = state.slots, state.sub
    sub.pop("retries", None)
    asked = sub.get("asked", 0)
    worth = None if asked >= MAX_FOLLOW_UPS else next(
        (p for p in follow_ups(ctx, result, slots)[:WORTH_TRYING] if _can_change(ctx, result, *p)), None)
    if worth is None:
        sub.pop("asking", None)
        _finish(ctx, slots, result)
        return ActionResult(replies + [Reply(ctx.texts["check_done"])], end=True)
    members, path = worth
    if len(members) > 1:  # only those whose answer can matter ("想出去找工作吗" is not asked of a 70-year-old with 一级残疾)
        members = [m for m in members if _can_change(ctx, result, [m], path)] or members
    spec = fact_model().get(path)
    assert spec is not None
    choices = fact_choices(spec)
    sub["asked"] = asked + 1
    sub["asking"] = {"members": members, "path": path, "choices": [{"key": c.key, "label": c.label} for c in choices]}
    return ActionResult(replies + [_question(ctx, result.household, sub["asking"])], asking=True)


def _can_change(ctx: Context, result: Result, members: list[int | None], path: str) -> bool:
    """Whether some answer to the question would change the result: each choice is tried on a
    copy of the household, so no question is asked whose every answer leaves it as it is (what a
    78-year-old does for a living, once no measure left turns on it)."""
    spec = fact_model().get(path)
    assert spec is not None
    before = _items(result)
    choices = fact_choices(spec)
    for choice in choices:
        try:
            value = read_fact(spec, choice.key, choices, ctx)
        except (Reprompt, ValueError):
            continue
        trial = parse_household(result.household.to_mapping())
        for member in members:
            _set_fact(trial, member, path, value)
        if _items(ctx.engine.evaluate(trial, ctx.region, ctx.today)) != before:
            return True
    return False


def _items(result: Result) -> set[tuple[str, int | None, str]]:
    return {(e.measure.id, e.member, item_brief(e)) for e in result.entitlements}


def follow_ups(ctx: Context, result: Result, slots: dict) -> list[tuple[list[int | None], str]]:
    """Questions worth asking, best first: each the first open fact of an undecided measure for
    that member (later ones only matter once it holds), answerable with one digit, not skipped
    yet; one question for every member it is open for ("家里人买的是哪种医保？"); ranked by ★
    before ●, money at stake, and how many members and measures it decides."""
    model = fact_model()
    skipped = {tuple(s) for s in slots.get("skipped", [])}
    parameters = ctx.view().parameters
    scores: dict[str, float] = {}
    members: dict[str, list[int | None]] = {}
    for u in result.undecided:
        missing = [m for m in u.missing if m[1] != "household.members" and not m[1].startswith("param:")]
        if not missing:
            continue
        member, path = missing[0]
        spec = model.get(path)
        if spec is None or spec.type not in ("bool", "enum") or len(spec.values) > 9 or spec.judged_by or (member, path) in skipped:
            continue
        weight = 1000.0 if u.measure.mandatory else 600.0 if u.measure.mandatory is None else 200.0
        scores[path] = scores.get(path, 0.0) + weight + min(_money(u.measure, parameters), 5000) / 10
        if member not in members.setdefault(path, []):
            members[path].append(member)
    return [(members[path], path) for path in sorted(scores, key=lambda k: -scores[k])]


def _money(measure, parameters: dict) -> float:
    values = [float(p.values[-1].value) for line in measure.amounts if (p := parameters.get(line.parameter)) is not None
              and p.unit.startswith("元") and p.values and p.values[-1].value]
    return max(values, default=0.0)


def _question(ctx: Context, household: Household, asking: dict) -> Reply:
    """One question; for several members at once, about all of them ("家里这几位…")."""
    spec = fact_model().get(asking["path"])
    assert spec is not None
    members = [m for m in asking["members"] if m is not None]
    choices = [Choice(**c) for c in asking["choices"]]
    if len(members) > 1:
        who = "、".join(member_brief(household, m) for m in members)
        text = f"{spec.ask.replace('这位', '他们')}（{who}；都一样就回复一个数字）"
    else:
        text = fact_question(spec, member_brief(household, members[0]) if members else "", choices).text.split("\n")[0]
    return Reply(f"{text}\n不清楚回复“不知道”或“跳过”。", choices)


def changes(before: Result, after: Result) -> str:
    """Only what the answer changed: "多了一项：…", "这项不符合：…", or that nothing did."""
    def keyed(result: Result) -> dict[tuple[str, int | None], Any]:
        return {(e.measure.id, e.member): e for e in result.entitlements}

    old, new = keyed(before), keyed(after)
    lines = []
    for key, e in new.items():
        if key not in old:
            who = f"{e.member_label}：" if e.member_label else ""
            lines.append(f"多了一项：{who}{e.measure.mark}{item_brief(e)}")
        elif item_brief(e) != item_brief(old[key]):
            lines.append(f"金额变了：{item_brief(e)}")
    for key, e in old.items():
        if key not in new:
            who = f"{e.member_label}：" if e.member_label else ""
            lines.append(f"这项不符合：{who}{e.measure.title}")
    return "\n".join(lines) if lines else "这一项不影响结果。"


def _set_fact(household: Household, member: int | None, path: str, value: Any) -> None:
    name = path.split(".", 1)[1]
    if member is None:
        household.facts[name] = value
    else:
        (household.members or [])[member][name] = value


def _remember(ctx: Context, slots: dict) -> None:
    """The last result's household, for "怎么办 3" after the check (kept with the session, which
    ends after 30 minutes of silence)."""
    ctx.session.recent["result"] = {"household": slots.get("household"), "region": ctx.region, "at": ctx.services.clock.now()}


def _finish(ctx: Context, slots: dict, result: Result) -> None:
    if slots.get("consent"):
        ctx.store.save_profile(ctx.channel, ctx.user, {"household": slots.get("household")})


# -- the last result on request ----------------------------------------------------------------------
def result_request(ctx: Context, text: str) -> list[Reply] | None:
    """"怎么办 3", "3", "原文 3", "更多", "全部" about the last result; None for anything else."""
    recent = ctx.session.recent.get("result")
    if not recent or ctx.services.clock.now() - recent.get("at", 0) > RESULT_FOR:
        return None
    words = clean(text)
    detail, source = _DETAIL.match(words), _SOURCE.match(words)
    if not (detail or source or words in _MORE or words in _ALL):
        return None
    household = parse_household(recent.get("household") or {})
    result = ctx.engine.evaluate(household, recent.get("region") or ctx.region, ctx.today)
    if words in _MORE:
        return [Reply(more_text(result))]
    if words in _ALL:
        return ctx.pack([all_items_text(result)])
    firm, optional = numbered_items(result)
    items = [*firm, *optional]
    number = int(ordinal((detail or source).group(2)))  # type: ignore[union-attr]
    if not 1 <= number <= len(items):
        return [Reply(ctx.texts["no_such_item"].format(count=len(items)))]
    item = items[number - 1]
    return [Reply(item_source(item.e, number, ctx.kb.sources) if source else item_detail(item, number, ctx.kb.sources))]


def last_result(ctx: Context, text: str) -> Outcome | None:
    """The reader: the last result's items on request, after the check has ended."""
    replies = result_request(ctx, text)
    return Outcome(replies) if replies is not None else None


SKILL = Skill(
    name="household_check",
    flows=(Path(__file__).with_name("household_check.yaml"),),
    hooks=Hooks(actions={"describe_household": describe_household, "confirm_household": confirm_household,
                         "answer_household": answer_household}),
    intents={"household_check": household_check},
    readers=(last_result,),
)
