"""Facts a message states outright: ages, school stages, boarding, disability, work place,
statuses, regions, amounts and household size.

Extraction reads the canonical text (after the lexicon) and a copy whose Chinese numerals
understanding/numerals.py turned into digits; the matched text itself is never rewritten,
because that would also turn 一次性 into 1次性.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from understanding.numerals import to_digits

STAGES = {
    "研究生": "研究生", "硕士": "研究生", "博士": "研究生",
    "本科": "本科", "大学": "本科",
    "大专": "大专", "专科": "大专",
    "高职": "高职",
    "中职": "中职", "中专": "中职", "技校": "中职", "职高": "中职", "职中": "中职",
    "高中": "高中", "初中": "初中", "小学": "小学", "幼儿园": "幼儿园",
}
WORK_PLACES = (
    ("市内县外", "市内县外"), ("县外省内", "省内县外"), ("省内县外", "省内县外"), ("省外", "省外"),
    ("省内", "省内县外"), ("市内", "市内县外"), ("县外", "省内县外"), ("县内", "县内"), ("本县", "县内"), ("本地", "县内"),
)
STATUSES = (
    ("低保边缘", "dibao_edge"), ("监测对象", "monitored"), ("脱贫户", "poverty_alleviated"), ("低保", "dibao"),
    ("特困", "tekun"), ("易地搬迁", "relocated"),
)
DISEASES = ("高血压", "糖尿病", "肺结核", "严重精神障碍")
GRADES = {"一": "一级", "二": "二级", "三": "三级", "四": "四级", "1": "一级", "2": "二级", "3": "三级", "4": "四级"}

# Before a status word these mean the asker is not (yet) one: 不是低保, 想当监测对象, 能不能纳入低保.
_NOT_OR_WISH = "不是|没有|不|没|想当|想成为|申请|成为|纳入|评上|评|能不能|能否|怎么|如何|要啥|才能|当上"
_AGE = re.compile(r"(\d{1,3})\s*(?:周岁|岁)")
_SIZE = re.compile(r"(\d{1,2})\s*(?:口人|口|个人)")
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?\s*(?:元|块)")
_INCOME = re.compile(r"(?:收入|纯收入|挣|赚)[^\d]{0,8}(\d+(?:\.\d+)?)\s*(万)?")
_GRADE = re.compile(r"([一二三四1234])\s*级")
_MONTHS = re.compile(r"(\d{1,2})\s*个?月")
_YEAR_OF = re.compile(r"(?:第|读|上)?\s*([一二三四五六1-6])\s*年级")


@dataclass(slots=True)
class Entities:
    """What a message says; member facts are those of the one person the message is about."""

    household: dict[str, Any] = field(default_factory=dict)
    member: dict[str, Any] = field(default_factory=dict)
    region: str | None = None
    amount: float | None = None
    size: int | None = None

    @property
    def facts(self) -> set[str]:
        return {f"household.{k}" for k in self.household} | {f"member.{k}" for k in self.member}


def _money(value: str, wan: str | None) -> float:
    return float(value) * (10000 if wan else 1)


def extract(text: str, region_names: dict[str, str] | None = None) -> Entities:
    """Entities of one canonical text; `region_names` maps every name and alias to a region id."""
    found = Entities()
    digits = to_digits(text)
    member = found.member
    if m := _AGE.search(digits):
        age = int(m.group(1))
        if 0 <= age <= 120:
            member["age"] = age
    if m := _SIZE.search(digits):
        found.size = int(m.group(1))
    if m := _INCOME.search(digits):
        found.household["income_per_head"] = _money(m.group(1), m.group(2))
    if m := _MONEY.search(digits):
        found.amount = _money(m.group(1), m.group(2))
    for word, stage in STAGES.items():
        if word in text:
            member["school_stage"] = stage
            break
    if "非寄宿" in text:
        member["boarding"] = False
    elif "寄宿" in text:
        member["boarding"] = True
    if m := _YEAR_OF.search(digits):
        member["school_year"] = int(to_digits(m.group(1)))
    for word, place in WORK_PLACES:
        if word in text:
            member["work_place"] = place
            break
    if "务工" in text or "work_place" in member and member["work_place"] != "县内":
        member["work_status"] = "务工"
    if "失业" in text or "没工作" in text:
        member["work_status"] = "失业"
    if "残疾" in text:
        grade = _GRADE.search(digits)
        member["disability"] = GRADES[grade.group(1)] if grade else member.get("disability")
        if member["disability"] is None:
            del member["disability"]
    if "重度残疾" in text and "disability" not in member:
        member["disability"] = "一级"
    if "残疾证" in text:
        member["disability_certificate"] = not re.search(r"(没|未|无)[有办]*残疾证", text)
    diseases = [d for d in DISEASES if d in text]
    if diseases:
        member["chronic_diseases"] = frozenset(diseases)
    if "孤儿" in text:
        member["orphan"] = True
    if "months_away" not in member and (m := _MONTHS.search(digits)) and ("外" in text or "务工" in text):
        member["months_away"] = min(12, int(m.group(1)))
    for word, fact in STATUSES:
        if word in text and not re.search(rf"({_NOT_OR_WISH})[^，,。 ]{{0,4}}{word}", text):
            if fact == "tekun":  # a person's status: the one the message is about
                member["tekun"] = True
                continue
            found.household[fact] = True
            if fact == "dibao_edge":
                break
    if "危房" in text:
        found.household["housing"] = "危房"
    elif "无房" in text or "没房子" in text:
        found.household["housing"] = "无房"
    if "季节性缺水" in text or "缺水" in text:
        found.household["water"] = "季节性缺水"
    for name, region_id in (region_names or {}).items():
        if name and name in text:
            found.region = region_id
            break
    return found
