"""One-shot questions: about a measure ("娃读初中住校补多少"), a topic (the monitoring line, a
procedure, a document's validity) or something a sentence of the documents answers.

The answer comes first. For a measure:
- the facts the question stated are never asked again, and a fact that does not change the answer
  is never asked (雨露计划 is 1,500 元 for 中职 and 高职 alike);
- a question that names one of the measure's amount lines gets that line;
- when the stated facts already decide the measure, the answer says so (符合 / 不符合, and the
  requirement that fails: "特困人员除外");
- when a deciding fact is missing and the variants fit in a few lines, all of them are listed
  ("省外最高400元 / 县外省内最高200元 / 市内县外最高100元 / 县内没有") and one digit narrows it;
  only when they would not fit is the fact asked first.
The narrowing question is a flow (policy_question.yaml) that lets go of any reply that is not an
answer to it: that message is understood afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conversation.asking import fact_choices, fact_question, offered_values, plain, read_fact
from conversation.context import Context
from conversation.messages import Choice, Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from eligibility.engine import Variant, expiry_warning, format_number
from eligibility.explain import bounds, conditions, requirement, verdict
from eligibility.household import Household
from eligibility.report import amount_text, citation, kind_label
from foundation.text import clean
from policy_kb.facts import FactSpec, fact_model
from policy_kb.loader import squeeze
from policy_kb.model import DerivedRule, Measure
from policy_kb.topics import month_text, render_topic
from understanding.answers import Reprompt, is_unknown
from understanding.focus import named_lines
from understanding.numerals import to_digits
from understanding.router import PASSAGE_OK, Route

FLOW = "policy_question"
MAX_VARIANTS = 8  # more amount lines than this: ask the deciding fact first
MAX_CHARS = 600  # a phone screen
MAX_OPEN = 4  # requirements listed for an undecided measure


@dataclass(slots=True)
class Composed:
    lines: list[tuple[int, str]]  # (priority: lower is dropped last, text)
    ask: FactSpec | None = None
    choices: list[Choice] = field(default_factory=list)

    def text(self, limit: int = MAX_CHARS) -> str:
        kept = list(self.lines)
        while len("\n".join(t for _, t in kept)) > limit and any(p > 1 for p, _ in kept):
            worst = max(p for p, _ in kept)
            index = max(i for i, (p, _) in enumerate(kept) if p == worst)
            kept.pop(index)
        return "\n".join(t for _, t in kept)


# -- intents ---------------------------------------------------------------------------------
def measure_question(ctx: Context, text: str, route: Route) -> Outcome:
    """The answer to a question about one measure, then (if a digit would narrow it) the question."""
    measure = ctx.view().measure(route.name)
    if measure is None:
        return Outcome([Reply(ctx.texts["out_of_scope"])])
    reading = route.reading
    household = plain(reading.entities.household) if reading else {}
    member = plain(reading.entities.member) if reading else {}
    canonical = reading.canonical if reading else ""
    composed = compose(ctx, measure, household, member, canonical)
    if reading is not None and reading.procedure:  # a procedure question: the sentence of the text that answers it
        best = next((f for f in reading.passages if f.passage.source == measure.source.source and f.score >= PASSAGE_OK), None)
        if best is not None and squeeze(best.passage.text) not in squeeze(measure.source.quote):
            composed.lines.insert(1, (1, f"文件里写：“{best.passage.text}”"))
    replies = _region_lead(ctx) + [Reply(composed.text())]
    if composed.ask is None:
        return Outcome(replies)
    slots = {"measure": measure.id, "household": household, "member": member, "query": canonical,
             "asking": composed.ask.path, "choices": [{"key": c.key, "label": c.label} for c in composed.choices]}
    return Outcome(replies, Start(FLOW, slots))


def topic_question(ctx: Context, text: str, route: Route) -> Outcome:
    """A topic's answer, cited with the sentence of its document that best answers the question
    (the topic's own sentence when none of its document's sentences matches better)."""
    view = ctx.view()
    topic = view.topic(route.name)
    if topic is None:
        return Outcome([Reply(ctx.texts["out_of_scope"])])
    source = ctx.kb.sources[topic.source.source]
    lines = [topic.title + "：", render_topic(topic, view, ctx.kb, ctx.today), f"依据：{citation(topic.source, ctx.kb.sources)}"]
    said = route.reading.entities.month if route.reading else None
    if topic.with_month and said is not None:  # the question's own month, worked out first
        lines.insert(1, month_text(topic.with_month, said, ctx.today))
    found = route.reading.passages if route.reading else []
    best = next((f for f in found if f.passage.source == topic.source.source and f.score >= PASSAGE_OK), None)
    if best is not None and squeeze(best.passage.text) not in squeeze(topic.source.quote):
        lines.append(f"原文还写：“{best.passage.text}”")
    if source.expired_on(ctx.today):
        lines.append(f"注意：{expiry_warning(source)}")
    return Outcome(_region_lead(ctx) + [Reply(_fit("\n".join(lines)))])


def passage_question(ctx: Context, text: str, route: Route) -> Outcome:
    """A sentence of a document, quoted with the document and its date (and its expiry, if over)."""
    found = route.reading.passages if route.reading else []
    if not found:
        return Outcome([Reply(ctx.texts["out_of_scope"])])
    best = found[0]
    shown = [best] + [f for f in found[1:2] if f.passage.source == best.passage.source and f.score >= 0.8 * best.score]
    source = ctx.kb.sources[best.passage.source]
    number = f"（{source.number}）" if source.number else ""
    date = f"，{source.date_label}" if source.date_label else ""
    section = f"，{best.passage.section}" if best.passage.section else ""
    quoted = [f.passage.text for f in shown]
    if best.after is not None and best.after.text not in quoted and len(best.passage.text) + len(best.after.text) <= 240:
        quoted.insert(1, best.after.text)
    lines = [ctx.texts["passage_lead"]] + [f"“{q}”" for q in quoted]
    lines.append(f"——《{source.title}》{number}{date}{section}")
    if source.expired_on(ctx.today):
        lines.append(f"注意：{expiry_warning(source)}")
    lines.append(ctx.texts["passage_tail"])
    return Outcome(_region_lead(ctx) + [Reply(_fit("\n".join(lines)))])


def ask_policy(ctx: Context, text: str, route: Route) -> Outcome:
    return Outcome([Reply(ctx.texts["ask_policy"])])


# -- the narrowing question ------------------------------------------------------------------
def narrow(ctx: Context, state: FlowState, text: str | None) -> ActionResult:
    """Asks the fact that narrows the answer; an answer gives the narrowed answer, anything else is
    understood afresh (a new question, 好的, 谢谢)."""
    slots = state.slots
    spec = fact_model().get(slots["asking"])
    measure = ctx.view().measure(slots["measure"])
    assert spec is not None
    choices = [Choice(**c) for c in slots.get("choices", [])]
    if measure is None:
        return ActionResult([], end=True)
    if text is None:
        return ActionResult([_narrow_question(spec, choices)], asking=True)
    if is_unknown(text):
        return ActionResult([Reply(ctx.texts["narrow_unknown"])], end=True)
    try:
        value = read_fact(spec, text, choices, ctx)
    except (Reprompt, ValueError) as exc:
        if to_digits(clean(text)).isdigit():  # a number that is not one of the choices: ask again
            return ActionResult([Reply(f"{exc}"), _narrow_question(spec, choices)], asking=True)
        return ActionResult([], end=True, reroute=True)
    facts = slots["member"] if spec.scope == "member" else slots["household"]
    facts[spec.name] = value
    composed = compose(ctx, measure, slots["household"], slots["member"], slots.get("query", ""))
    reply = Reply(composed.text())
    if composed.ask is None:
        return ActionResult([reply], end=True)
    slots["asking"] = composed.ask.path
    slots["choices"] = [{"key": c.key, "label": c.label} for c in composed.choices]
    return ActionResult([reply, _narrow_question(composed.ask, composed.choices)], asking=True)


def _ruled_out_lines(ctx: Context, every: list[Variant], canonical: str, params: dict) -> list[tuple[int, str]]:
    """A line the question names by its figure and its facts rule out, said to be out with why:
    "三年制中专第三年还有1000元吗" → 不享受：全日制中职1000元/生/期（…第三年不享受）."""
    if all(v.holds is not False for v in every):
        return []
    named = named_lines([v.result.label for v in every], canonical, ctx.services.understander.lexicon)
    digits = to_digits(canonical)
    lines = []
    for i, v in enumerate(every):
        if v.holds is not False or not (i in named or v.result.value >= FIGURE_NAMES):
            continue
        if format_number(v.result.value) in digits or f"{v.result.value:g}" in digits:
            why = (v.result.note or (requirement(v.when, params) if v.when is not None else "")).rstrip("。")
            lines.append((1, f"不享受：{v.result.label}{v.result.text}，按您说的情况不符合{f'（{why}）' if why else ''}。"))
    return lines


def _narrow_question(spec: FactSpec, choices: list[Choice]) -> Reply:
    if not choices:
        return fact_question(spec, "", [])
    return Reply(f"想看您这种情况，{spec.ask.rstrip('？?')}？回复数字：", choices)


FIGURE_NAMES = 100  # a figure this big said in a question names the amount line it is (ages and grades are smaller)


# -- composing an answer ---------------------------------------------------------------------
def compose(ctx: Context, measure: Measure, household: dict, member: dict, canonical: str) -> Composed:
    params = ctx.engine.params(ctx.region, ctx.today)
    kb = ctx.kb
    lines: list[tuple[int, str]] = [(1, f"{measure.mark}{measure.title}（{kind_label(measure, kb.sources)}，{ctx.view().region.name}）")]
    h, m = _with_common_sense(ctx, household, member)
    judged = verdict(measure.when, h, m, params)
    ask: FactSpec | None = None
    choices: list[Choice] = []
    shown: list[Variant] = []
    if judged.holds is False:  # the verdict leads: "……——不符合"
        lines[0] = (1, lines[0][1] + "——按您说的情况不符合")
        lines += [(1, line) for line in _failing_lines(measure, h, m, params, household, member, ctx.kb.derived)]
    else:
        said = _stated(measure, household, member)
        if judged.holds is True and said:
            lines.append((1, f"符合：{'、'.join(said)}。"))
        every = ctx.engine.amount_variants(measure, ctx.region, ctx.today, h, m, ruled_out=True)
        lines += _ruled_out_lines(ctx, every, canonical, params)
        variants = [v for v in every if v.holds is not False]
        named = named_lines([v.result.label for v in variants], canonical, ctx.services.understander.lexicon)
        if named:  # the lines the question names, and any other line whose condition the stated facts meet (中专: 雨露计划
            # too) — not a row of a table nobody's facts choose (医院等级), nor a second rate where the highest is given (就高)
            also = measure.pick != "highest"
            variants = [v for i, v in enumerate(variants) if i in named or (also and v.holds is True and v.when is not None)]
        open_ = [v for v in variants if v.holds is None]
        if open_ and len({amount_text(v.result) for v in variants}) == 1:
            open_, variants = [], variants[:1]  # every variant says the same: nothing to narrow
        sure = [v for v in variants if v.holds]
        if open_ and sure and measure.pick == "highest" and max(v.result.value for v in sure) >= max(v.result.value for v in open_):
            best = max(sure, key=lambda v: v.result.value)
            open_, variants = [], [best]  # 就高: nothing undecided could give more
        deciding = _deciding(open_)
        if len(variants) > MAX_VARIANTS and deciding is not None:
            lines.append((1, ctx.texts["amount_depends"].format(what=deciding.label)))
        else:
            shown = variants
            # Lines not yet decided say so: "如果初中寄宿：750元/生/学期"; the one that holds is plain.
            lines += [(1, f"金额：{'如果' if v.holds is None and len(variants) > 1 else ''}{amount_text(v.result)}") for v in variants]
            lines += [(2, f"  说明：{note}") for note in dict.fromkeys(v.result.note for v in variants if v.result.note)]
            uncovered = _uncovered(ctx, measure, deciding, variants, household, member, params) if deciding is not None else []
            lines += [(1, f"如果{deciding.phrase(value)}：没有这项。") for value in uncovered if deciding is not None]
        if deciding is not None and deciding.type in ("enum", "bool"):
            offered = _offered(variants, deciding)
            if offered:
                offered += [v for v in _uncovered(ctx, measure, deciding, variants, household, member, params) if v not in offered]
            ask, choices = deciding, fact_choices(deciding, offered or None)
        for bound in bounds(measure.when, h, m, params):
            if bound.text:
                lines.append((1, bound.text + "。"))
            elif ask is None and bound.ask:
                ask = fact_model().get(bound.ask)
        if judged.holds is None:
            open_reqs = [r for r in judged.open if r][:MAX_OPEN]
            if named and len(variants) == 1 and variants[0].holds is None and variants[0].when is not None:
                open_reqs = [requirement(variants[0].when, params)]  # the named line's own condition
            if open_reqs:
                lines.append((3, f"条件：{'；'.join(open_reqs)}。"))
    if not (shown and any(c.isdigit() for c in measure.gives)):  # its figures would repeat every variant
        lines.append((6, measure.gives))
    lines.append((2, f"怎么办：{measure.how_to_apply}"))
    lines.append((5, f"负责：{'、'.join(measure.responsible)}"))
    if measure.notes:
        lines.append((4, f"说明：{measure.notes}"))
    refs: dict[tuple[str, str], list] = {}
    for v in shown:
        ref = v.result.ref
        if ref is not None and ref.source != measure.source.source and ref not in refs.get((ref.source, ref.section), []):
            refs.setdefault((ref.source, ref.section), []).append(ref)
    for group in refs.values():  # one line per sentence's place, its sentences side by side
        quotes = "".join(f"“{r.quote}”" for r in group)
        lines.append((4, f"金额依据：{citation(group[0], kb.sources, quote=False)}：{quotes}"))
    lines.append((3, f"依据：{citation(measure.source, kb.sources)}"))
    expired = [*ctx.engine.measure_expired(measure, ctx.today), *(s for v in shown for s in v.result.expired)]
    for source in dict.fromkeys(expired):
        lines.append((1, f"注意：{expiry_warning(kb.sources[source])}"))
    if "household.monitored" in measure.when.facts and household.get("monitored") is None:
        lines.append((5, ctx.texts["audience_note"]))
    elif household.get("monitored") is False and _needs_monitoring(measure, household, member, params):
        lines.insert(1, (1, ctx.texts["needs_monitoring"]))  # "我不是监测户能申请吗": that comes first
    if ask is None:
        lines.append((7, ctx.texts["more_detail"]))
    return Composed(lines, ask, choices)


def _needs_monitoring(measure: Measure, household: dict, member: dict, params: dict[str, Any]) -> bool:
    """Whether being under monitoring is what the measure lacks: false without it, not with it."""
    members = [_facts(member)]
    without = measure.when.ev({**_facts(household), "monitored": False}, _facts(member), params, members)
    with_it = measure.when.ev({**_facts(household), "monitored": True}, _facts(member), params, members)
    return without is False and with_it is not False


def _facts(facts: dict) -> dict:
    """Slots hold sets as lists; conditions read them as sets."""
    return {k: frozenset(v) if isinstance(v, list) else v for k, v in facts.items()}


def _stated(measure: Measure, household: dict, member: dict) -> list[str]:
    """The stated facts the measure reads, in words: the "why" names only what was said."""
    model = fact_model()
    out: list[str] = []
    for path in sorted(measure.when.facts):
        scope, name = path.split(".", 1)
        value = (household if scope == "household" else member).get(name)
        spec = model.get(path)
        if value is not None and spec is not None and path != "household.monitored":
            out.append(spec.phrase(value))
    return out


def _with_common_sense(ctx: Context, household: dict, member: dict) -> tuple[dict, dict]:
    """The stated facts and what common sense adds to them ("在县城打工" is not 县外): conditions
    read both, the "why" names only what was said."""
    done = ctx.engine.complete(Household(_facts(household), [_facts(member)]), ctx.region, ctx.today)
    return done.facts, (done.members or [{}])[0]


def _failing_lines(measure: Measure, household: dict, member: dict, params: dict[str, Any], told: dict, told_member: dict,
                   derived: tuple[DerivedRule, ...]) -> list[str]:
    """Why the measure fails, each failing part with what was said of it (from `told`), or what
    was said that common sense read it from (不在县外: 在县内务工)."""
    h = {"monitored": True, **household}
    m = member
    lines = []
    for part in conditions(measure.when):
        if part.ev(h, m, params, [m]) is not False:
            continue
        causes = frozenset().union(*(r.when.facts for r in derived if any(f"{sc}.{n}" in part.facts for sc, n, _ in r.sets)))
        said = _stated_for(part.facts, told, told_member) or _stated_for(causes, told, told_member)
        req = requirement(part, params)
        lead = req if req.endswith("除外") else f"要{req}才能享受"
        lines.append(f"不符合：{lead}（您说的是{'、'.join(said)}），这项享受不了。" if said else f"不符合：{lead}。")
    return lines or ["不符合：按您说的情况，这项享受不了。"]


def _stated_for(paths: frozenset[str], household: dict, member: dict) -> list[str]:
    model = fact_model()
    out = []
    for path in sorted(paths):
        scope, name = path.split(".", 1)
        value = (household if scope == "household" else member).get(name)
        spec = model.get(path)
        if value is not None and spec is not None:
            out.append(spec.phrase(value))
    return out


def _deciding(open_: list[Variant]) -> FactSpec | None:
    """The first fact an undecided line waits for that the user can answer (not a figure the text
    does not publish)."""
    model = fact_model()
    for variant in open_:
        for path in variant.deciding:
            spec = model.get(path)
            if spec is not None:
                return spec
    return None


def _offered(variants: list[Variant], spec: FactSpec) -> list[str]:
    if spec.type != "enum":
        return []
    values: list[str] = []
    for v in variants:
        for value in offered_values(v.when, spec.path):
            if value in spec.values and value not in values:
                values.append(value)
    return values


def _uncovered(ctx: Context, measure: Measure, spec: FactSpec, variants: list[Variant], household: dict, member: dict,
               params: dict[str, Any]) -> list[str]:
    """Values of the deciding fact no line covers and the measure rules out (县内 for the transport
    subsidy), when they are few: listed ("在县内：没有这项") and offered, the variants say it all."""
    if spec.type != "enum":
        return []
    offered = set(_offered(variants, spec))
    out = []
    for value in spec.values:
        if value in offered:
            continue
        facts = dict(member if spec.scope == "member" else household)
        facts[spec.name] = value
        h, m = _with_common_sense(ctx, {"monitored": True, **(household if spec.scope == "member" else facts)},
                                  facts if spec.scope == "member" else member)
        if measure.when.ev(h, m, params, [m]) is False:
            out.append(value)
    return out if len(out) <= 2 else []


def _region_lead(ctx: Context) -> list[Reply]:
    if ctx.region == ctx.services.default_region:
        return []
    return [Reply(ctx.texts["region_note"].format(region=ctx.view().region.name))]


def _fit(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1] + "…"


SKILL = Skill(
    name="policy_question",
    flows=(Path(__file__).with_name("policy_question.yaml"),),
    hooks=Hooks(actions={"narrow": narrow}),
    intents={"measure_question": measure_question, "topic_question": topic_question, "passage_question": passage_question,
             "ask_policy": ask_policy},
)
