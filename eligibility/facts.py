"""The household model: which facts exist, their types, labels and the question that asks them.

The model is data (`facts.yaml`) so that policy staff can add a fact and its question without
code; both the knowledge-base loader (to check conditions) and the household parser use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from policy_kb import checks
from policy_kb.yamlio import KBError, load_yaml

FACTS_FILE = Path(__file__).with_name("facts.yaml")
TYPES = ("bool", "int", "number", "enum", "set", "text")
SCOPES = ("household", "member")


@dataclass(frozen=True, slots=True)
class FactSpec:
    scope: str
    name: str
    type: str
    label: str
    ask: str
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    default: Any = None

    @property
    def path(self) -> str:
        return f"{self.scope}.{self.name}"

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "number")

    def check(self, value: Any) -> Any:
        """Return the value normalised, or raise ValueError with a Chinese reason."""
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError(f"应为 true 或 false，实际是 {value!r}")
        if self.numeric:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"应为数字，实际是 {value!r}")
            if self.type == "int" and float(value) != int(value):
                raise ValueError(f"应为整数，实际是 {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"不能小于 {self.minimum:g}，实际是 {value!r}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"不能大于 {self.maximum:g}，实际是 {value!r}")
            return int(value) if self.type == "int" else value
        if self.type == "enum":
            if value not in self.values:
                raise ValueError(f"应为 {'、'.join(self.values)} 之一，实际是 {value!r}")
            return value
        if self.type == "set":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list):
                raise ValueError(f"应为列表，实际是 {value!r}")
            bad = [v for v in items if v not in self.values]
            if bad:
                raise ValueError(f"{'、'.join(map(str, bad))} 不在可选值（{'、'.join(self.values)}）中")
            return frozenset(items)
        if not isinstance(value, str):
            raise ValueError(f"应为文本，实际是 {value!r}")
        return value


class FactModel:
    """All facts by path (`member.age`), and by scope and name."""

    def __init__(self, specs: list[FactSpec]) -> None:
        self.by_path = {s.path: s for s in specs}
        self.household = {s.name: s for s in specs if s.scope == "household"}
        self.member = {s.name: s for s in specs if s.scope == "member"}

    def get(self, path: str) -> FactSpec | None:
        return self.by_path.get(path)

    def household_defaults(self) -> dict[str, Any]:
        return {n: s.default for n, s in self.household.items() if s.default is not None}

    def member_defaults(self) -> dict[str, Any]:
        return {n: s.default for n, s in self.member.items() if s.default is not None}


def parse_fact_model(path: Path = FACTS_FILE) -> FactModel:
    data = checks.mapping(load_yaml(path), str(path), 1, "facts.yaml")
    checks.keys(data, str(path), "facts.yaml", SCOPES)
    specs: list[FactSpec] = []
    for scope in SCOPES:
        group = checks.mapping(data[scope], str(path), data.line_of(scope), scope)
        for name, raw in group.items():
            what = f"事实 {scope}.{name}"
            raw = checks.mapping(raw, str(path), group.line_of(name), what)
            checks.keys(raw, str(path), what, ("type", "label", "ask"), ("values", "min", "max", "unit", "default"))
            ftype = raw["type"]
            if ftype not in TYPES:
                raise KBError(path, raw.line_of("type"), f"{what} 的类型 '{ftype}' 未知（允许：{', '.join(TYPES)}）")
            values = tuple(checks.text_list(raw, "values", str(path), what))
            if ftype in ("enum", "set") and not values:
                raise KBError(path, raw.line, f"{what} 是 {ftype}，必须给出 values")
            specs.append(
                FactSpec(
                    scope=scope,
                    name=name,
                    type=ftype,
                    label=checks.text(raw, "label", str(path), what) or name,
                    ask=checks.text(raw, "ask", str(path), what) or "",
                    values=values,
                    minimum=checks.typed(raw, "min", (int, float), str(path), what),
                    maximum=checks.typed(raw, "max", (int, float), str(path), what),
                    unit=checks.text(raw, "unit", str(path), what, "") or "",
                    default=raw.get("default"),
                )
            )
    return FactModel(specs)


@lru_cache(maxsize=1)
def fact_model() -> FactModel:
    """The project's fact model, read once per process."""
    return parse_fact_model()


__all__ = ["FactSpec", "FactModel", "fact_model", "parse_fact_model"]
