"""A household as the engine sees it, and the parser for household files.

Facts that are not given stay absent (unknown), so the engine can say what it still needs.
The file format uses the fact names of `facts.yaml`, plus two conveniences: `statuses`, a list
of the household's statuses in Chinese, and `name`, a label such as 张三家.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eligibility.facts import FactModel, fact_model
from policy_kb.yamlio import KBError, LineDict, line_of, load_yaml

# Chinese status words -> the boolean household fact they set.
STATUS_FACTS = {
    "监测对象": "monitored",
    "脱贫户": "poverty_alleviated",
    "低保": "dibao",
    "低保户": "dibao",
    "特困": "tekun",
    "特困户": "tekun",
    "低保边缘": "dibao_edge",
    "易地搬迁": "relocated",
    "易地扶贫搬迁": "relocated",
}


@dataclass(slots=True)
class Household:
    """Known facts only. `members is None` means the members are not known yet."""

    facts: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] | None = None
    name: str = ""
    region: str | None = None

    def member_label(self, index: int) -> str:
        member = (self.members or [])[index]
        return member.get("name") or member.get("relation") or f"成员{index + 1}"

    def to_mapping(self) -> dict[str, Any]:
        """The household as a plain mapping in the file format (sets as sorted lists)."""

        def plain(facts: dict[str, Any]) -> dict[str, Any]:
            return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in facts.items()}

        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.region:
            out["region"] = self.region
        out.update(plain(self.facts))
        if self.members is not None:
            out["members"] = [plain(m) for m in self.members]
        return out


def parse_household(data: Any, file: str = "<household>", model: FactModel | None = None) -> Household:
    """Validate a household mapping; a mistake raises KBError naming the field (and line)."""
    model = model or fact_model()
    if not isinstance(data, dict):
        raise KBError(file, line_of(data), "家庭信息应为映射（键: 值）")
    household = Household(name=str(data.get("name") or ""), region=data.get("region"))
    for key, value in data.items():
        if key in ("name", "region", "members"):
            continue
        if key == "statuses":
            _statuses(household, value, file, data.line_of(key) if isinstance(data, LineDict) else None)
            continue
        _set_checked(household.facts, model.household, data, key, value, file, "字段",
                     f"未知字段 '{key}'（可用字段见 README 的“家庭文件格式”）")
    if "members" in data and data["members"] is not None:
        members = data["members"]
        if not isinstance(members, list):
            raise KBError(file, line_of(data, "members"), "members 应为成员列表")
        household.members = [_member(raw, i, file, model) for i, raw in enumerate(members)]
    return with_defaults(household, model)


def with_defaults(household: Household, model: FactModel | None = None) -> Household:
    """Fill the facts a person would have mentioned (孤儿, 现役军人…) with their defaults."""
    model = model or fact_model()
    for name, value in model.household_defaults().items():
        household.facts.setdefault(name, value)
    for member in household.members or []:
        for name, value in model.member_defaults().items():
            member.setdefault(name, value)
    return household


def _statuses(household: Household, value: Any, file: str, at: int | None) -> None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise KBError(file, at, "statuses 应为列表，如 [监测对象, 低保]")
    for fact in set(STATUS_FACTS.values()):
        household.facts.setdefault(fact, False)
    for item in items:
        if item not in STATUS_FACTS:
            raise KBError(file, at, f"statuses 中的 '{item}' 未知（可选：{'、'.join(dict.fromkeys(STATUS_FACTS))}）")
        household.facts[STATUS_FACTS[item]] = True


def _member(raw: Any, index: int, file: str, model: FactModel) -> dict[str, Any]:
    who = f"成员{index + 1}"
    if not isinstance(raw, dict):
        raise KBError(file, line_of(raw), f"{who} 应为映射（键: 值）")
    member: dict[str, Any] = {}
    for key, value in raw.items():
        _set_checked(member, model.member, raw, key, value, file, f"{who} 的字段", f"{who} 有未知字段 '{key}'")
    return member


def _set_checked(target: dict, specs: dict, raw: Any, key: str, value: Any, file: str, field: str, unknown: str) -> None:
    """Store a fact after checking it against its spec; errors name the field and line."""
    at = raw.line_of(key) if isinstance(raw, LineDict) else None
    spec = specs.get(key)
    if spec is None:
        raise KBError(file, at, unknown)
    if value is None:
        return
    try:
        target[key] = spec.check(value)
    except ValueError as exc:
        raise KBError(file, at, f"{field} '{key}'（{spec.label}）{exc}") from None


def load_household(path: str | Path) -> Household:
    """Read a household YAML file."""
    return parse_household(load_yaml(path), str(path))
