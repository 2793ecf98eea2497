"""Reminder rules (reminders/rules.yaml): when each reminder falls due and for whom.

Rules are data; household conditions use the knowledge base's condition language, so
"家里有上学的孩子" is written the same way as in a measure and checked against the same facts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from eligibility.household import Household
from foundation import checks
from foundation.datafile import DataFileError, LineDict, load_data
from policy_kb.conditions import ConditionParser, Node
from policy_kb.facts import fact_model
from workflow.model import STAFF_ROLES

RULES_FILE = Path(__file__).with_name("rules.yaml")
HOUSEHOLD = "household"
DEADLINE_FIELDS = ("number", "who", "state", "day")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    topic: str
    title: str
    audience: tuple[str, ...]  # ("household",) or staff roles
    text: str
    fresh_days: int
    send_at: dt.time
    dates: tuple[tuple[int, int], ...] = ()
    monthly: int | None = None
    before_deadline: int | None = None
    when: Node | None = None

    @property
    def for_households(self) -> bool:
        return self.audience == (HOUSEHOLD,)

    def serves(self, role: str, has_household: bool) -> bool:
        """Whether a subscriber with this role (and a saved household or not) can get this rule at all."""
        if self.for_households:
            return has_household or (role == "villager" and self.when is None)
        return role in self.audience

    def latest(self, today: dt.date) -> dt.date | None:
        """The latest calendar occurrence on or before `today` (None for deadline rules)."""
        if self.monthly is not None:
            this_month = today.replace(day=self.monthly)
            return this_month if this_month <= today else (today.replace(day=1) - dt.timedelta(days=1)).replace(day=self.monthly)
        candidates = [dt.date(year, m, d) for year in (today.year, today.year - 1) for m, d in self.dates]
        past = [c for c in candidates if c <= today]
        return max(past) if past else None

    def matches(self, household: Household | None, params: dict[str, float | None]) -> bool:
        """A household rule applies when its condition is true (unknown facts: not sent)."""
        if self.when is None:
            return True
        if household is None:
            return False
        return self.when.ev(household.facts, None, params, household.members) is True

    def schedule_text(self) -> str:
        if self.monthly is not None:
            return f"每月{self.monthly}日"
        if self.before_deadline is not None:
            return f"办理期限前{self.before_deadline}个工作日"
        return "每年" + "、".join(f"{m}月{d}日" for m, d in self.dates)


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("send_at", "rules"))
    send_at = _time(data, "send_at", f, path.name)
    parser = ConditionParser(fact_model())
    rules = [_rule(raw, data["rules"].line_of(i), f, send_at, parser)
             for i, raw in enumerate(checks.sequence(data["rules"], f, data.line_of("rules"), "rules"))]
    ids = [r.id for r in rules]
    for i, rid in enumerate(ids):
        if rid in ids[:i]:
            raise DataFileError(f, data["rules"].line_of(i), f"规则 id '{rid}' 重复")
    return tuple(rules)


def _time(d: LineDict, key: str, f: str, what: str) -> dt.time:
    value = str(checks.text(d, key, f, what))
    match = _TIME.match(value)
    if not match:
        raise DataFileError(f, d.line_of(key), f"{what} 的 {key} 应为 HH:MM，实际是 {value!r}")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _rule(raw: Any, line: int, f: str, send_at: dt.time, parser: ConditionParser) -> Rule:
    raw = checks.mapping(raw, f, line, "规则")
    what = f"规则 {raw.get('id')}"
    schedules = ("dates", "monthly", "before_deadline")
    checks.keys(raw, f, what, ("id", "topic", "title", "for", "text", "fresh_days"), (*schedules, "when", "send_at"))
    given = [k for k in schedules if k in raw]
    if len(given) != 1:
        raise DataFileError(f, raw.line_of(given[1]) if given else raw.line, f"{what} 要有且只有一种时间：{', '.join(schedules)}")
    audience = tuple(checks.text_list(raw, "for", f, what, minimum=1))
    if audience != (HOUSEHOLD,) and any(a not in STAFF_ROLES for a in audience):
        raise DataFileError(f, raw.line_of("for"), f"{what} 的 for 应为 household，或角色 {', '.join(STAFF_ROLES)}")
    fresh = checks.typed(raw, "fresh_days", (int,), f, what)
    if fresh < 1:
        raise DataFileError(f, raw.line_of("fresh_days"), f"{what} 的 fresh_days 至少是 1")
    rule = Rule(
        id=str(checks.text(raw, "id", f, what)), topic=str(checks.text(raw, "topic", f, what)), title=str(checks.text(raw, "title", f, what)),
        audience=audience, text=str(checks.text(raw, "text", f, what)), fresh_days=fresh,
        send_at=_time(raw, "send_at", f, what) if "send_at" in raw else send_at,
        dates=_dates(raw, f, what) if "dates" in raw else (),
        monthly=_day_of_month(raw, f, what) if "monthly" in raw else None,
        before_deadline=checks.typed(raw, "before_deadline", (int,), f, what),
        when=parser.parse(raw["when"], f, raw.line_of("when"), member_context=False) if "when" in raw else None,
    )
    if rule.when is not None and not rule.for_households:
        raise DataFileError(f, raw.line_of("when"), f"{what}：只有 for: household 的规则能写 when")
    if rule.before_deadline is not None and rule.for_households:
        raise DataFileError(f, raw.line_of("before_deadline"), f"{what}：before_deadline 只用于工作人员的规则")
    _check_text(rule, raw, f, what)
    gap = _shortest_gap(rule)
    if gap is not None and rule.fresh_days >= gap:
        raise DataFileError(f, raw.line_of("fresh_days"), f"{what} 的 fresh_days（{rule.fresh_days}）要小于两次提醒的间隔（{gap} 天），否则补发时会重复")
    return rule


def _dates(raw: LineDict, f: str, what: str) -> tuple[tuple[int, int], ...]:
    out = []
    for item in checks.text_list(raw, "dates", f, what, minimum=1):
        match = _MONTH_DAY.match(item)
        month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2023, month)[1]:  # 2023: no 2月29日, which most years lack
            raise DataFileError(f, raw.line_of("dates"), f"{what} 的日期 '{item}' 应为 MM-DD（不能用2月29日）")
        out.append((month, day))
    return tuple(sorted(set(out)))


def _day_of_month(raw: LineDict, f: str, what: str) -> int:
    day = checks.typed(raw, "monthly", (int,), f, what)
    if not 1 <= day <= 28:
        raise DataFileError(f, raw.line_of("monthly"), f"{what} 的 monthly 应为 1 到 28（每个月都有的日子）")
    return day


def _check_text(rule: Rule, raw: LineDict, f: str, what: str) -> None:
    allowed = DEADLINE_FIELDS if rule.before_deadline is not None else ()
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(rule.text) if name}
    except ValueError as exc:
        raise DataFileError(f, raw.line_of("text"), f"{what} 的 text 格式不对：{exc}") from None
    if fields - set(allowed):
        raise DataFileError(f, raw.line_of("text"), f"{what} 的 text 里有不能用的占位符 {sorted(fields - set(allowed))}（可用：{', '.join(allowed) or '无'}）")


def _shortest_gap(rule: Rule) -> int | None:
    """Days between two consecutive occurrences at their closest (28 for monthly rules)."""
    if rule.monthly is not None:
        return 28
    if not rule.dates:
        return None
    days = sorted(dt.date(2023, m, d) for m, d in rule.dates)  # a non-leap year: the shortest gaps
    wrapped = days + [days[0].replace(year=2024)]
    return min((b - a).days for a, b in zip(wrapped, wrapped[1:], strict=False))
