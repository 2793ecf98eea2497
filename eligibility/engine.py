"""The eligibility engine: a household's facts in, its entitlements out, as of a date.

For each (region, date) the engine resolves every parameter once into a plain dict and keeps
it ("a plan"); evaluating a household is then only the compiled condition closures. Results
say, per measure and member, what is given and why; measures that cannot be decided yet come
back as `Undecided` with the facts that would decide them.

Three rules keep a result honest to the texts:
- a reason names only facts that decided the measure and were given (or follow from given
  ones by common sense): never a default, never an exclusion that happens not to apply;
- an amount carries its own reference, date and warnings (博罗县's 100% cites 博罗's sentence
  and expires with 博罗's plan, whatever the measure it belongs to);
- the date is always passed in: the engine has no clock of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from eligibility.household import PARENTS, Household, parents_of
from policy_kb.conditions import UNPUBLISHED, All, Evaluator, Leaf, Missing, Node, Not, unique_missing
from policy_kb.facts import fact_model
from policy_kb.model import PERIODS, AmountLine, DerivedRule, KnowledgeBase, Measure, Parameter, ParamValue, Ref, Region, Source

NOT_AT_SCHOOL = "不在读"
AUDIENCE = frozenset({"household.monitored"})  # every base measure's audience: no reason worth repeating per line


def format_number(value: float) -> str:
    """750.0 -> 750, 312.5 -> 312.5, 100000 -> 10万."""
    if value >= 10000 and value % 1000 == 0:
        return f"{value / 10000:g}万"
    return f"{value:g}"


def format_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def expiry_warning(source: Source) -> str:
    return f"《{source.title}》有效期到{format_date(source.valid_to)}，已经过期，请向当地部门确认现行政策。" if source.valid_to else ""


@dataclass(frozen=True, slots=True)
class Variant:
    """One amount line for a question: whether the stated facts make it apply (None: not yet known),
    and the facts that would decide it."""

    result: AmountResult
    holds: bool | None
    deciding: tuple[str, ...]
    when: Node | None


@dataclass(frozen=True, slots=True)
class AmountResult:
    label: str
    parameter: str
    value: float
    unit: str
    period: str
    kind: str
    ref: Ref | None
    since: dt.date
    date_text: str = ""  # "2024年春季起": the text's own words for when this figure took effect
    note: str = ""  # a caveat about this amount only
    expired: tuple[str, ...] = ()  # ids of sources of this figure whose validity has ended

    @property
    def per_year(self) -> float | None:
        """Money per year, for amounts paid per term, month or year (not caps, not one-offs)."""
        times = PERIODS[self.period]
        if self.kind != "amount" or times is None or not self.unit.startswith("元"):
            return None
        return self.value * times

    @property
    def text(self) -> str:
        number = format_number(self.value) + self.unit
        if self.kind == "cap":
            return f"最高{number}"
        if self.kind == "floor":
            return f"最低{number}"
        return number


_LIMITS = ("lt", "le")  # upper limits: too old, too long a loan (a child too young for a pension goes without saying)


def _the_one_limit(measure: Measure, household: Household, index: int, params: dict) -> Node | None:
    """The one part of a measure's condition that a member's stated facts break when every other
    part holds: an exclusion the text names (特困人员除外), or for a measure with money an age or
    sum limit or "not at school" (在校生除外)."""
    if not isinstance(measure.when, All):
        return None
    h, ms = household.facts, household.members or []
    member = ms[index]
    broken, open_parts, told = None, False, False
    for part in measure.when.children:
        value = part.ev(h, member, params, ms)
        if value is None and part.facts <= AUDIENCE:
            continue  # not yet told whether monitored: the limit keeps it from them either way
        if value is None:
            open_parts = True
            continue
        if value is True:
            told = told or any(household.said(None if p.startswith("household.") else index, p.split(".", 1)[1])
                               for p in part.facts - AUDIENCE)
        if value is False:
            if broken is not None:
                return None
            broken = part
    if open_parts and not (told and isinstance(broken, Leaf) and broken.op in _LIMITS):
        return None  # other parts open: a limit is said only for what the family asked about ("想贷5年")
    if broken is None or not (isinstance(broken, Not) or measure.amounts and isinstance(broken, Leaf) and (
            broken.op in _LIMITS or broken.op == "eq" and broken.operand == NOT_AT_SCHOOL)):
        return None  # an exclusion the text names; a limit only where there is money at stake
    stated = all(p.startswith("member.") and household.given(index, p.split(".", 1)[1]) for p in broken.facts)
    return broken if stated else None


def _told(household: Household, derived: tuple[DerivedRule, ...], who: int | None, path: str, depth: int = 3) -> list[tuple[int | None, str]]:
    """A reason as what was said: a derived fact (在县外) stands for the stated facts it follows
    from (在省外务工), so the "why" names only what was told."""
    scope, name = path.split(".", 1)
    if (who if scope == "member" else None, name) not in household.derived or depth == 0:
        return [(who, path)]
    out: list[tuple[int | None, str]] = []
    for rule in derived:
        if any(sc == scope and n == name for sc, n, _ in rule.sets):
            for cause in sorted(rule.when.facts - {"member.relation"}):  # whom a rule is about is no reason
                cause_scope, cause_name = cause.split(".", 1)
                if cause_scope == "member" and who is None:
                    continue  # "家里有人…": which member is not known here, the household fact stands
                facts = household.facts if cause_scope == "household" else (household.members or [{}])[who]
                if facts.get(cause_name) is not None:
                    out += _told(household, derived, who if cause_scope == "member" else None, cause, depth - 1)
    return out or [(who, path)]


@dataclass(slots=True)
class Entitlement:
    measure: Measure
    member: int | None
    household: Household
    amounts: list[AmountResult]
    plan: _Plan
    expired: tuple[str, ...]  # sources (the measure's or an amount's) whose validity has ended
    measure_ended: bool = False  # the measure's own valid_to has passed
    amount_missing: list[Missing] = field(default_factory=list)

    @property
    def member_label(self) -> str:
        return self.household.member_label(self.member) if self.member is not None else ""

    @property
    def ruled_out(self) -> list[str]:
        """The notes of amount lines of this measure that the stated facts rule out although the first
        part of their condition, which says whom the line is for, holds ("全日制中职：……第三年不享受"
        for a third-year 中职 student, not for a 高中 one): why a figure the family may expect is not
        among the amounts."""
        h, ms = self.household.facts, self.household.members
        member = ms[self.member] if self.member is not None and ms else None
        out = []
        for line in self.measure.amounts:
            if not line.note or line.when is None or line.when.ev(h, member, self.plan.params, ms) is not False:
                continue
            parts = line.when.children if isinstance(line.when, All) else [line.when]
            if len(parts) > 1 and parts[0].ev(h, member, self.plan.params, ms) is True:
                out.append(f"{line.label}：{line.note}")
        return out

    @property
    def reasons(self) -> list[tuple[int | None, str]]:
        """The given facts that made the measure apply, in the order the condition names them."""
        h, ms = self.household.facts, self.household.members
        member = ms[self.member] if self.member is not None and ms else None
        found: list[tuple[int | None, str]] = []
        self.measure.when.reasons(h, member, self.plan.params, ms, self.member, found)
        stated: list[tuple[int | None, str]] = []
        for who, path in found:
            stated += _told(self.household, self.plan.derived, who, path)
        return [r for r in unique_missing(stated) if r[1] not in AUDIENCE]

    @property
    def why(self) -> str:
        """The reasons in words: "72岁、持残疾证" (rendered on demand: most results are counted, few shown)."""
        return reason_text(self.household, self.reasons, self.member)

    @property
    def warnings(self) -> tuple[str, ...]:
        texts = [expiry_warning(self.plan.kb.sources[s]) for s in self.expired]
        if self.measure_ended and self.measure.valid_to:
            texts.append(f"这项措施适用到{format_date(self.measure.valid_to)}，已经过期，请向当地部门确认是否延续。")
        return tuple(f"注意：{t}" for t in texts)

    @property
    def per_year(self) -> float | None:
        values = [a.per_year for a in self.amounts if a.per_year is not None]
        return sum(values) if values else None


@dataclass(slots=True)
class Undecided:
    measure: Measure
    member: int | None
    household: Household
    params: dict

    @property
    def member_label(self) -> str:
        return self.household.member_label(self.member) if self.member is not None else ""

    @property
    def missing(self) -> list[Missing]:
        """The facts (or unpublished figures, "param:…") that would decide this measure."""
        members = self.household.members
        if members is None and self.measure.target == "member":
            return [(None, "household.members")]
        member = members[self.member] if self.member is not None and members else None
        found: list[Missing] = []
        self.measure.when.missing(self.household.facts, member, self.params, members, self.member, found)
        return unique_missing(found)

    @property
    def support(self) -> list[tuple[int | None, str]]:
        """Given facts that already argue for the measure: non-empty means it is "差一点"."""
        members = self.household.members
        member = members[self.member] if self.member is not None and members else None
        found: list[tuple[int | None, str]] = []
        self.measure.when.support(self.household.facts, member, self.params, members, self.member, found)
        return [r for r in unique_missing(found) if r[1] not in AUDIENCE]

    @property
    def judged_by(self) -> list[str]:
        """Offices whose judgement decides this measure (民政部门认定…), from the missing facts."""
        model = fact_model()
        offices = [spec.judged_by for _, path in self.missing if (spec := model.get(path)) and spec.judged_by]
        return list(dict.fromkeys(offices))


@dataclass(slots=True)
class Excluded:
    """A measure with money that one stated limit keeps from a member (养老保险全额资助 for a
    62-year-old, for a student): said in the result, so that nobody expects it."""

    measure: Measure
    member: int
    household: Household
    part: Node  # the one part of the condition the member's stated facts break
    params: dict

    @property
    def member_label(self) -> str:
        return self.household.member_label(self.member)


@dataclass(slots=True)
class Result:
    region: Region
    date: dt.date
    household: Household
    entitlements: list[Entitlement]
    undecided: list[Undecided]
    sources: dict[str, Source]
    excluded: list[Excluded] = field(default_factory=list)

    @property
    def deciding_facts(self) -> list[Missing]:
        """Facts still needed, ★ measures' first, in the order conditions name them. Judgements
        an office makes and figures no text publishes are not facts anyone can be asked."""
        model = fact_model()
        ordered = sorted(self.undecided, key=lambda u: u.measure.rank)
        items = [m for u in ordered for m in u.missing]
        items += [m for e in self.entitlements for m in e.amount_missing]
        return [m for m in unique_missing(items) if askable(m, model)]

    @property
    def per_year_total(self) -> float:
        return sum(e.per_year or 0 for e in self.entitlements)


def askable(item: Missing, model=None) -> bool:
    path = item[1]
    if path.startswith("param:") or path == "household.members":
        return path == "household.members"
    spec = (model or fact_model()).get(path)
    return spec is not None and not spec.judged_by


@dataclass(slots=True)
class _AmountPlan:
    line: AmountLine
    parameter: Parameter
    value: ParamValue
    result: AmountResult  # built once per plan: amounts are the same for everyone


@dataclass(slots=True)
class _MeasurePlan:
    measure: Measure
    ev: Evaluator
    amounts: list[_AmountPlan]
    expired: tuple[str, ...]
    measure_ended: bool
    household_ev: Evaluator | None = None  # for member measures: the part that tests household facts only


@dataclass(slots=True)
class _Plan:
    kb: KnowledgeBase
    region: Region
    date: dt.date
    params: dict[str, Any]
    household_measures: list[_MeasurePlan]
    member_measures: list[_MeasurePlan]
    by_id: dict[str, _MeasurePlan]
    derived: tuple[DerivedRule, ...]


class Engine:
    """Evaluates households against one knowledge base; thread-safe after construction."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._plans: dict[tuple[str, dt.date], _Plan] = {}

    def plan(self, region: str | None, on: dt.date) -> _Plan:
        view = self.kb.view(region)
        key = (view.region.id, on)
        cached = self._plans.get(key)
        if cached is not None:
            return cached
        params = {pid: p.value_at(on) for pid, p in view.parameters.items()}
        household_measures: list[_MeasurePlan] = []
        member_measures: list[_MeasurePlan] = []
        for measure in view.measures:
            source = self.kb.sources[measure.source.source]
            if source.not_yet_on(on) or (measure.valid_from and on < measure.valid_from):
                continue
            amounts = []
            for line in measure.amounts:
                parameter = view.parameters[line.parameter]
                value = parameter.at(on)
                if value is not None and value.value is not None:
                    amounts.append(_AmountPlan(line, parameter, value, self._amount_result(line, parameter, value, on)))
            expired = tuple(dict.fromkeys(
                [measure.source.source] * source.expired_on(on)
                + [s for a in amounts for s in a.result.expired]))
            ended = measure.valid_to is not None and on > measure.valid_to and not expired
            planned = _MeasurePlan(measure, measure.when.ev, amounts, expired, ended)
            if measure.target == "member":
                planned.household_ev, planned.ev = split_household_part(measure.when)
                member_measures.append(planned)
            else:
                household_measures.append(planned)
        by_id = {mp.measure.id: mp for mp in household_measures + member_measures}
        plan = _Plan(self.kb, view.region, on, params, household_measures, member_measures, by_id, self.kb.derived)
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def params(self, region: str | None, on: dt.date) -> dict[str, Any]:
        """Every parameter's figure in force in the region on that date (UNPUBLISHED where no text gives it)."""
        return self.plan(region, on).params

    def _amount_result(self, line: AmountLine, parameter: Parameter, value: ParamValue, on: dt.date) -> AmountResult:
        expired = ()
        if value.ref is not None and self.kb.sources[value.ref.source].expired_on(on):
            expired = (value.ref.source,)
        return AmountResult(line.label or parameter.label, parameter.id, value.value or 0.0, parameter.unit, parameter.period,
                            parameter.kind, value.ref, value.start, value.date_text, line.note, expired)

    def measure_expired(self, measure: Measure, on: dt.date) -> tuple[str, ...]:
        """Sources of a measure (its own) whose validity ended by `on`."""
        source = self.kb.sources[measure.source.source]
        return (source.id,) if source.expired_on(on) else ()

    # -- one question --------------------------------------------------------------------
    def amount_variants(self, measure: Measure, region: str | None, on: dt.date, household: dict, member: dict,
                        ruled_out: bool = False) -> list[Variant]:
        """A measure's amount lines that may apply given what a question said: those that do
        (`holds` True) and those that depend on facts not said (`holds` None, with the facts that
        decide them). Lines the stated facts rule out are left out, unless `ruled_out` (a question
        that names one: "三年制中专第三年还有1000元吗")."""
        plan = self.plan(region, on)
        mp = plan.by_id.get(measure.id)
        if mp is None:
            return []
        h = {"monitored": True, **household}
        members = [member]
        variants: list[Variant] = []
        for ap in mp.amounts:
            ok = True if ap.line.when is None else ap.line.when.ev(h, member, plan.params, members)
            if ok is False and not ruled_out:
                continue
            missing: list[Missing] = []
            if ok is None and ap.line.when is not None:
                ap.line.when.missing(h, member, plan.params, members, 0, missing)
            variants.append(Variant(ap.result, ok, tuple(dict.fromkeys(p for _, p in missing)), ap.line.when))
        if measure.pick == "highest" and variants and all(v.holds for v in variants):
            best = _highest([v.result for v in variants])
            variants = [v for v in variants if v.result in best]
        return variants

    # -- a household ---------------------------------------------------------------------
    def complete(self, household: Household, region: str | None, on: dt.date) -> Household:
        """A copy of the household with what common sense adds: derived facts (facts.yaml) and each
        member's parent_disabled where the household tells who the parents are."""
        plan = self.plan(region if region is not None else household.region, on)
        return self._complete(household, plan)

    def common_sense(self, household: Household, region: str | None, on: dt.date) -> list[str]:
        """Why the derived facts of a completed household hold ("不满16周岁的孩子不算劳动力"), each
        once, in the order of facts.yaml: what the read-back says common sense added."""
        plan = self.plan(region if region is not None else household.region, on)
        h, ms, p = household.facts, household.members, plan.params
        whys: list[str] = []
        for rule in plan.derived:
            if rule.quiet:
                continue
            targets = list(enumerate(ms or [])) if rule.member else [(None, None)]
            for index, member in targets:
                if any((index if scope == "member" else None, name) in household.derived for scope, name, _ in rule.sets) \
                        and rule.when.ev(h, member, p, ms) is True and rule.why not in whys:
                    whys.append(rule.why)
        return whys

    @staticmethod
    def _complete(household: Household, plan: _Plan) -> Household:
        done = household.copy()
        h, ms, p = done.facts, done.members, plan.params
        for _ in range(3):  # derivations may feed each other; three rounds reach the fixpoint of facts.yaml
            changed = False
            for rule in plan.derived:
                targets = list(enumerate(ms or [])) if rule.member else [(None, None)]
                for index, member in targets:
                    if rule.when.ev(h, member, p, ms) is not True:
                        continue
                    for scope, name, value in rule.sets:
                        target = h if scope == "household" else member
                        key = (None if scope == "household" else index, name)
                        # what follows from stated facts replaces what nobody said (留守 read from 爸妈都在外地)
                        if target is not None and (target.get(name) is None or key in done.defaulted and target[name] != value):
                            target[name] = value
                            done.defaulted.discard(key)
                            done.derived.add(key)
                            changed = True
            if not changed:
                break
        for index, member in enumerate(ms or []):
            if member.get("parent_disabled") is None:
                parents = parents_of(done, index)
                verdict = _parent_disabled(ms or [], parents)
                if verdict is not None:
                    member["parent_disabled"] = verdict
                    done.derived.add((index, "parent_disabled"))
                if parents is not None and PARENTS not in member:
                    member[PARENTS] = parents
                    done.derived.add((index, PARENTS))
        return done

    def evaluate(self, household: Household, region: str | None, on: dt.date) -> Result:
        plan = self.plan(region if region is not None else household.region, on)
        household = self._complete(household, plan)
        h, ms, p = household.facts, household.members, plan.params
        entitlements: list[Entitlement] = []
        undecided: list[Undecided] = []
        excluded: list[Excluded] = []
        for mp in plan.household_measures:
            outcome = mp.ev(h, None, p, ms)
            if outcome is not False:
                self._record(mp, outcome, household, None, None, plan, entitlements, undecided)
        for mp in plan.member_measures:
            if ms is None:
                undecided.append(Undecided(mp.measure, None, household, p))
                continue
            shared = mp.household_ev(h, None, p, ms) if mp.household_ev else True
            if shared is False:
                continue
            ev = mp.ev
            for index, member in enumerate(ms):
                outcome = ev(h, member, p, ms)
                if outcome is True and shared is None:
                    outcome = None
                if outcome is not False:
                    self._record(mp, outcome, household, index, member, plan, entitlements, undecided)
                elif (part := _the_one_limit(mp.measure, household, index, p)) is not None:
                    excluded.append(Excluded(mp.measure, index, household, part, p))
        entitlements.sort(key=lambda e: (e.measure.rank, e.member if e.member is not None else -1))
        others = {e.measure.id for e in entitlements}
        # said where the family would expect it: another member gets it, it is the county's own, or the
        # text names the exclusion (重度残疾人护理补贴 "特困人员除外")
        excluded = [x for x in excluded if x.measure.id in others or x.measure.region != "base" or isinstance(x.part, Not)]
        return Result(plan.region, on, household, entitlements, undecided, self.kb.sources, excluded)

    @staticmethod
    def _record(mp: _MeasurePlan, outcome: bool | None, household: Household, index: int | None,
                member: dict | None, plan: _Plan, entitlements: list, undecided: list) -> None:
        h, ms, p = household.facts, household.members, plan.params
        if outcome is None:
            undecided.append(Undecided(mp.measure, index, household, p))
            return
        amounts: list[AmountResult] = []
        amount_missing: list[Missing] = []
        for ap in mp.amounts:
            line = ap.line
            if line.when is not None:
                applies = line.when.ev(h, member, p, ms)
                if applies is None:
                    line.when.missing(h, member, p, ms, index, amount_missing)
                if not applies:
                    continue
            amounts.append(ap.result)
        if mp.measure.pick == "highest":
            amounts = _highest(amounts)
        expired = tuple(dict.fromkeys(
            [s for s in mp.expired if s == mp.measure.source.source] + [s for a in amounts for s in a.expired]))
        entitlements.append(Entitlement(mp.measure, index, household, amounts, plan, expired, mp.measure_ended,
                                        unique_missing(amount_missing) if amount_missing else amount_missing))


def _highest(amounts: list[AmountResult]) -> list[AmountResult]:
    """就高不重复: of the lines that apply, the one with the highest figure (the first of equals)."""
    if len(amounts) <= 1:
        return amounts
    best = max(amounts, key=lambda a: a.value)
    return [best]


def _parent_disabled(members: list[dict], parents: tuple[int, ...] | None) -> bool | None:
    if not parents:
        return None
    grades = [members[i].get("disability") for i in parents]
    if any(g not in (None, "无") for g in grades) or any(members[i].get("disability_certificate") is True for i in parents):
        return True  # a grade, or a 残疾证 of a grade not said
    return False if all(g == "无" for g in grades) else None


def split_household_part(when: Node) -> tuple[Evaluator | None, Evaluator]:
    """Split a member condition `all: [...]` into the parts that test household facts only
    (evaluated once per household) and the rest (evaluated per member)."""
    if not isinstance(when, All):
        return None, when.ev
    shared = [c for c in when.children if all(f.startswith("household.") for f in c.facts)]
    if not shared:
        return None, when.ev
    rest = [c for c in when.children if c not in shared]
    return All(shared).ev, (All(rest).ev if rest else (lambda h, m, p, ms: True))


def reason_text(household: Household, reasons: list[tuple[int | None, str]], member: int | None = None) -> str:
    """Reasons in words. A fact about another member is named with that member ("父亲二级残疾")."""
    model = fact_model()
    parts: list[str] = []
    for index, path in reasons:
        spec = model.get(path)
        if spec is None:
            continue
        source = household.facts if index is None else (household.members or [])[index]
        value = source.get(spec.name)
        if value is None:
            continue
        text = spec.phrase(value)
        if index is not None and index != member:
            text = household.member_label(index) + text
        parts.append(text)
    return "、".join(dict.fromkeys(parts))


__all__ = ["AmountResult", "Engine", "Entitlement", "Result", "Undecided", "UNPUBLISHED", "askable", "expiry_warning",
           "format_date", "format_number", "reason_text"]
