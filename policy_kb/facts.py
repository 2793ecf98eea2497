"""The household model: which facts exist, their types, labels and the question that asks them.

The model is data (`facts.yaml`) so that policy staff can add a fact and its question without
code; both the knowledge-base loader (to check conditions) and the household parser use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from foundation import checks
from foundation.datafile import DataFileError, line_of, load_data

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
    say: str = ""
    say_any: str = ""  # an enum's phrase for "any value but the first" (有残疾: 一级…四级, not 无)
    say_not: tuple[tuple[str, str], ...] = ()  # an enum's phrase for "not this value" (不是无劳动能力: 有劳动能力)
    judged_by: str = ""

    @property
    def path(self) -> str:
        return f"{self.scope}.{self.name}"

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "number")

    def phrase(self, value: Any) -> str:
        """How a reason names this fact with `value` (see `say` in facts.yaml)."""
        if isinstance(value, frozenset | list | tuple | set):
            value = "、".join(sorted(value))
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.type == "bool":
            if value is True:
                return self.say or self.label
            return f"不是{self.say or self.label}"
        if self.say:
            return self.say.format(value=value)
        return f"{self.label}{value}{self.unit}"

    def check(self, value: Any) -> Any:
        """Return the value normalised, or raise ValueError with a Chinese reason."""
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError(f"应为 true 或 false，实际是 {value!r}")
        if self.numeric:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
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


@dataclass(frozen=True, slots=True)
class DerivedRaw:
    """A derivation as written in facts.yaml; the knowledge-base loader compiles its condition."""

    when: Any
    sets: tuple[tuple[str, Any], ...]
    why: str
    line: int
    quiet: bool = False  # a step to another fact, or too plain to say: not in the read-back


class FactModel:
    """All facts by path (`member.age`), and by scope and name; and the derivations."""

    def __init__(self, specs: list[FactSpec], derived: tuple[DerivedRaw, ...] = (), file: str = "") -> None:
        self.file = file
        self.derived = derived
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
    data = checks.mapping(load_data(path), str(path), 1, "facts.yaml")
    checks.keys(data, str(path), "facts.yaml", SCOPES, ("derived",))
    specs: list[FactSpec] = []
    for scope in SCOPES:
        group = checks.mapping(data[scope], str(path), data.line_of(scope), scope)
        for name, raw in group.items():
            what = f"事实 {scope}.{name}"
            raw = checks.mapping(raw, str(path), group.line_of(name), what)
            checks.keys(raw, str(path), what, ("type", "label", "ask"), ("values", "min", "max", "unit", "default", "say", "say_any", "say_not", "judged_by"))
            ftype = raw["type"]
            if ftype not in TYPES:
                raise DataFileError(path, raw.line_of("type"), f"{what} 的类型 '{ftype}' 未知（允许：{', '.join(TYPES)}）")
            values = tuple(checks.text_list(raw, "values", str(path), what))
            if ftype in ("enum", "set") and not values:
                raise DataFileError(path, raw.line, f"{what} 是 {ftype}，必须给出 values")
            say_not = checks.mapping(raw.get("say_not") or {}, str(path), raw.line_of("say_not") or raw.line, f"{what} 的 say_not")
            for value, phrase in say_not.items():
                if value not in values or not isinstance(phrase, str) or not phrase.strip():
                    raise DataFileError(path, say_not.line_of(value) or raw.line,
                                        f"{what} 的 say_not：'{value}' 要是 values 里的值，对应一句非空的话")
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
                    say=checks.text(raw, "say", str(path), what, "") or "",
                    say_any=checks.text(raw, "say_any", str(path), what, "") or "",
                    say_not=tuple((str(k), str(v)) for k, v in say_not.items()),
                    judged_by=checks.text(raw, "judged_by", str(path), what, "") or "",
                )
            )
    model = FactModel(specs)
    for spec in specs:
        if spec.default is not None:
            try:
                spec.check(spec.default)
            except ValueError as exc:
                raise DataFileError(path, data[spec.scope][spec.name].line_of("default"), f"事实 {spec.path} 的默认值{exc}") from None
    derived = []
    for i, raw in enumerate(checks.sequence(data.get("derived") or [], str(path), data.line_of("derived"), "derived")):
        at = line_of(data["derived"], i)
        raw = checks.mapping(raw, str(path), at, "derived")
        checks.keys(raw, str(path), "derived", ("when", "set", "why"), ("quiet",))
        if not isinstance(raw.get("quiet", False), bool):
            raise DataFileError(path, raw.line_of("quiet"), "derived 的 quiet 应为 true 或 false")
        sets = checks.mapping(raw["set"], str(path), raw.line_of("set"), "derived 的 set")
        for target, value in sets.items():
            spec = model.get(str(target))
            if spec is None:
                raise DataFileError(path, raw.line_of("set"), f"derived 的 set 中 '{target}' 不是已知事实")
            try:
                spec.check(value)
            except ValueError as exc:
                raise DataFileError(path, raw.line_of("set"), f"derived 的 set 中 {target} {exc}") from None
        derived.append(DerivedRaw(raw["when"], tuple(sets.items()), checks.text(raw, "why", str(path), "derived") or "", at,
                                  raw.get("quiet", False)))
    return FactModel(specs, tuple(derived), str(path))


@lru_cache(maxsize=1)
def fact_model() -> FactModel:
    """The project's fact model, read once per process."""
    return parse_fact_model()


__all__ = ["DerivedRaw", "FactSpec", "FactModel", "fact_model", "parse_fact_model"]
