"""Loads and validates the knowledge base; any mistake stops the load with file, line and reason.

Validation is deliberately strict: an unknown key is usually a typo that would silently drop
a condition, and a quote that is not in the source document means an amount nobody can trace.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eligibility.facts import FactModel, fact_model
from policy_kb import checks
from policy_kb.conditions import ConditionParser, Node, param_line
from policy_kb.model import (
    CATEGORIES,
    KINDS,
    PERIODS,
    AmountLine,
    KnowledgeBase,
    Measure,
    Parameter,
    ParamValue,
    Ref,
    Region,
    RegionView,
    Source,
)
from policy_kb.yamlio import KBError, LineDict, ParseCache, line_of

PACKAGE_DIR = Path(__file__).parent
DATA_DIR = PACKAGE_DIR / "data"
CACHE_FILE = PACKAGE_DIR.parent / ".cache" / "kb-yaml.pickle"
SOURCES_DIR = PACKAGE_DIR / "sources"

_WHITESPACE = re.compile(r"\s+")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MIN_EXAMPLES = 3
_MEASURE_REQUIRED = ("id", "title", "category", "mandatory", "when", "gives", "why", "how_to_apply", "responsible", "source", "examples", "keywords")
_MEASURE_OPTIONAL = ("target", "amounts", "valid_from", "valid_to", "notes", "replaces")
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
        self.texts: dict[str, str] = {}
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
                raise KBError(f, raw.line_of("file"), f"{what} 的原文文件 {text_path.name} 不存在于 {self.sources_dir}")
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
                raise KBError(f, raw.line_of("valid_to"), f"{what} 的有效期结束日期早于开始日期")
            self.sources[sid] = source
            self.source_lines[sid] = raw.line_of("region")
            self.texts[sid] = squeeze(text_path.read_text(encoding="utf-8"))
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
            checks.keys(raw, f, what, ("name",), ("full_name", "parent", "aliases"))
            parent = checks.text(raw, "parent", f, what)
            if parent is not None and parent not in entries:
                raise KBError(f, raw.line_of("parent"), f"{what} 的上级地区 '{parent}' 不存在")
            name = checks.text(raw, "name", f, what) or rid
            self.regions[rid] = Region(
                id=rid,
                name=name,
                full_name=checks.text(raw, "full_name", f, what, name) or name,
                parent=parent,
                aliases=tuple(checks.text_list(raw, "aliases", f, what)),
            )
        if "base" not in self.regions:
            raise KBError(f, data.line_of("regions"), "必须有基础地区 'base'")
        default = data["default"]
        if default not in self.regions:
            raise KBError(f, data.line_of("default"), f"默认地区 '{default}' 不在 regions 中")
        self.default_region = default
        for sid, source in self.sources.items():
            if source.region not in self.regions:
                raise KBError(self.data_dir / "sources.yaml", self.source_lines[sid], f"文件来源 {sid} 的地区 '{source.region}' 不在 regions.yaml 中")

    # -- references ----------------------------------------------------------------------
    def check_quote(self, sid: str, quote: str, f: str, line: int | None) -> None:
        if squeeze(quote) not in self.texts[sid]:
            raise KBError(f, line, f"引文不在原文 {self.sources[sid].file} 中：「{quote}」")

    def ref(self, raw: Any, f: str, line: int | None, what: str, region: str) -> Ref:
        raw = checks.mapping(raw, f, line, what)
        checks.keys(raw, f, what, ("source", "section", "quote"))
        sid = raw["source"]
        if sid not in self.sources:
            raise KBError(f, raw.line_of("source"), f"{what} 引用了不存在的文件来源 '{sid}'（见 sources.yaml）")
        if self.sources[sid].region not in ("base", region):
            raise KBError(f, raw.line_of("source"), f"{what} 属于地区 {region}，不能引用 {self.sources[sid].region} 的文件 {sid}")
        quote = checks.text(raw, "quote", f, what) or ""
        self.check_quote(sid, quote, f, raw.line_of("quote"))
        return Ref(source=sid, section=str(raw["section"]), quote=quote)

    # -- parameters ----------------------------------------------------------------------
    def parameter(self, pid: str, raw: Any, f: str, line: int | None, region: str, base: Parameter | None) -> Parameter:
        what = f"参数 {pid}"
        if not isinstance(pid, str) or not _ID.match(pid):
            raise KBError(f, line, f"参数名 '{pid}' 应为小写字母、数字和点组成，如 edu.grant.junior_boarding")
        raw = checks.mapping(raw, f, line, what)
        if base is not None and set(raw) == {"values"}:
            checks.keys(raw, f, what, ("values",))
            template = base
        else:
            checks.keys(raw, f, what, _PARAM_KEYS)
            template = None
            if raw["period"] not in PERIODS:
                raise KBError(f, raw.line_of("period"), f"{what} 的 period '{raw['period']}' 未知（允许：{', '.join(PERIODS)}）")
            if raw["kind"] not in KINDS:
                raise KBError(f, raw.line_of("kind"), f"{what} 的 kind '{raw['kind']}' 未知（允许：{', '.join(KINDS)}）")
        values_raw = checks.mapping(raw["values"], f, raw.line_of("values"), f"{what} 的 values")
        if not values_raw:
            raise KBError(f, raw.line_of("values"), f"{what} 至少要有一个带日期的值")
        values: list[ParamValue] = []
        previous = None
        for start, entry in values_raw.items():
            at = values_raw.line_of(start)
            if not hasattr(start, "isoformat") or hasattr(start, "hour"):
                raise KBError(f, at, f"{what} 的生效日期应写成 YYYY-MM-DD，实际是 {start!r}")
            if previous is not None and start <= previous:
                raise KBError(f, at, f"{what} 的日期重叠或顺序错误：{start} 不晚于上一个日期 {previous}")
            previous = start
            entry = checks.mapping(entry, f, at, f"{what} 在 {start} 的值")
            checks.keys(entry, f, f"{what} 在 {start} 的值", ("value",), ("ref",))
            value = entry.get("value", None)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise KBError(f, entry.line_of("value"), f"{what} 在 {start} 的值应为数字或 null，实际是 {value!r}")
            ref = None
            if value is not None:
                if "ref" not in entry:
                    raise KBError(f, entry.line, f"{what} 在 {start} 的值缺少出处 ref（source/section/quote）")
                ref = self.ref(entry["ref"], f, entry.line_of("ref"), f"{what} 在 {start} 的出处", region)
            values.append(ParamValue(start=start, value=value, ref=ref))
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
                raise KBError(f, data.line_of(pid), f"参数 '{pid}' 重复定义（已在 {into[pid].file}:{into[pid].line}）")
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
            raise KBError(f, raw.line_of("id"), f"措施 id '{mid}' 应为小写字母、数字和点组成")
        category = raw["category"]
        if category not in CATEGORIES:
            raise KBError(f, raw.line_of("category"), f"{what} 的类别 '{category}' 未知（允许：{'、'.join(CATEGORIES)}）")
        target = raw.get("target", "household")
        if target not in ("household", "member"):
            raise KBError(f, raw.line_of("target"), f"{what} 的 target 应为 household 或 member，实际是 {target!r}")
        member = target == "member"
        mandatory = checks.typed(raw, "mandatory", (bool,), f, what)
        amounts: list[AmountLine] = []
        if "amounts" in raw:
            seq = checks.sequence(raw["amounts"], f, raw.line_of("amounts"), f"{what} 的 amounts")
            for i, item in enumerate(seq):
                at = line_of(seq, i)
                item = checks.mapping(item, f, at, f"{what} 的第 {i + 1} 个金额")
                checks.keys(item, f, f"{what} 的第 {i + 1} 个金额", ("parameter",), ("when", "label"))
                cond = self.condition(item["when"], f, item.line_of("when"), member) if "when" in item else None
                amounts.append(AmountLine(parameter=str(item["parameter"]), when=cond, label=checks.text(item, "label", f, what, "") or "",
                                          line=item.line_of("parameter")))
        why = checks.text(raw, "why", f, what) or ""
        self.check_template(why, f, raw.line_of("why"), what)
        measure = Measure(
            id=mid,
            title=checks.text(raw, "title", f, what) or "",
            category=category,
            mandatory=bool(mandatory),
            target=target,
            when=self.condition(raw["when"], f, raw.line_of("when"), member),
            gives=checks.text(raw, "gives", f, what) or "",
            amounts=tuple(amounts),
            why=why,
            how_to_apply=checks.text(raw, "how_to_apply", f, what) or "",
            responsible=tuple(checks.text_list(raw, "responsible", f, what, minimum=1)),
            source=self.ref(raw["source"], f, raw.line_of("source"), f"{what} 的出处", region),
            examples=tuple(checks.text_list(raw, "examples", f, what, minimum=MIN_EXAMPLES)),
            keywords=tuple(checks.text_list(raw, "keywords", f, what, minimum=1)),
            region=region,
            valid_from=checks.date(raw, "valid_from", f, what),
            valid_to=checks.date(raw, "valid_to", f, what),
            notes=checks.text(raw, "notes", f, what, "") or "",
            replaces=checks.text(raw, "replaces", f, what, "") or "",
            file=f,
            line=line or 0,
        )
        if measure.valid_from and measure.valid_to and measure.valid_from > measure.valid_to:
            raise KBError(f, raw.line_of("valid_to"), f"{what} 的 valid_to 早于 valid_from")
        if measure.replaces and region == "base":
            raise KBError(f, raw.line_of("replaces"), f"{what}：只有地区文件中的措施可以 replaces 基础措施")
        return measure

    def check_template(self, template: str, f: str, line: int | None, what: str) -> None:
        for name in PLACEHOLDER.findall(template):
            if name == "name" or name.startswith("param:"):
                continue
            if name not in self.facts.household and name not in self.facts.member:
                raise KBError(f, line, f"{what} 的 why 中 {{{name}}} 不是已知事实（见 eligibility/facts.yaml）")

    def measure_file(self, path: Path, region: str) -> list[Measure]:
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, path.name)
        checks.keys(data, f, path.name, ("measures",))
        seq = checks.sequence(data["measures"], f, data.line_of("measures"), "measures")
        return [self.measure(item, f, line_of(seq, i), region) for i, item in enumerate(seq)]

    # -- assembling regions --------------------------------------------------------------
    def check_measure_params(self, measure: Measure, params: dict[str, Parameter], region: str) -> None:
        """Every parameter a measure names exists in the region; errors point at the referring line."""
        refs: list[tuple[str, int | None]] = [(p, param_line(measure.when, p)) for p in sorted(measure.when.params)]
        for amount in measure.amounts:
            refs.append((amount.parameter, amount.line))
            if amount.when is not None:
                refs += [(p, param_line(amount.when, p)) for p in sorted(amount.when.params)]
        refs += [(n[6:], None) for n in PLACEHOLDER.findall(measure.why) if n.startswith("param:")]
        for name, line in refs:
            if name not in params:
                raise KBError(measure.file, line or measure.line, f"措施 {measure.id} 引用了不存在的参数 '{name}'（地区 {region}）")
        for amount in measure.amounts:
            if params[amount.parameter].kind == "limit":
                raise KBError(measure.file, amount.line or measure.line, f"措施 {measure.id} 的金额用了 kind: limit 的参数 '{amount.parameter}'（limit 只用于条件）")

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
            raise KBError(self.data_dir / "measures", None, "没有任何基础措施")
        for path in sorted((self.data_dir / "regions").glob("*.yaml")):
            if path.stem not in self.regions or path.stem == "base":
                raise KBError(path, None, f"地区文件 {path.name} 没有对应的地区（请在 regions.yaml 中添加 '{path.stem}'）")
        views = {"base": self.view(self.regions["base"], base_params, base_measures)}
        for rid, region in self.regions.items():
            if rid == "base":
                continue
            views[rid] = self.overlay(region, base_params, base_measures, ids)
        return KnowledgeBase(self.sources, self.regions, self.default_region, views, self.texts)

    @staticmethod
    def remember(measure: Measure, ids: dict[str, Measure]) -> None:
        if measure.id in ids:
            other = ids[measure.id]
            raise KBError(measure.file, measure.line, f"措施 id '{measure.id}' 重复（已在 {other.file}:{other.line}）")
        ids[measure.id] = measure

    def view(self, region: Region, params: dict[str, Parameter], measures: list[Measure], dropped: tuple[str, ...] = ()) -> RegionView:
        for measure in measures:
            self.check_measure_params(measure, params, region.id)
        return RegionView(region=region, parameters=params, measures=measures, dropped=dropped)

    def overlay(self, region: Region, base_params: dict[str, Parameter], base_measures: list[Measure], ids: dict[str, Measure]) -> RegionView:
        path = self.data_dir / "regions" / f"{region.id}.yaml"
        if not path.is_file():
            return self.view(region, base_params, base_measures)
        f = str(path)
        data = checks.mapping(self.cache.load(path), f, 1, path.name)
        checks.keys(data, f, path.name, ("region",), ("parameters", "measures", "drop"))
        if data["region"] != region.id:
            raise KBError(f, data.line_of("region"), f"文件名是 {region.id}，但 region 写的是 '{data['region']}'")
        params = dict(base_params)
        if "parameters" in data:
            overrides = checks.mapping(data["parameters"], f, data.line_of("parameters"), "parameters")
            for pid, raw in overrides.items():
                at = overrides.line_of(pid)
                if isinstance(raw, dict) and set(raw) == {"values"} and pid not in base_params:
                    raise KBError(f, at, f"覆盖的参数 '{pid}' 在基础政策中不存在（新参数需写 label/unit/period/kind）")
                if pid in base_params and set(raw or {}) != {"values"}:
                    raise KBError(f, at, f"参数 '{pid}' 已在基础政策中定义：地区文件只能覆盖它的 values")
                params[pid] = self.parameter(pid, raw, f, at, region.id, base_params.get(pid))
        dropped = tuple(checks.text_list(data, "drop", f, "drop"))
        base_ids = {m.id for m in base_measures}
        for mid in dropped:
            if mid not in base_ids:
                raise KBError(f, data.line_of("drop"), f"drop 中的措施 '{mid}' 在基础政策中不存在")
        added: list[Measure] = []
        if "measures" in data:
            seq = checks.sequence(data["measures"], f, data.line_of("measures"), "measures")
            for i, item in enumerate(seq):
                measure = self.measure(item, f, line_of(seq, i), region.id)
                self.remember(measure, ids)
                if measure.replaces and measure.replaces not in base_ids:
                    raise KBError(f, measure.line, f"措施 {measure.id} 要替换的基础措施 '{measure.replaces}' 不存在")
                added.append(measure)
        replaced = {m.replaces: m for m in added if m.replaces}
        merged = [replaced.get(m.id, m) for m in base_measures if m.id not in dropped]
        merged += [m for m in added if not m.replaces]
        return self.view(region, params, merged, dropped)


def load_kb(data_dir: Path | str | None = None, sources_dir: Path | str | None = None, facts: FactModel | None = None) -> KnowledgeBase:
    """Load and validate the whole knowledge base. Raises KBError on the first mistake."""
    cache = ParseCache(CACHE_FILE if data_dir is None else None)
    loader = _Loader(Path(data_dir) if data_dir else DATA_DIR, Path(sources_dir) if sources_dir else SOURCES_DIR, facts or fact_model(), cache)
    kb = loader.load()
    cache.save()
    return kb


_CACHE: dict[tuple[str, str], KnowledgeBase] = {}


def default_kb() -> KnowledgeBase:
    """The project's knowledge base, loaded once per process."""
    key = (str(DATA_DIR), str(SOURCES_DIR))
    if key not in _CACHE:
        _CACHE[key] = load_kb()
    return _CACHE[key]


__all__ = ["load_kb", "default_kb", "KBError", "LineDict", "squeeze"]
