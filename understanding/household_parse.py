"""A whole household described in one message -> household facts and members.

People describe a family clause by clause ("我45岁在广东打工，老婆在家种地，儿子14岁读初中
住校"). Each clause that names a person starts a member; the facts in the clause belong to
that person, facts about the household (低保, 危房, income) to the household. The text read
here is canonical (after the lexicon), so 娃/崽/孩子 already read 子女.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from understanding.entities import extract
from understanding.numerals import to_digits
from understanding.places import Place

# Person words -> relation to the head of household (the speaker is the head).
PERSONS = (
    ("孙子女", "孙子女"), ("孙子", "孙子女"), ("孙女", "孙子女"), ("外孙", "孙子女"),
    ("爷爷", "祖父母"), ("奶奶", "祖父母"),
    ("儿媳", "儿媳"), ("媳妇", "配偶"), ("老婆", "配偶"), ("妻子", "配偶"), ("爱人", "配偶"), ("老公", "配偶"), ("丈夫", "配偶"), ("配偶", "配偶"),
    ("女婿", "女婿"),
    ("父亲", "父母"), ("母亲", "父母"), ("老爹", "父母"), ("老娘", "父母"), ("爸爸", "父母"), ("妈妈", "父母"), ("父母", "父母"), ("老人", "父母"),
    ("儿子", "子女"), ("女儿", "子女"), ("子女", "子女"), ("大的", "子女"), ("小的", "子女"), ("老大", "子女"), ("老二", "子女"), ("老三", "子女"),
    ("兄弟", "兄弟姐妹"), ("哥哥", "兄弟姐妹"), ("弟弟", "兄弟姐妹"), ("姐姐", "兄弟姐妹"), ("妹妹", "兄弟姐妹"),
    ("本人", "户主"), ("我自己", "户主"), ("户主", "户主"), ("我", "户主"),
)
_CLAUSE = re.compile(r"[，,。；;、\n]+|(?<=[岁])(?=[^\d])")
_COUNT = re.compile(r"([2-9两二三四五])个(子女|孙子女|老人)")
_PERSON_PATTERN = re.compile("|".join(map(re.escape, (w for w, _ in PERSONS))))
_RELATION = dict(PERSONS)
_FARMING = ("种地", "种田", "务农", "干农活", "养殖", "种养")


@dataclass(slots=True)
class Described:
    household: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    size: int | None = None
    region: str | None = None

    @property
    def empty(self) -> bool:
        return not self.household and not self.members and self.size is None


def _member_facts(clause: str, region_names: Mapping[str, str], homes: Mapping[str, Place] | None,
                  region: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    found = extract(clause, region_names, homes, region)
    member = dict(found.member)
    if any(w in clause for w in _FARMING):
        member.setdefault("work_status", "务农")
        member["can_farm"] = True
    if "在家" in clause and "months_away" not in member and member.get("work_status") != "务工":
        member["months_away"] = 0
    if any(w in clause for w in ("上学", "读书", "在读")) or "school_stage" in member:
        member.setdefault("work_status", "上学")
    elif member.get("work_status") not in (None, "上学"):
        member.setdefault("school_stage", "不在读")  # someone working or farming is not a pupil
    return member, found.household


def parse_description(text: str, region_names: Mapping[str, str], homes: Mapping[str, Place] | None = None,
                      region: str | None = None) -> Described:
    """Members in the order mentioned; several children in one clause become several members."""
    described = Described()
    whole = extract(text, region_names, homes, region)
    described.size = whole.size
    described.region = whole.region
    region = whole.region or region
    current: dict[str, Any] | None = None
    for clause in filter(None, (c.strip() for c in _CLAUSE.split(text))):
        person = _PERSON_PATTERN.search(clause)
        facts, household_facts = _member_facts(clause, region_names, homes, region)
        described.household.update(household_facts)
        if person and (facts or _RELATION[person.group(0)] != "户主"):
            relation = _RELATION[person.group(0)]
            count = _COUNT.search(to_digits(clause).replace("两", "2"))
            copies = int(to_digits(count.group(1)).replace("两", "2")) if count and count.group(1) else 1
            if relation == "户主" and any(m.get("relation") == "户主" for m in described.members):
                current = next(m for m in described.members if m.get("relation") == "户主")
                current.update(facts)
                continue
            for _ in range(max(1, copies)):
                current = {"relation": relation, **facts}
                described.members.append(current)
        elif current is not None and facts:
            current.update(facts)
        elif facts and not described.members:
            current = {"relation": "户主", **facts}
            described.members.append(current)
    if "income_per_head" in whole.household:  # a total and the size may sit in different clauses
        described.household["income_per_head"] = whole.household["income_per_head"]
    return described
