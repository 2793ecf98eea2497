"""The knowledge base as typed objects, after validation: what the engine and dialogs read."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from policy_kb.conditions import Node

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
        """How an answer names the document's date."""
        if self.issued:
            return f"{self.issued.year}年{self.issued.month}月{self.issued.day}日"
        return self.date_text

    def expired_on(self, when: dt.date) -> bool:
        return self.valid_to is not None and when > self.valid_to

    def not_yet_on(self, when: dt.date) -> bool:
        return self.valid_from is not None and when < self.valid_from


@dataclass(frozen=True, slots=True)
class Ref:
    """Where a number or a measure comes from: document, section and the quoted sentence."""

    source: str
    section: str
    quote: str


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str
    full_name: str
    parent: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParamValue:
    start: dt.date
    value: float | None
    ref: Ref | None


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
        found = self.at(when)
        return found.value if found else None


@dataclass(frozen=True, slots=True)
class AmountLine:
    parameter: str
    when: Node | None = None
    label: str = ""
    line: int = 0


@dataclass(slots=True)
class Measure:
    id: str
    title: str
    category: str
    mandatory: bool
    target: str
    when: Node
    gives: str
    amounts: tuple[AmountLine, ...]
    why: str
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
    file: str = ""
    line: int = 0

    @property
    def mark(self) -> str:
        return "★" if self.mandatory else "●"


@dataclass(slots=True)
class RegionView:
    """Everything that applies in one region: base merged with the county overlay."""

    region: Region
    parameters: dict[str, Parameter]
    measures: list[Measure]
    dropped: tuple[str, ...] = ()

    def measure(self, measure_id: str) -> Measure | None:
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        return None


@dataclass(slots=True)
class KnowledgeBase:
    sources: dict[str, Source]
    regions: dict[str, Region]
    default_region: str
    views: dict[str, RegionView]
    source_texts: dict[str, str] = field(default_factory=dict, repr=False)

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
