"""A household as the engine sees it, and the parser for household files.

Facts that are not given stay absent (unknown), so the engine can say what it still needs.
Every fact knows where it came from: given (stated in a file, a description or an answer),
derived (common sense from given facts, facts.yaml `derived`) or defaulted (a rare situation
nobody mentioned). Only given and derived facts may be named as a reason; a default can only
take an entitlement away (the knowledge-base loader checks every condition for that).

The file format uses the fact names of `facts.yaml`, plus three conveniences: `statuses`, a list
of the household's statuses in Chinese; `name`, a label such as 张三家; and per member
`parents`, the member numbers (1, 2, …) of that member's father and mother in the household.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.datafile import DataFileError, LineDict, line_of, load_yaml
from policy_kb.facts import FactModel, fact_model

# Chinese status words -> the boolean household fact they set.
STATUS_FACTS = {
    "监测对象": "monitored",
    "脱贫户": "poverty_alleviated",
    "建档立卡户": "poverty_alleviated",
    "低保": "dibao",
    "低保户": "dibao",
    "低保边缘": "dibao_edge",
    "易地搬迁": "relocated",
    "易地扶贫搬迁": "relocated",
}
# 特困 is a person's status ("特困人员除外" excludes the person, not the family): as a household
# status it names the person only in a household of one.
PERSON_STATUSES = {"特困": "tekun", "特困户": "tekun", "五保户": "tekun"}
PARENTS = "parents"  # a member's parents, as member indices (0-based inside, 1-based in files)
Provenance = tuple["int | None", str]  # (member index or None for the household, fact name)


@dataclass(slots=True)
class Household:
    """Known facts only. `members is None` means the members are not known yet."""

    facts: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] | None = None
    name: str = ""
    region: str | None = None
    derived: set[Provenance] = field(default_factory=set)  # filled by common sense
    defaulted: set[Provenance] = field(default_factory=set)  # nobody said; a rare situation assumed absent

    def member_label(self, index: int) -> str:
        member = (self.members or [])[index]
        return member.get("name") or member.get("relation") or f"成员{index + 1}"

    def given(self, member: int | None, name: str) -> bool:
        """True when the fact is known and was not assumed by default."""
        source = self.facts if member is None else (self.members or [])[member]
        return source.get(name) is not None and (member, name) not in self.defaulted

    def said(self, member: int | None, name: str) -> bool:
        """True when the fact was stated: known, neither assumed by default nor derived."""
        return self.given(member, name) and (member, name) not in self.derived

    def copy(self) -> Household:
        return Household(dict(self.facts), None if self.members is None else [dict(m) for m in self.members], self.name,
                         self.region, set(self.derived), set(self.defaulted))

    def to_mapping(self, with_assumed: bool = False) -> dict[str, Any]:
        """The household as a plain mapping in the file format (sets as sorted lists). Derived and
        defaulted facts are left out unless asked for: what was said is what is kept."""

        def plain(facts: dict[str, Any], who: int | None) -> dict[str, Any]:
            out = {}
            for key, value in facts.items():
                if not with_assumed and ((who, key) in self.derived or (who, key) in self.defaulted):
                    continue
                if key == PARENTS:
                    value = [i + 1 for i in value]
                out[key] = sorted(value) if isinstance(value, frozenset) else value
            return out

        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.region:
            out["region"] = self.region
        out.update(plain(self.facts, None))
        if self.members is not None:
            out["members"] = [plain(m, i) for i, m in enumerate(self.members)]
        return out


def parse_household(data: Any, file: str = "<household>", model: FactModel | None = None) -> Household:
    """Validate a household mapping; a mistake raises DataFileError naming the field (and line)."""
    model = model or fact_model()
    if not isinstance(data, dict):
        raise DataFileError(file, line_of(data), "家庭信息应为映射（键: 值）")
    household = Household(name=str(data.get("name") or ""), region=data.get("region"))
    person_statuses: list[str] = []
    for key, value in data.items():
        if key in ("name", "region", "members"):
            continue
        if key == "statuses":
            person_statuses = _statuses(household, value, file, data.line_of(key) if isinstance(data, LineDict) else None)
            continue
        _set_checked(household.facts, model.household, data, key, value, file, "字段",
                     f"未知字段 '{key}'（可用字段见 README 的“家庭文件格式”）")
    if "members" in data and data["members"] is not None:
        members = data["members"]
        if not isinstance(members, list):
            raise DataFileError(file, line_of(data, "members"), "members 应为成员列表")
        household.members = [_member(raw, i, len(members), file, model) for i, raw in enumerate(members)]
    if "statuses" in data:
        _person_statuses(household, person_statuses, file, data.line_of("statuses") if isinstance(data, LineDict) else None)
    return with_defaults(household, model)


def with_defaults(household: Household, model: FactModel | None = None) -> Household:
    """Fill the facts a person would have mentioned (孤儿, 大学新生…) with their defaults, and
    remember that they were assumed."""
    model = model or fact_model()
    for name, value in model.household_defaults().items():
        if name not in household.facts:
            household.facts[name] = value
            household.defaulted.add((None, name))
    for index, member in enumerate(household.members or []):
        for name, value in model.member_defaults().items():
            if name not in member:
                member[name] = value
                household.defaulted.add((index, name))
    return household


def _statuses(household: Household, value: Any, file: str, at: int | None) -> list[str]:
    """Household statuses set their facts (the unlisted ones to "no"); person statuses are returned."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise DataFileError(file, at, "statuses 应为列表，如 [监测对象, 低保]")
    for fact in set(STATUS_FACTS.values()):
        household.facts.setdefault(fact, False)
    persons = []
    for item in items:
        if item in PERSON_STATUSES:
            persons.append(item)
            continue
        if item not in STATUS_FACTS:
            known = "、".join([*dict.fromkeys(STATUS_FACTS), *PERSON_STATUSES])
            raise DataFileError(file, at, f"statuses 中的 '{item}' 未知（可选：{known}）")
        household.facts[STATUS_FACTS[item]] = True
    return persons


def _person_statuses(household: Household, persons: list[str], file: str, at: int | None) -> None:
    """`statuses: [特困]` names the one member of a household of one; in a larger household it says
    only that someone is (who is 特困 decides "特困人员除外", so that stays to be told, per member
    with `tekun: true`). With `statuses` given and no 特困 in it, nobody in the household is 特困."""
    members = household.members or []
    if persons and len(members) != 1:
        household.facts["tekun_household"] = True
        return
    for member in members:
        member.setdefault("tekun", bool(persons))


def _member(raw: Any, index: int, count: int, file: str, model: FactModel) -> dict[str, Any]:
    who = f"成员{index + 1}"
    if not isinstance(raw, dict):
        raise DataFileError(file, line_of(raw), f"{who} 应为映射（键: 值）")
    member: dict[str, Any] = {}
    for key, value in raw.items():
        if key == PARENTS:
            member[PARENTS] = _parents(value, index, count, file, raw.line_of(key) if isinstance(raw, LineDict) else None, who)
            continue
        _set_checked(member, model.member, raw, key, value, file, f"{who} 的字段", f"{who} 有未知字段 '{key}'")
    return member


def _parents(value: Any, index: int, count: int, file: str, at: int | None, who: str) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= count and i != index + 1 for i in items) or len(items) > 2:
        raise DataFileError(file, at, f"{who} 的 parents 应为一到两个其他成员的序号（1 到 {count}），实际是 {value!r}")
    return tuple(i - 1 for i in items)


def parents_of(household: Household, index: int) -> tuple[int, ...] | None:
    """The member's parents in the household, as member indices; None when it cannot be told.

    Stated `parents` win. Otherwise the relations to the head decide where they can: a 子女's
    parents are the head and the head's spouse; a 孙子女's are the one 子女 of the household and
    that child's spouse (儿媳/女婿). With two or more 子女 a grandchild's parents are unknown: a
    grandson does not qualify through a disabled uncle.
    """
    members = household.members or []
    member = members[index]
    if PARENTS in member:
        return tuple(member[PARENTS])
    relation = member.get("relation")
    by_relation = lambda *names: tuple(i for i, m in enumerate(members) if m.get("relation") in names and i != index)  # noqa: E731
    if relation == "子女":
        return by_relation("户主", "配偶")
    if relation == "户主":
        return by_relation("父母")
    if relation == "孙子女":
        children = by_relation("子女")
        if len(children) != 1:
            return None
        return children + by_relation("儿媳", "女婿")
    return None


def _set_checked(target: dict, specs: dict, raw: Any, key: str, value: Any, file: str, field: str, unknown: str) -> None:
    """Store a fact after checking it against its spec; errors name the field and line."""
    at = raw.line_of(key) if isinstance(raw, LineDict) else None
    spec = specs.get(key)
    if spec is None:
        raise DataFileError(file, at, unknown)
    if value is None:
        return
    try:
        target[key] = spec.check(value)
    except ValueError as exc:
        raise DataFileError(file, at, f"{field} '{key}'（{spec.label}）{exc}") from None


def load_household(path: str | Path) -> Household:
    """Read a household YAML file."""
    return parse_household(load_yaml(path), str(path))
