"""Household facts a message states, read by the rules in lexicon_data/fact_words.yaml.

Each rule says which facts its words set, with negation (不是低保 → not 低保, 冇住校 → not boarding)
and wishes (想当低保, 能进特困吗 set nothing) read from the words right before the match in the same
clause. Values are checked against the household model (policy_kb/facts.yaml) when the file is
loaded, so a rule cannot set a fact or a value that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from foundation import checks
from foundation.datafile import DataFileError, load_data
from policy_kb.facts import FactSpec, fact_model
from understanding.numerals import to_digits

FACT_WORDS_FILE = Path(__file__).parent / "lexicon_data" / "fact_words.yaml"
NUMBER = r"[\d一二两三四五六七八九十百千零〇]+"
MONEY = r"[\d一二两三四五六七八九十百千万零〇点.]+"
CLAUSES_KEPT = 2048  # clauses whose facts are remembered (a description is read whole and part by part)
_CLAUSE = re.compile(r"[，,。；;！!？?\n]+")
_GROUP = re.compile(r"\$(\d)")
_CHINESE = {"1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六"}


@dataclass(frozen=True, slots=True)
class Rule:
    sets: tuple[tuple[FactSpec, Any], ...]
    patterns: tuple[re.Pattern, ...]
    negated: tuple[tuple[FactSpec, Any], ...] | None
    wish: bool
    override: bool = False


@dataclass(frozen=True, slots=True)
class FactWords:
    rules: tuple[Rule, ...]
    negation: re.Pattern  # matches at the end of the text before a mention
    wish: re.Pattern
    memo: Callable[[str], tuple[tuple[FactSpec, Any, bool], ...]] | None = None  # clause_facts, remembered

    def read(self, text: str) -> dict[str, Any]:
        """fact path -> value, for every fact the text states (set facts as frozensets)."""
        found: dict[str, Any] = {}
        for clause in _CLAUSE.split(text):
            if not clause:
                continue
            for spec, value, override in (self.memo or self.clause_facts)(clause):
                if spec.type == "set":
                    found[spec.path] = frozenset(found.get(spec.path, frozenset())) | frozenset(value)
                elif override:
                    found[spec.path] = value
                else:
                    found.setdefault(spec.path, value)
        return found

    def clause_facts(self, clause: str) -> tuple[tuple[FactSpec, Any, bool], ...]:
        """What one clause states, in rule order. A household description is read whole and again
        part by part, so the same clause is read several times for one message: the router keeps
        them (`memo`; Understander.clear_cache empties it)."""
        out: list[tuple[FactSpec, Any, bool]] = []
        for rule in self.rules:
            for pattern in rule.patterns:
                for match in pattern.finditer(clause):
                    before = clause[:match.start()]
                    values = rule.sets
                    if self.negation.search(before):  # the word right before decides first: 没低保
                        if rule.negated is None:
                            continue
                        values = rule.negated
                    elif rule.wish and self.wish.search(before):
                        continue
                    for spec, template in values:
                        value = _fill(spec, template, match)
                        if value is not None:
                            out.append((spec, value, rule.override))
        return tuple(out)


def _fill(spec: FactSpec, template: Any, match: re.Match) -> Any:
    """The value a rule gives, with $1… replaced by what the match caught; None when it does not fit."""
    if not isinstance(template, str) or "$" not in template:
        return template
    minus = template.endswith("-1") and spec.numeric
    raw = _GROUP.sub(lambda g: match.group(int(g.group(1))) or "", template.removesuffix("-1") if minus else template)
    try:
        if spec.numeric:
            digits = to_digits(raw.rstrip("点."))
            value: Any = float(digits) - (1 if minus else 0)
            return spec.check(int(value) if spec.type == "int" else value)
        raw = raw.upper()
        if spec.type == "enum" and raw not in spec.values:
            raw = "".join(_CHINESE.get(c, c) for c in to_digits(raw))
        return spec.check(raw)
    except ValueError:
        return None


def _settings(raw: Any, f: str, line: int | None, what: str) -> tuple[tuple[FactSpec, Any], ...]:
    table = checks.mapping(raw, f, line, what)
    model = fact_model()
    out = []
    for path in table:
        spec = model.get(str(path))
        if spec is None:
            raise DataFileError(f, table.line_of(path), f"{what}：没有事实 '{path}'（见 policy_kb/facts.yaml）")
        value = table[path]
        if not (isinstance(value, str) and "$" in value):
            try:
                value = spec.check(value)
            except ValueError as exc:
                raise DataFileError(f, table.line_of(path), f"{what}：{path} {exc}") from exc
        out.append((spec, value))
    return tuple(out)


def _alternatives(words: list[str]) -> str:
    return "(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + ")"


@lru_cache(maxsize=1)
def load_fact_words(path: Path = FACT_WORDS_FILE) -> FactWords:
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("negation", "negation_fillers", "wish", "rules"))
    negation = _alternatives(checks.text_list(data, "negation", f, "negation", 1))
    fillers = _alternatives(checks.text_list(data, "negation_fillers", f, "negation_fillers"))
    wish = _alternatives(checks.text_list(data, "wish", f, "wish", 1))
    rules: list[Rule] = []
    raw_rules = checks.sequence(data["rules"], f, data.line_of("rules"), "rules")
    for i, raw in enumerate(raw_rules):
        line = raw_rules.line_of(i)
        what = f"规则（第 {line} 行）"
        raw = checks.mapping(raw, f, line, what)
        checks.keys(raw, f, what, ("set",), ("words", "match", "negated", "wish", "override"))
        if ("words" in raw) == ("match" in raw):
            raise DataFileError(f, line, f"{what}：要写 words 或 match 其中一个")
        if "words" in raw:
            expressions = [_alternatives(checks.text_list(raw, "words", f, what, 1))]
        else:
            expressions = [e.replace("{n}", NUMBER).replace("{money}", MONEY) for e in checks.text_list(raw, "match", f, what, 1)]
        try:
            patterns = tuple(re.compile(e) for e in expressions)
        except re.error as exc:
            raise DataFileError(f, line, f"{what}：正则写错了：{exc}") from exc
        negated = _settings(raw["negated"], f, raw.line_of("negated"), what) if "negated" in raw else None
        rules.append(Rule(_settings(raw["set"], f, raw.line_of("set"), what), patterns, negated,
                          bool(checks.typed(raw, "wish", (bool,), f, what, False)),
                          bool(checks.typed(raw, "override", (bool,), f, what, False))))
    # "已经纳入特困" is no wish: a wish word right after 已/经 is not one.
    words = FactWords(tuple(rules), re.compile(f"{negation}{fillers}{{0,2}}$"), re.compile(f"(?<!已)(?<!经){wish}[^，。\\s]{{0,3}}$"))
    object.__setattr__(words, "memo", lru_cache(maxsize=CLAUSES_KEPT)(words.clause_facts))
    return words
