"""Facts a message states outright: every household fact the rules of lexicon_data/fact_words.yaml
read (ages, grades, boarding, disability, statuses, work …), where someone works (places.py, relative
to the household's home), the county named, an amount of money, household size and income.

Extraction reads the canonical text (after the lexicon); numbers are read through
understanding/numerals.py from a copy, because rewriting the text itself would also turn 一次性 into
1次性.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from understanding.fact_words import load_fact_words
from understanding.numerals import to_digits
from understanding.places import Place, load_gazetteer

# "一个人带个娃" is no household of one: 个人 counts people only from two up.
_SIZE = re.compile(r"(?<!老)(\d{1,2})\s*(?:口人|口)(?![均子])|([2-9]|1\d)\s*个人(?!均)")
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?\s*(?:元|块)")
# An amount of money: the whole number, and not a share of something (可支配收入的18%, 收入的1.5倍).
# Nor a count of something else ("收入大幅减少，家里有一名小学生": 一名 is no income).
_AMOUNT = r"([\d一二两三四五六七八九十百千万零〇点.]+)(?![\d一二两三四五六七八九十百千万零〇点.]|\s*(?:%|％|成|倍|个百分点|名|个|位|口|人|岁|年|月|天|次|亩|只|头))"
LEAST_INCOME = 100.0  # yuan a head a year: a smaller figure is a misreading, never an income
# "居民人均可支配收入4万", "当地人均收入两万": the area's figure, not the family's (the clause is left
# out); "挣几十万" names no figure.
_AREA_FIGURE = re.compile(r"[^，,。；;]*(?:居民|全县|全市|全省|当地|本地|全国|我们这里|我们那里)[^，,。；;]{0,4}(?:人均|收入)[^，,。；;]*")
_PER_HEAD = re.compile(rf"人均[^\d，。几]{{0,8}}?{_AMOUNT}")
_TOTAL = re.compile(rf"(?:全家|一家|家里|家庭|屋里|总共|一共|合计|加起来|全年)[^\d，。几]{{0,10}}?(?:收入|挣|赚|找|进账|纯收入)[^\d，。几]{{0,6}}?{_AMOUNT}")
_MONTH = re.compile(r"(?:(\d{4})年|(今年|去年|明年))?(\d{1,2})月份?(?![\d底末初中])")
# "2月初到外省务工，预计7月中旬返乡": away from the first month to the second.
_AWAY_SPAN = re.compile(r"(\d{1,2})月[^。；;]{0,12}?(?:出去|外出|出门|到|去)[^。；;]{0,18}?(\d{1,2})月[^。；;，,]{0,6}?(?:返乡|回来|回家|返回|回)")
_INCOME = re.compile(rf"(?:收入|纯收入|挣|赚)[^\d，。几]{{0,8}}?{_AMOUNT}")


@dataclass(slots=True)
class Entities:
    """What a message says; member facts are those of the one person the message is about."""

    household: dict[str, Any] = field(default_factory=dict)
    member: dict[str, Any] = field(default_factory=dict)
    region: str | None = None
    amount: float | None = None
    size: int | None = None
    month: tuple[str, int] | None = None  # a month the message names: ("2021", "去年" or "" for this year; the month)

    @property
    def facts(self) -> set[str]:
        return {f"household.{k}" for k in self.household} | {f"member.{k}" for k in self.member}


def _money(value: str) -> float | None:
    try:
        return float(to_digits(value.rstrip("点.")))
    except ValueError:
        return None


def extract(text: str, region_names: Mapping[str, str] | None = None, homes: Mapping[str, Place] | None = None,
            region: str | None = None) -> Entities:
    """Entities of one canonical text. `region_names` maps every county name and alias to a region
    id; `homes` a region id to where it lies, so that a place of work can be placed; `region` is the
    county the conversation is about when the text names none."""
    found = Entities()
    digits = to_digits(text)
    for path, value in load_fact_words().read(text).items():
        scope, name = path.split(".", 1)
        (found.household if scope == "household" else found.member)[name] = value
    for name, region_id in (region_names or {}).items():
        if name and name in text:
            found.region = region_id
            break
    member = found.member
    home = (homes or {}).get(found.region or region or "")
    place = load_gazetteer().work_place(text, home)
    working = member.get("work_status") == "务工"
    if place is not None and (working or (place != "县内" and "school_stage" not in member)):
        member["work_place"] = place
        if member.get("work_status") in (None, "其他"):
            member["work_status"] = "务工"
    elif working and "work_status" not in member:
        member["work_status"] = "务工"
    if "months_away" not in member and (m := _AWAY_SPAN.search(digits)):
        start, end = int(m.group(1)), int(m.group(2))
        if 1 <= start <= 12 and 1 <= end <= 12 and start != end:
            member["months_away"] = (end - start) % 12
    if m := _SIZE.search(digits):
        found.size = int(m.group(1) or m.group(2))
    income = None
    own = _AREA_FIGURE.sub("", text)
    if m := _PER_HEAD.search(own):
        income = _money(m.group(1))
    elif (m := _TOTAL.search(own)) and found.size and (total := _money(m.group(1))) is not None:
        income = round(total / found.size, 2)
    elif m := _INCOME.search(own):
        income = _money(m.group(1))
    if income is not None and income >= LEAST_INCOME:
        found.household["income_per_head"] = income
    if (m := _MONTH.search(digits)) and 1 <= int(m.group(3)) <= 12:
        found.month = (m.group(1) or m.group(2) or "", int(m.group(3)))
    if m := _MONEY.search(digits):
        found.amount = float(m.group(1)) * (10000 if m.group(2) else 1)
    return found
