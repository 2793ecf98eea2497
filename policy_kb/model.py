"""The knowledge base as typed objects, after validation: what the engine and dialogs read."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from policy_kb.conditions import UNPUBLISHED, Node

CATEGORIES = ("产业", "就业", "住房安全", "安全饮水", "教育", "健康", "综合保障", "社会帮扶", "易地扶贫搬迁后扶", "其他", "动态监测")
PERIODS = {"semester": 2, "year": 1, "month": 12, "once": None, "none": None}
PERIOD_WORDS = {"semester": "每学期", "year": "每年", "month": "每月", "once": "一次性", "none": ""}
KINDS = ("amount", "cap", "floor", "rate", "limit")


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    file: str
    title: str
    region: str
    number: str = ""
    issued: dt.date | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    date_text: str = ""
    validity_quote: str = ""

    @property
    def date_label(self) -> str:
        """How an answer names the document's date: its issue date, or the date it gives
        itself ("2021年"), or nothing for an undated text (the 明白纸)."""
        if self.issued:
            return f"{self.issued.year}年{self.issued.month}月{self.issued.day}日"
        return self.date_text

    @property
    def validity_text(self) -> str:
        """The document's validity in words, for answers about whether it still applies."""
        if self.valid_to and self.valid_from:
            return f"{_day(self.valid_from)}起执行，有效期到{_day(self.valid_to)}"
        if self.valid_to:
            return f"有效期到{_day(self.valid_to)}"
        if self.valid_from:
            return f"{_day(self.valid_from)}起执行，文件没写有效期"
        return "文件没写有效期"

    def expired_on(self, when: dt.date) -> bool:
        return self.valid_to is not None and when > self.valid_to

    def not_yet_on(self, when: dt.date) -> bool:
        return self.valid_from is not None and when < self.valid_from


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True, slots=True)
class Ref:
    """Where a number or a measure comes from: document, section and the quoted sentence."""

    source: str
    section: str
    quote: str
    note: str = ""  # how the quote is read, where it needs reading (未成年人 = under 18)


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str
    full_name: str
    parent: str | None
    aliases: tuple[str, ...] = ()
    place: tuple[str, str, str] | None = None  # (province, city, county) where the county lies


@dataclass(frozen=True, slots=True)
class ParamValue:
    start: dt.date
    value: float | None
    ref: Ref | None
    date_text: str = ""  # how the text dates this value ("2024年春季起"); shown with the amount
    unknown: str = ""  # in force, but the figure is not published in the texts: what to say instead

    @property
    def published(self) -> bool:
        return not self.unknown


@dataclass(slots=True)
class Parameter:
    id: str
    label: str
    unit: str
    period: str
    kind: str
    values: list[ParamValue]
    region: str = "base"
    file: str = ""
    line: int = 0
    _starts: list[dt.date] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [v.start for v in self.values]

    def at(self, when: dt.date) -> ParamValue | None:
        """The value in force on `when` (None before the first date)."""
        index = bisect.bisect_right(self._starts, when) - 1
        return self.values[index] if index >= 0 else None

    def value_at(self, when: dt.date) -> float | None:
        """The figure in force on `when`; None if none is; UNPUBLISHED if one is but no text gives it."""
        found = self.at(when)
        if found is None:
            return None
        return UNPUBLISHED if found.unknown else found.value  # type: ignore[return-value]

    def last_published(self, when: dt.date) -> ParamValue | None:
        """The latest value with a figure on or before `when` (the 2021 line, asked about in 2026)."""
        for value in reversed(self.values):
            if value.start <= when and value.value is not None:
                return value
        return None


@dataclass(frozen=True, slots=True)
class AmountLine:
    parameter: str
    when: Node | None = None
    label: str = ""
    line: int = 0
    note: str = ""  # a caveat about this amount only (中职: 三年制第三年不享受)
    named: bool = False  # the label is the programme's own name (雨露计划): shown beside the figure wherever it is given


@dataclass(slots=True)
class Measure:
    id: str
    title: str
    category: str
    mandatory: bool | None  # ★ True / ● False: the 明白纸's own marks; None for every other text
    target: str
    when: Node
    gives: str
    amounts: tuple[AmountLine, ...]
    how_to_apply: str
    responsible: tuple[str, ...]
    source: Ref
    examples: tuple[str, ...]
    keywords: tuple[str, ...]
    region: str = "base"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    notes: str = ""
    replaces: str = ""
    pick: str = "all"  # "highest": of the amount lines that hold, only the highest (就高不重复)
    file: str = ""
    line: int = 0

    @property
    def mark(self) -> str:
        """★ or ● as the 明白纸 marks it; a county's or township's own measure has no mark."""
        if self.mandatory is None:
            return ""
        return "★" if self.mandatory else "●"

    @property
    def rank(self) -> int:
        """Order in a result: ★ first, then the county's and township's own, then ●."""
        return {True: 0, None: 1, False: 2}[self.mandatory]


TOPIC_KINDS = ("procedure", "threshold", "validity", "form", "legend", "scope")


@dataclass(slots=True)
class Topic:
    """Knowledge that is not an entitlement: a procedure step and its time limit, the income line
    and its year, a document's validity, a form, what ★ and ● mean. `answer` is a short text with
    {param:…} and {validity:…} placeholders (policy_kb/topics.py fills them for a date)."""

    id: str
    kind: str
    title: str
    answer: str
    source: Ref
    examples: tuple[str, ...]
    keywords: tuple[str, ...]
    region: str = "base"
    replaces: str = ""
    with_month: str = ""  # said first when the question names a month: {month}, {start}, {end} (收入按哪段时间算)
    follows: str = ""  # the procedure step this one comes after: "评议过了，乡镇多久来" asks about this one
    file: str = ""
    line: int = 0


@dataclass(slots=True)
class RegionView:
    """Everything that applies in one region: base merged with the county overlay."""

    region: Region
    parameters: dict[str, Parameter]
    measures: list[Measure]
    dropped: tuple[str, ...] = ()
    topics: list[Topic] = field(default_factory=list)

    def measure(self, measure_id: str) -> Measure | None:
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        return None

    def topic(self, key: str) -> Topic | None:
        """A topic by its id (or its key in the question index, "topic:<id>")."""
        topic_id = key.removeprefix("topic:")
        return next((t for t in self.topics if t.id == topic_id), None)


@dataclass(frozen=True, slots=True)
class DerivedRule:
    """Common sense as a fact that follows from stated ones (facts.yaml `derived`)."""

    when: Node
    sets: tuple[tuple[str, str, object], ...]  # (scope, fact name, value)
    why: str
    line: int = 0
    quiet: bool = False  # not said in the read-back (a step to another fact, or too plain to say)

    @property
    def member(self) -> bool:
        return any(scope == "member" for scope, _, _ in self.sets)


@dataclass(slots=True)
class KnowledgeBase:
    sources: dict[str, Source]
    regions: dict[str, Region]
    default_region: str
    views: dict[str, RegionView]
    source_texts: dict[str, str] = field(default_factory=dict, repr=False)  # source id -> the text as published
    derived: tuple[DerivedRule, ...] = ()

    def resolve_region(self, name: str | None) -> Region:
        """A region by id, Chinese name, full name or alias; None gives the default."""
        if not name:
            return self.regions[self.default_region]
        key = name.strip()
        for region in self.regions.values():
            if key == region.id or key == region.name or key == region.full_name or key in region.aliases:
                return region
        raise KeyError(key)

    def view(self, region: str | None = None) -> RegionView:
        return self.views[self.resolve_region(region).id]

    def all_measures(self) -> list[Measure]:
        """Every distinct measure of every region (base ones once)."""
        seen: dict[str, Measure] = {}
        for view in self.views.values():
            for measure in view.measures:
                seen.setdefault(measure.id, measure)
        return list(seen.values())
