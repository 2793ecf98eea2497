"""The eligibility engine: a household's facts in, its entitlements out, as of a date.

For each (region, date) the engine resolves every parameter once into a plain dict and keeps
it ("a plan"); evaluating a household is then only the compiled condition closures. Results
say, per measure and member, what is given and why; measures that cannot be decided yet come
back as `Undecided` with the facts that would decide them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from eligibility.household import Household
from policy_kb.conditions import All, Evaluator, Missing, Node, unique_missing
from policy_kb.model import PERIODS, AmountLine, KnowledgeBase, Measure, Parameter, ParamValue, Ref, Region, Source

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def format_number(value: float) -> str:
    """750.0 -> 750, 312.5 -> 312.5, 100000 -> 10万."""
    if value >= 10000 and value % 1000 == 0:
        return f"{value / 10000:g}万"
    return f"{value:g}"


def format_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


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


@dataclass(slots=True)
class Entitlement:
    measure: Measure
    member: int | None
    household: Household
    amounts: list[AmountResult]
    plan: _Plan
    warnings: tuple[str, ...]
    amount_missing: list[Missing] = field(default_factory=list)

    @property
    def member_label(self) -> str:
        return self.household.member_label(self.member) if self.member is not None else ""

    @property
    def why(self) -> str:
        """Rendered on demand: most results are counted or filtered, few are shown."""
        member = self.household.members[self.member] if self.member is not None and self.household.members else None
        return render_template(self.measure.why, self.household.facts, member, self.member_label, self.plan.params,
                               self.plan.kb, self.plan.region.id)

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
        """The facts that would decide this measure, worked out only when someone asks."""
        members = self.household.members
        if members is None and self.measure.target == "member":
            return [(None, "household.members")]
        member = members[self.member] if self.member is not None and members else None
        found: list[Missing] = []
        self.measure.when.missing(self.household.facts, member, self.params, members, self.member, found)
        return unique_missing(found)


@dataclass(slots=True)
class Result:
    region: Region
    date: dt.date
    entitlements: list[Entitlement]
    undecided: list[Undecided]
    sources: dict[str, Source]

    @property
    def deciding_facts(self) -> list[Missing]:
        """Facts still needed, mandatory measures' first, in the order conditions name them."""
        ordered = sorted(self.undecided, key=lambda u: not u.measure.mandatory)
        items = [m for u in ordered for m in u.missing]
        items += [m for e in self.entitlements for m in e.amount_missing]
        return unique_missing(items)

    @property
    def per_year_total(self) -> float:
        return sum(e.per_year or 0 for e in self.entitlements)


@dataclass(slots=True)
class _AmountPlan:
    line: AmountLine
    parameter: Parameter
    value: ParamValue
    result: AmountResult | None = None  # built once per plan: amounts are the same for everyone


@dataclass(slots=True)
class _MeasurePlan:
    measure: Measure
    ev: Evaluator
    amounts: list[_AmountPlan]
    warnings: tuple[str, ...]
    household_ev: Evaluator | None = None  # for member measures: the part that tests household facts only


@dataclass(slots=True)
class _Plan:
    kb: KnowledgeBase
    region: Region
    date: dt.date
    params: dict[str, float | None]
    household_measures: list[_MeasurePlan]
    member_measures: list[_MeasurePlan]


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
                    planned_amount = _AmountPlan(line, parameter, value)
                    planned_amount.result = self.amount_result(planned_amount)
                    amounts.append(planned_amount)
            planned = _MeasurePlan(measure, measure.when.ev, amounts, self._warnings(measure, source, on))
            if measure.target == "member":
                planned.household_ev, planned.ev = split_household_part(measure.when)
                member_measures.append(planned)
            else:
                household_measures.append(planned)
        plan = _Plan(self.kb, view.region, on, params, household_measures, member_measures)
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def amount_plans(self, plan: _Plan, measure_id: str) -> list[_AmountPlan]:
        """A measure's amount lines in force in a plan (for answering a question about it)."""
        for mp in plan.household_measures + plan.member_measures:
            if mp.measure.id == measure_id:
                return mp.amounts
        return []

    @staticmethod
    def amount_result(ap: _AmountPlan) -> AmountResult:
        parameter = ap.parameter
        return AmountResult(ap.line.label or parameter.label, parameter.id, ap.value.value or 0.0,
                            parameter.unit, parameter.period, parameter.kind, ap.value.ref, ap.value.start)

    def measure_warnings(self, measure: Measure, on: dt.date) -> tuple[str, ...]:
        return self._warnings(measure, self.kb.sources[measure.source.source], on)

    @staticmethod
    def _warnings(measure: Measure, source: Source, on: dt.date) -> tuple[str, ...]:
        warnings = []
        if source.expired_on(on) and source.valid_to:
            warnings.append(f"注意：《{source.title}》有效期到{format_date(source.valid_to)}，已经过期，请向当地部门确认现行政策。")
        elif measure.valid_to and on > measure.valid_to:
            warnings.append(f"注意：这项措施适用到{format_date(measure.valid_to)}，已经过期，请向当地部门确认是否延续。")
        return tuple(warnings)

    def evaluate(self, household: Household, region: str | None = None, on: dt.date | None = None) -> Result:
        on = on or dt.date.today()
        plan = self.plan(region if region is not None else household.region, on)
        h, ms, p = household.facts, household.members, plan.params
        entitlements: list[Entitlement] = []
        undecided: list[Undecided] = []
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
        entitlements.sort(key=lambda e: (not e.measure.mandatory, e.member if e.member is not None else -1))
        return Result(plan.region, on, entitlements, undecided, self.kb.sources)

    def _record(self, mp: _MeasurePlan, outcome: bool | None, household: Household, index: int | None,
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
            amounts.append(ap.result or self.amount_result(ap))
        entitlements.append(Entitlement(mp.measure, index, household, amounts, plan, mp.warnings,
                                        unique_missing(amount_missing) if amount_missing else amount_missing))


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


def render_template(template: str, h: dict, member: dict | None, label: str, params: dict,
                    kb: KnowledgeBase | None = None, region: str | None = None) -> str:
    """Fill `{fact}`, `{name}` and `{param:id}` placeholders; unknown facts become 「?」."""

    def value_of(match: re.Match) -> str:
        name = match.group(1)
        if name == "name":
            return label or "家里"
        if name.startswith("param:"):
            pid = name[6:]
            value = params.get(pid)
            if value is None:
                return "?"
            unit = kb.view(region).parameters[pid].unit if kb else ""
            return format_number(value) + unit
        found: Any = (member or {}).get(name, h.get(name))
        if found is None:
            return "?"
        if isinstance(found, bool):
            return "是" if found else "否"
        if isinstance(found, frozenset):
            return "、".join(sorted(found))
        return format_number(found) if isinstance(found, (int, float)) else str(found)

    return _PLACEHOLDER.sub(value_of, template)
