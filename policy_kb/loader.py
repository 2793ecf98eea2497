"""Loads and validates the knowledge base; any mistake stops the load with file, line and reason.

Validation is deliberately strict: an unknown key is usually a typo that would silently drop
a condition, and a quote that is not in the source document means an amount nobody can trace.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path
from typing import Any

from foundation import checks
from foundation.datafile import DataFileError, LineDict, ParseCache, line_of
from policy_kb.conditions import ConditionParser, Node, default_violations, param_line
from policy_kb.facts import FACTS_FILE, FactModel, fact_model
from policy_kb.model import (
    CATEGORIES,
    KINDS,
    PERIODS,
    TOPIC_KINDS,
    AmountLine,
    DerivedRule,
    KnowledgeBase,
    Measure,
    Parameter,
    ParamValue,
    Ref,
    Region,
    RegionView,
    Source,
    Topic,
)

PACKAGE_DIR = Path(__file__).parent
DATA_DIR = PACKAGE_DIR / "data"
CACHE_FILE = PACKAGE_DIR.parent / ".cache" / "kb-yaml.pickle"
SOURCES_DIR = PACKAGE_DIR / "sources"

_WHITESPACE = re.compile(r"\s+")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MIN_EXAMPLES = 3
_MEASURE_REQUIRED = ("id", "title", "category", "when", "gives", "how_to_apply", "responsible", "source", "examples", "keywords")
_MEASURE_OPTIONAL = ("mandatory", "target", "amounts", "valid_from", "valid_to", "notes", "replaces", "pick")
MARKED_SOURCE = "mingbaizhi"  # the only text with ★ (必须落实) and ● (可选) marks
PICKS = ("all", "highest")
_PARAM_KEYS = ("label", "unit", "period", "kind", "values")


def squeeze(text: str) -> str:
    """Text with all whitespace removed: the sources break sentences across lines."""
    return _WHITESPACE.sub("", text)


class _Loader:
    def __init__(self, data_dir: Path, sources_dir: Path, facts: FactModel, cache: ParseCache) -> None:
        self.cache = cache
        self.data_dir = data_dir
        self.sources_dir = sources_dir
        self.facts = facts
        self.conditions = ConditionParser(facts)
        self.sources: dict[str, Source] = {}
        self.texts: dict[str, str] = {}  # squeezed, for checking quotes
        self.raw_texts: dict[str, str] = {}  # as published, for answering from the text itself
        self.source_lines: dict[str, int] = {}
        self.regions: dict[str, Region] = {}
        self.default_region = "base"

    # -- sources and regions -------------------------------------------------------------
    def load_sources(self) -> None:
        path = self.data_dir / "sources.yaml"
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, "sources.yaml")
        checks.keys(data, f, "sources.yaml", ("sources",))
        entries = checks.mapping(data["sources"], f, data.line_of("sources"), "sources")
        for sid, raw in entries.items():
            what = f"文件来源 {sid}"
            raw = checks.mapping(raw, f, entries.line_of(sid), what)
            checks.keys(raw, f, what, ("file", "title", "region"), ("number", "issued", "valid_from", "valid_to", "date_text", "validity_quote"))
            text_path = self.sources_dir / str(raw["file"])
            if not text_path.is_file():
                raise DataFileError(f, raw.line_of("file"), f"{what} 的原文文件 {text_path.name} 不存在于 {self.sources_dir}")
            source = Source(
                id=sid,
                file=checks.text(raw, "file", f, what) or "",
                title=checks.text(raw, "title", f, what) or "",
                region=checks.text(raw, "region", f, what) or "",
                number=checks.text(raw, "number", f, what, "") or "",
                issued=checks.date(raw, "issued", f, what),
                valid_from=checks.date(raw, "valid_from", f, what),
                valid_to=checks.date(raw, "valid_to", f, what),
                date_text=checks.text(raw, "date_text", f, what, "") or "",
                validity_quote=checks.text(raw, "validity_quote", f, what, "") or "",
            )
            if source.valid_from and source.valid_to and source.valid_from > source.valid_to:
                raise DataFileError(f, raw.line_of("valid_to"), f"{what} 的有效期结束日期早于开始日期")
            self.sources[sid] = source
            self.source_lines[sid] = raw.line_of("region")
            self.raw_texts[sid] = text_path.read_text(encoding="utf-8")
            self.texts[sid] = squeeze(self.raw_texts[sid])
            if source.validity_quote:
                self.check_quote(sid, source.validity_quote, f, raw.line_of("validity_quote"))

    def load_regions(self) -> None:
        path = self.data_dir / "regions.yaml"
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, "regions.yaml")
        checks.keys(data, f, "regions.yaml", ("default", "regions"))
        entries = checks.mapping(data["regions"], f, data.line_of("regions"), "regions")
        for rid, raw in entries.items():
            what = f"地区 {rid}"
            raw = checks.mapping(raw, f, entries.line_of(rid), what)
            checks.keys(raw, f, what, ("name",), ("full_name", "parent", "aliases", "place"))
            parent = checks.text(raw, "parent", f, what)
            if parent is not None and parent not in entries:
                raise DataFileError(f, raw.line_of("parent"), f"{what} 的上级地区 '{parent}' 不存在")
            name = checks.text(raw, "name", f, what) or rid
            place = None
            if "place" in raw:
                where = checks.mapping(raw["place"], f, raw.line_of("place"), f"{what} 的 place")
                checks.keys(where, f, f"{what} 的 place", ("province", "city", "county"))
                place = tuple(str(checks.text(where, k, f, what)) for k in ("province", "city", "county"))
            self.regions[rid] = Region(
                id=rid,
                name=name,
                full_name=checks.text(raw, "full_name", f, what, name) or name,
                parent=parent,
                aliases=tuple(checks.text_list(raw, "aliases", f, what)),
                place=place,  # type: ignore[arg-type]
            )
        if "base" not in self.regions:
            raise DataFileError(f, data.line_of("regions"), "必须有基础地区 'base'")
        default = data["default"]
        if default not in self.regions:
            raise DataFileError(f, data.line_of("default"), f"默认地区 '{default}' 不在 regions 中")
        self.default_region = default
        for sid, source in self.sources.items():
            if source.region not in self.regions:
                raise DataFileError(self.data_dir / "sources.yaml", self.source_lines[sid], f"文件来源 {sid} 的地区 '{source.region}' 不在 regions.yaml 中")

    # -- references ----------------------------------------------------------------------
    def check_quote(self, sid: str, quote: str, f: str, line: int | None) -> None:
        if squeeze(quote) not in self.texts[sid]:
            raise DataFileError(f, line, f"引文不在原文 {self.sources[sid].file} 中：「{quote}」")

    def ref(self, raw: Any, f: str, line: int | None, what: str, region: str | None) -> Ref:
        """A reference; `region` None: any document may be cited (a topic that names it)."""
        raw = checks.mapping(raw, f, line, what)
        checks.keys(raw, f, what, ("source", "section", "quote"), ("note",))
        sid = raw["source"]
        if sid not in self.sources:
            raise DataFileError(f, raw.line_of("source"), f"{what} 引用了不存在的文件来源 '{sid}'（见 sources.yaml）")
        if region is not None and self.sources[sid].region not in ("base", region):
            raise DataFileError(f, raw.line_of("source"), f"{what} 属于地区 {region}，不能引用 {self.sources[sid].region} 的文件 {sid}")
        quote = checks.text(raw, "quote", f, what) or ""
        self.check_quote(sid, quote, f, raw.line_of("quote"))
        return Ref(source=sid, section=str(raw["section"]), quote=quote, note=checks.text(raw, "note", f, what, "") or "")

    # -- parameters ----------------------------------------------------------------------
    def parameter(self, pid: str, raw: Any, f: str, line: int | None, region: str, base: Parameter | None) -> Parameter:
        what = f"参数 {pid}"
        if not isinstance(pid, str) or not _ID.match(pid):
            raise DataFileError(f, line, f"参数名 '{pid}' 应为小写字母、数字和点组成，如 edu.grant.junior_boarding")
        raw = checks.mapping(raw, f, line, what)
        if base is not None and set(raw) == {"values"}:
            checks.keys(raw, f, what, ("values",))
            template = base
        else:
            checks.keys(raw, f, what, _PARAM_KEYS)
            template = None
            if raw["period"] not in PERIODS:
                raise DataFileError(f, raw.line_of("period"), f"{what} 的 period '{raw['period']}' 未知（允许：{', '.join(PERIODS)}）")
            if raw["kind"] not in KINDS:
                raise DataFileError(f, raw.line_of("kind"), f"{what} 的 kind '{raw['kind']}' 未知（允许：{', '.join(KINDS)}）")
        values_raw = checks.mapping(raw["values"], f, raw.line_of("values"), f"{what} 的 values")
        if not values_raw:
            raise DataFileError(f, raw.line_of("values"), f"{what} 至少要有一个带日期的值")
        values: list[ParamValue] = []
        previous = None
        for start, entry in values_raw.items():
            at = values_raw.line_of(start)
            if not hasattr(start, "isoformat") or hasattr(start, "hour"):
                raise DataFileError(f, at, f"{what} 的生效日期应写成 YYYY-MM-DD，实际是 {start!r}")
            if previous is not None and start <= previous:
                raise DataFileError(f, at, f"{what} 的日期重叠或顺序错误：{start} 不晚于上一个日期 {previous}")
            previous = start
            entry = checks.mapping(entry, f, at, f"{what} 在 {start} 的值")
            checks.keys(entry, f, f"{what} 在 {start} 的值", (), ("value", "ref", "date_text", "unknown"))
            value = entry.get("value", None)
            unknown = checks.text(entry, "unknown", f, what, "") or ""
            if "value" not in entry and not unknown:
                raise DataFileError(f, entry.line, f"{what} 在 {start} 需要 value（数字，或 null 表示停止）或 unknown（文件没给出数字时怎么说）")
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value != value):
                raise DataFileError(f, entry.line_of("value"), f"{what} 在 {start} 的值应为数字或 null，实际是 {value!r}")
            if unknown and value is not None:
                raise DataFileError(f, entry.line_of("unknown"), f"{what} 在 {start} 既有数字又写了 unknown，只能二选一")
            ref = None
            if value is not None or unknown:
                if "ref" not in entry:
                    raise DataFileError(f, entry.line, f"{what} 在 {start} 的值缺少出处 ref（source/section/quote）")
                ref = self.ref(entry["ref"], f, entry.line_of("ref"), f"{what} 在 {start} 的出处", region)
            values.append(ParamValue(start=start, value=value, ref=ref, date_text=checks.text(entry, "date_text", f, what, "") or "",
                                     unknown=unknown))
        if template is not None:
            # An override takes effect from its first date; before that the base values still hold.
            earlier = [v for v in template.values if v.start < values[0].start]
            return Parameter(pid, template.label, template.unit, template.period, template.kind, earlier + values, region, f, line or 0)
        return Parameter(
            id=pid,
            label=checks.text(raw, "label", f, what) or pid,
            unit=checks.typed(raw, "unit", (str,), f, what, "") or "",
            period=raw["period"],
            kind=raw["kind"],
            values=values,
            region=region,
            file=f,
            line=line or 0,
        )

    def parameter_file(self, path: Path, region: str, into: dict[str, Parameter], base: dict[str, Parameter]) -> None:
        f = str(path)
        data = self.cache.load(path)
        if data is None:
            return
        data = checks.mapping(data, f, 1, path.name)
        for pid, raw in data.items():
            if pid in into and (region == "base" or into[pid].region == region):
                raise DataFileError(f, data.line_of(pid), f"参数 '{pid}' 重复定义（已在 {into[pid].file}:{into[pid].line}）")
            into[pid] = self.parameter(pid, raw, f, data.line_of(pid), region, base.get(pid))

    # -- measures ------------------------------------------------------------------------
    def condition(self, raw: Any, f: str, line: int | None, member: bool) -> Node:
        return self.conditions.parse(raw, f, line, member)

    def measure(self, raw: Any, f: str, line: int | None, region: str) -> Measure:
        raw = checks.mapping(raw, f, line, "措施")
        mid = raw.get("id")
        what = f"措施 {mid or '(无 id)'}"
        checks.keys(raw, f, what, _MEASURE_REQUIRED, _MEASURE_OPTIONAL)
        if not isinstance(mid, str) or not _ID.match(mid):
            raise DataFileError(f, raw.line_of("id"), f"措施 id '{mid}' 应为小写字母、数字和点组成")
        category = raw["category"]
        if category not in CATEGORIES:
            raise DataFileError(f, raw.line_of("category"), f"{what} 的类别 '{category}' 未知（允许：{'、'.join(CATEGORIES)}）")
        target = raw.get("target", "household")
        if target not in ("household", "member"):
            raise DataFileError(f, raw.line_of("target"), f"{what} 的 target 应为 household 或 member，实际是 {target!r}")
        member = target == "member"
        source_ref = self.ref(raw["source"], f, raw.line_of("source"), f"{what} 的出处", region)
        if source_ref.source == MARKED_SOURCE and "mandatory" not in raw:
            raise DataFileError(f, raw.line, f"{what} 出自明白纸，要写 mandatory: true（★必须落实）或 false（●可选）")
        if source_ref.source != MARKED_SOURCE and "mandatory" in raw:
            raise DataFileError(f, raw.line_of("mandatory"), f"{what}：★/● 是明白纸的标记，{self.sources[source_ref.source].title}没有这种分法，不要写 mandatory")
        mandatory = checks.typed(raw, "mandatory", (bool,), f, what)
        pick = checks.text(raw, "pick", f, what, "all") or "all"
        if pick not in PICKS:
            raise DataFileError(f, raw.line_of("pick"), f"{what} 的 pick 应为 {' 或 '.join(PICKS)}")
        amounts: list[AmountLine] = []
        if "amounts" in raw:
            seq = checks.sequence(raw["amounts"], f, raw.line_of("amounts"), f"{what} 的 amounts")
            for i, item in enumerate(seq):
                at = line_of(seq, i)
                item = checks.mapping(item, f, at, f"{what} 的第 {i + 1} 个金额")
                checks.keys(item, f, f"{what} 的第 {i + 1} 个金额", ("parameter",), ("when", "label", "note", "named"))
                cond = self.condition(item["when"], f, item.line_of("when"), member) if "when" in item else None
                if cond is not None:
                    self.check_defaults(cond, f, f"{what} 的第 {i + 1} 个金额")
                amounts.append(AmountLine(parameter=str(item["parameter"]), when=cond, label=checks.text(item, "label", f, what, "") or "",
                                          line=item.line_of("parameter"), note=checks.text(item, "note", f, what, "") or "",
                                          named=checks.typed(item, "named", (bool,), f, what) or False))
        when = self.condition(raw["when"], f, raw.line_of("when"), member)
        self.check_defaults(when, f, what)
        measure = Measure(
            id=mid,
            title=checks.text(raw, "title", f, what) or "",
            category=category,
            mandatory=mandatory,
            target=target,
            when=when,
            gives=checks.text(raw, "gives", f, what) or "",
            amounts=tuple(amounts),
            how_to_apply=checks.text(raw, "how_to_apply", f, what) or "",
            responsible=tuple(checks.text_list(raw, "responsible", f, what, minimum=1)),
            source=source_ref,
            examples=tuple(checks.text_list(raw, "examples", f, what, minimum=MIN_EXAMPLES)),
            keywords=tuple(checks.text_list(raw, "keywords", f, what, minimum=1)),
            region=region,
            valid_from=checks.date(raw, "valid_from", f, what),
            valid_to=checks.date(raw, "valid_to", f, what),
            notes=checks.text(raw, "notes", f, what, "") or "",
            replaces=checks.text(raw, "replaces", f, what, "") or "",
            pick=pick,
            file=f,
            line=line or 0,
        )
        if measure.valid_from and measure.valid_to and measure.valid_from > measure.valid_to:
            raise DataFileError(f, raw.line_of("valid_to"), f"{what} 的 valid_to 早于 valid_from")
        if measure.replaces and region == "base":
            raise DataFileError(f, raw.line_of("replaces"), f"{what}：只有地区文件中的措施可以 replaces 基础措施")
        return measure

    def check_defaults(self, condition: Node, f: str, what: str) -> None:
        """A default may only take an entitlement away: no condition a default can make true."""
        defaults = {s.path: s.default for s in self.facts.by_path.values() if s.default is not None}
        for leaf, value in default_violations(condition, defaults):
            path = next(p for p in leaf.paths if p in defaults)
            raise DataFileError(f, leaf.line, f"{what}：事实 {path} 没人说时默认为 {value!r}，这个默认值会让条件成立、让措施适用。"
                                        "默认值只能让措施不适用：请改写条件（让这一项必须由家里说明），或去掉该事实的 default")

    def derived_rules(self) -> tuple[DerivedRule, ...]:
        """facts.yaml's `derived`, compiled: the condition may test household or member facts."""
        rules = []
        for raw in self.facts.derived:
            member = any(target.startswith("member.") for target, _ in raw.sets)
            when = self.condition(raw.when, self.facts.file, raw.line, member)
            self.check_defaults(when, self.facts.file, "derived")
            sets = tuple((t.split(".", 1)[0], t.split(".", 1)[1], self.facts.by_path[t].check(v)) for t, v in raw.sets)
            rules.append(DerivedRule(when, sets, raw.why, raw.line, raw.quiet))
        return tuple(rules)

    def measure_file(self, path: Path, region: str) -> list[Measure]:
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, path.name)
        checks.keys(data, f, path.name, ("measures",))
        seq = checks.sequence(data["measures"], f, data.line_of("measures"), "measures")
        return [self.measure(item, f, line_of(seq, i), region) for i, item in enumerate(seq)]

    # -- topics (procedures, thresholds, validity, forms) ------------------------------------
    def topic(self, raw: Any, f: str, line: int | None, region: str) -> Topic:
        raw = checks.mapping(raw, f, line, "知识条目")
        tid = raw.get("id")
        what = f"知识条目 {tid or '(无 id)'}"
        checks.keys(raw, f, what, ("id", "kind", "title", "answer", "source", "examples", "keywords"), ("replaces", "with_month", "follows"))
        if not isinstance(tid, str) or not _ID.match(tid):
            raise DataFileError(f, raw.line_of("id"), f"知识条目 id '{tid}' 应为小写字母、数字和点组成")
        if raw["kind"] not in TOPIC_KINDS:
            raise DataFileError(f, raw.line_of("kind"), f"{what} 的 kind '{raw['kind']}' 未知（允许：{', '.join(TOPIC_KINDS)}）")
        answer = checks.text(raw, "answer", f, what) or ""
        for name in _PLACEHOLDER.findall(answer):
            kind, _, target = name.partition(":")
            if kind == "validity" and target not in self.sources:
                raise DataFileError(f, raw.line_of("answer"), f"{what} 的 answer 中 {{{name}}}：没有这个文件来源")
            if kind not in ("param", "validity"):
                raise DataFileError(f, raw.line_of("answer"), f"{what} 的 answer 中 {{{name}}} 不认识（可用 {{param:参数}}、{{validity:文件来源}}）")
        return Topic(
            id=tid, kind=str(raw["kind"]), title=checks.text(raw, "title", f, what) or "", answer=answer,
            source=self.ref(raw["source"], f, raw.line_of("source"), f"{what} 的出处", None),
            examples=tuple(checks.text_list(raw, "examples", f, what, minimum=MIN_EXAMPLES)),
            keywords=tuple(checks.text_list(raw, "keywords", f, what, minimum=1)),
            region=region, replaces=checks.text(raw, "replaces", f, what, "") or "", file=f, line=line or 0,
            with_month=self.month_template(raw, f, what), follows=checks.text(raw, "follows", f, what, "") or "",
        )

    @staticmethod
    def month_template(raw: LineDict, f: str, what: str) -> str:
        template = checks.text(raw, "with_month", f, what, "") or ""
        for name in re.findall(r"\{([^{}]*)\}", template):
            if name not in ("month", "start", "end"):
                raise DataFileError(f, raw.line_of("with_month"), f"{what} 的 with_month 中 {{{name}}} 不认识（可用 {{month}}、{{start}}、{{end}}）")
        return template

    def topics_in(self, data: LineDict, f: str, region: str) -> list[Topic]:
        seq = checks.sequence(data["topics"], f, data.line_of("topics"), "topics")
        return [self.topic(item, f, line_of(seq, i), region) for i, item in enumerate(seq)]

    @staticmethod
    def check_topic_params(topics: list[Topic], params: dict[str, Parameter], region: str) -> None:
        ids = {t.id for t in topics}
        for topic in topics:
            if topic.follows and topic.follows not in ids:
                raise DataFileError(topic.file, topic.line, f"知识条目 {topic.id} 的 follows '{topic.follows}' 不是这个地区的知识条目（地区 {region}）")
            for name in _PLACEHOLDER.findall(topic.answer):
                if name.startswith("param:") and name[6:] not in params:
                    raise DataFileError(topic.file, topic.line, f"知识条目 {topic.id} 引用了不存在的参数 '{name[6:]}'（地区 {region}）")

    # -- assembling regions --------------------------------------------------------------
    def check_measure_params(self, measure: Measure, params: dict[str, Parameter], region: str) -> None:
        """Every parameter a measure names exists in the region; errors point at the referring line."""
        refs: list[tuple[str, int | None]] = [(p, param_line(measure.when, p)) for p in sorted(measure.when.params)]
        for amount in measure.amounts:
            refs.append((amount.parameter, amount.line))
            if amount.when is not None:
                refs += [(p, param_line(amount.when, p)) for p in sorted(amount.when.params)]
        for name, line in refs:
            if name not in params:
                raise DataFileError(measure.file, line or measure.line, f"措施 {measure.id} 引用了不存在的参数 '{name}'（地区 {region}）")
        for amount in measure.amounts:
            if params[amount.parameter].kind == "limit":
                raise DataFileError(measure.file, amount.line or measure.line, f"措施 {measure.id} 的金额用了 kind: limit 的参数 '{amount.parameter}'（limit 只用于条件）")

    def load(self) -> KnowledgeBase:
        self.load_sources()
        self.load_regions()
        base_params: dict[str, Parameter] = {}
        for path in sorted((self.data_dir / "parameters").glob("*.yaml")):
            self.parameter_file(path, "base", base_params, {})
        base_measures: list[Measure] = []
        ids: dict[str, Measure] = {}
        for path in sorted((self.data_dir / "measures").glob("*.yaml")):
            for measure in self.measure_file(path, "base"):
                self.remember(measure, ids)
                base_measures.append(measure)
        if not base_measures:
            raise DataFileError(self.data_dir / "measures", None, "没有任何基础措施")
        for path in sorted((self.data_dir / "regions").glob("*.yaml")):
            if path.stem not in self.regions or path.stem == "base":
                raise DataFileError(path, None, f"地区文件 {path.name} 没有对应的地区（请在 regions.yaml 中添加 '{path.stem}'）")
        base_topics: list[Topic] = []
        topic_ids: dict[str, Topic] = {}
        for path in sorted((self.data_dir / "topics").glob("*.yaml")):
            data = checks.mapping(self.cache.load(path), str(path), 1, path.name)
            checks.keys(data, str(path), path.name, ("topics",))
            for topic in self.topics_in(data, str(path), "base"):
                if topic.replaces:
                    raise DataFileError(topic.file, topic.line, f"知识条目 {topic.id}：只有地区文件中的条目可以 replaces")
                self.remember(topic, topic_ids)
                base_topics.append(topic)
        views = {"base": self.view(self.regions["base"], base_params, base_measures, topics=base_topics)}
        for rid, region in self.regions.items():
            if rid == "base":
                continue
            views[rid] = self.overlay(region, base_params, base_measures, ids, base_topics, topic_ids)
        derived = self.derived_rules()
        for rule in derived:
            for name in sorted(rule.when.params):
                if name not in base_params:
                    raise DataFileError(self.facts.file, rule.line, f"derived 引用了不存在的参数 '{name}'")
        return KnowledgeBase(self.sources, self.regions, self.default_region, views, self.raw_texts, derived)

    @staticmethod
    def remember(item: Measure | Topic, ids: dict) -> None:
        if item.id in ids:
            other = ids[item.id]
            raise DataFileError(item.file, item.line, f"id '{item.id}' 重复（已在 {other.file}:{other.line}）")
        ids[item.id] = item

    def view(self, region: Region, params: dict[str, Parameter], measures: list[Measure], dropped: tuple[str, ...] = (),
             topics: list[Topic] | None = None) -> RegionView:
        for measure in measures:
            self.check_measure_params(measure, params, region.id)
        self.check_topic_params(topics or [], params, region.id)
        return RegionView(region=region, parameters=params, measures=measures, dropped=dropped, topics=list(topics or []))

    def overlay(self, region: Region, base_params: dict[str, Parameter], base_measures: list[Measure], ids: dict[str, Measure],
                base_topics: list[Topic], topic_ids: dict[str, Topic]) -> RegionView:
        path = self.data_dir / "regions" / f"{region.id}.yaml"
        if not path.is_file():
            return self.view(region, base_params, base_measures, topics=base_topics)
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, path.name)
        checks.keys(data, f, path.name, ("region",), ("parameters", "measures", "drop", "topics"))
        if data["region"] != region.id:
            raise DataFileError(f, data.line_of("region"), f"文件名是 {region.id}，但 region 写的是 '{data['region']}'")
        params = dict(base_params)
        if "parameters" in data:
            overrides = checks.mapping(data["parameters"], f, data.line_of("parameters"), "parameters")
            for pid, raw in overrides.items():
                at = overrides.line_of(pid)
                if isinstance(raw, dict) and set(raw) == {"values"} and pid not in base_params:
                    raise DataFileError(f, at, f"覆盖的参数 '{pid}' 在基础政策中不存在（新参数需写 label/unit/period/kind）")
                if pid in base_params and set(raw or {}) != {"values"}:
                    raise DataFileError(f, at, f"参数 '{pid}' 已在基础政策中定义：地区文件只能覆盖它的 values")
                params[pid] = self.parameter(pid, raw, f, at, region.id, base_params.get(pid))
        dropped = tuple(checks.text_list(data, "drop", f, "drop"))
        base_ids = {m.id for m in base_measures}
        for mid in dropped:
            if mid not in base_ids:
                raise DataFileError(f, data.line_of("drop"), f"drop 中的措施 '{mid}' 在基础政策中不存在")
        added: list[Measure] = []
        if "measures" in data:
            seq = checks.sequence(data["measures"], f, data.line_of("measures"), "measures")
            for i, item in enumerate(seq):
                measure = self.measure(item, f, line_of(seq, i), region.id)
                self.remember(measure, ids)
                if measure.replaces and measure.replaces not in base_ids:
                    raise DataFileError(f, measure.line, f"措施 {measure.id} 要替换的基础措施 '{measure.replaces}' 不存在")
                added.append(measure)
        replaced = {m.replaces: m for m in added if m.replaces}
        merged = [replaced.get(m.id, m) for m in base_measures if m.id not in dropped]
        merged += [m for m in added if not m.replaces]
        own_topics = self.topics_in(data, f, region.id) if "topics" in data else []
        base_topic_ids = {t.id for t in base_topics}
        for topic in own_topics:
            self.remember(topic, topic_ids)
            if topic.replaces and topic.replaces not in base_topic_ids:
                raise DataFileError(f, topic.line, f"知识条目 {topic.id} 要替换的基础条目 '{topic.replaces}' 不存在")
        swapped = {t.replaces: t for t in own_topics if t.replaces}
        topics = [swapped.get(t.id, t) for t in base_topics] + [t for t in own_topics if not t.replaces]
        return self.view(region, params, merged, dropped, topics)


def load_kb(data_dir: Path | str | None = None, sources_dir: Path | str | None = None, facts: FactModel | None = None) -> KnowledgeBase:
    """Load and validate the whole knowledge base. Raises DataFileError on the first mistake."""
    cache = ParseCache(CACHE_FILE if data_dir is None else None)
    loader = _Loader(Path(data_dir) if data_dir else DATA_DIR, Path(sources_dir) if sources_dir else SOURCES_DIR, facts or fact_model(), cache)
    kb = loader.load()
    cache.save()
    return kb


_CACHE: dict[tuple[str, str], KnowledgeBase] = {}
VALIDATED_FILE = PACKAGE_DIR.parent / ".cache" / "kb-validated.pickle"


def _inputs_fingerprint() -> str:
    """Every file the knowledge base is made from, and the code that validates it, by name, size
    and modification time: if none changed, the validated knowledge base of last time is still it."""
    digest = hashlib.sha256()
    files = [*sorted(DATA_DIR.rglob("*.yaml")), *sorted(SOURCES_DIR.glob("*.txt")), FACTS_FILE, *sorted(PACKAGE_DIR.glob("*.py")),
             *sorted((PACKAGE_DIR.parent / "foundation").glob("*.py"))]
    for path in files:
        stat = path.stat()
        digest.update(f"{path}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def default_kb() -> KnowledgeBase:
    """The project's knowledge base, loaded once per process.

    Validation runs whenever a data file (or the validating code) changed; otherwise the knowledge
    base validated last time is read back from the project cache. `kb check` always validates.
    """
    key = (str(DATA_DIR), str(SOURCES_DIR))
    if key not in _CACHE:
        _CACHE[key] = _validated_or_load()
    return _CACHE[key]


def _validated_or_load() -> KnowledgeBase:
    fingerprint = _inputs_fingerprint()
    try:
        with VALIDATED_FILE.open("rb") as f:
            stored, kb = pickle.load(f)
        if stored == fingerprint and isinstance(kb, KnowledgeBase):
            return kb
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError, ImportError):
        pass
    kb = load_kb()
    try:
        VALIDATED_FILE.parent.mkdir(parents=True, exist_ok=True)
        partial = VALIDATED_FILE.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            pickle.dump((fingerprint, kb), f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(VALIDATED_FILE)
    except OSError:
        pass  # a read-only checkout validates on every start
    return kb


__all__ = ["load_kb", "default_kb", "DataFileError", "LineDict", "squeeze"]
