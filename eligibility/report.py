"""Entitlement results as Chinese text (for people) and as JSON-ready dicts (for programs)."""

from __future__ import annotations

from typing import Any

from eligibility.engine import AmountResult, Entitlement, Result, Undecided, expiry_warning, format_date, format_number, reason_text
from policy_kb.conditions import PARAM_PREFIX, Missing
from policy_kb.facts import fact_model
from policy_kb.model import Measure, Ref, Source


def citation(ref: Ref, sources: dict[str, Source], quote: bool = True) -> str:
    source = sources[ref.source]
    number = f"（{source.number}）" if source.number else ""
    date = f"，{source.date_label}" if source.date_label else ""
    text = f"《{source.title}》{number}{date}，{ref.section}"
    return f"{text}：“{ref.quote}”" if quote else text


def amount_text(amount: AmountResult) -> str:
    """"初中寄宿：750元/生/学期（每年1500元，2024年春季起）"."""
    yearly = amount.per_year
    extras = []
    if yearly is not None and amount.period != "year":
        extras.append(f"每年{format_number(yearly)}元")
    if amount.date_text:
        extras.append(amount.date_text)
    extra = f"（{'，'.join(extras)}）" if extras else ""
    return f"{amount.label}：{amount.text}{extra}"


def amount_lines(measure: Measure, amounts: list[AmountResult], sources: dict[str, Source], indent: str = "") -> list[str]:
    """An amount per line; its note under it; its own source where it is not the measure's sentence."""
    lines = []
    for amount in amounts:
        lines.append(f"{indent}金额：{amount_text(amount)}")
        if amount.note:
            lines.append(f"{indent}  说明：{amount.note}")
        if amount.ref is not None and amount.ref.source != measure.source.source:
            lines.append(f"{indent}  依据：{citation(amount.ref, sources)}")
    return lines


def missing_label(item: Missing, member_labels: list[str], kb_parameters: dict | None = None) -> str:
    index, path = item
    if path == "household.members":
        return "家庭成员情况"
    if path.startswith(PARAM_PREFIX):
        parameter = (kb_parameters or {}).get(path[len(PARAM_PREFIX):])
        return parameter.label if parameter is not None else path[len(PARAM_PREFIX):]
    spec = fact_model().get(path)
    label = spec.label if spec else path
    if index is not None and index < len(member_labels):
        return f"{member_labels[index]}的{label}"
    return label


def kind_label(measure: Measure, sources: dict[str, Source]) -> str:
    """★必须落实 / ●可以争取 for the 明白纸; the document's name for a county's or township's own measure."""
    if measure.mandatory is None:
        return sources[measure.source.source].title
    return "必须落实" if measure.mandatory else "可以争取"


def entitlement_lines(e: Entitlement, sources: dict[str, Source], number: int, show_warnings: bool = True) -> list[str]:
    who = f" —— {e.member_label}" if e.member_label else ""
    lines = [f"{number}. {e.measure.mark}{e.measure.title}{who}", f"   内容：{e.measure.gives}"]
    lines += amount_lines(e.measure, e.amounts, sources, "   ")
    why = e.why
    if why:
        lines.append(f"   原因：{why}")
    lines.append(f"   怎么办：{e.measure.how_to_apply}")
    lines.append(f"   负责：{'、'.join(e.measure.responsible)}")
    lines.append(f"   依据：{citation(e.measure.source, sources, quote=False)}")
    if e.measure.notes:
        lines.append(f"   说明：{e.measure.notes}")
    if show_warnings:
        lines.extend(f"   {w}" for w in e.warnings)
    return lines


def undecided_line(u: Undecided, member_labels: list[str], parameters: dict) -> str:
    """"老人（72岁）：申请纳入特困供养——要看：符合特困供养条件（由乡镇民政部门认定）"."""
    who = f"{u.member_label}：" if u.member_label else ""
    needs = []
    model = fact_model()
    for item in u.missing:
        spec = model.get(item[1])
        label = missing_label(item, member_labels, parameters)
        if spec is not None and spec.judged_by:
            label += f"（由{spec.judged_by}认定）"
        elif item[1].startswith(PARAM_PREFIX):
            value = parameters[item[1][len(PARAM_PREFIX):]].values[-1]
            label += f"（{value.unknown}）" if value.unknown else ""
        needs.append(label)
    return f"{who}{u.measure.mark}{u.measure.title}——要看：{'、'.join(dict.fromkeys(needs))}"


def result_blocks(result: Result, member_labels: list[str], skipped: tuple[str, ...] | list[str] = (),
                  parameters: dict | None = None) -> list[str]:
    """A household's entitlements as blocks of text, ★ first, each measure one block; the CLI
    prints them, the chat packs them into messages. `skipped` are facts the user could not give.
    An expired document's warning is said once, at the top, naming its measures."""
    mandatory = [e for e in result.entitlements if e.measure.mandatory is True]
    county = [e for e in result.entitlements if e.measure.mandatory is None]
    optional = [e for e in result.entitlements if e.measure.mandatory is False]
    head = [f"{result.region.name} · 按{format_date(result.date)}的政策：必须落实（★）{len(mandatory)} 项，"
            f"县乡文件的措施 {len(county)} 项，可以争取（●）{len(optional)} 项。"]
    if not result.entitlements:
        head.append("按现有信息，暂时没有确定能享受的措施。")
    total = result.per_year_total
    if total:
        head.append(f"按学期、按年发的补助，合计每年约{format_number(total)}元（不含一次性、封顶类和比例类）。")
    expired: dict[str, list[str]] = {}
    for e in result.entitlements:
        for source in e.expired:
            expired.setdefault(source, []).append(e.measure.title)
    for source, titles in expired.items():
        head.append(f"注意：{expiry_warning(result.sources[source])}涉及：{'、'.join(dict.fromkeys(titles))}。")
    blocks = ["\n".join(head)]
    number = 0
    for title, group in (("★ 必须落实", mandatory), ("县乡文件的措施", county), ("● 可以争取", optional)):
        if group:
            blocks.append(f"{title}（{len(group)} 项）")
        for e in group:
            number += 1
            lines = entitlement_lines(e, result.sources, number, show_warnings=False)
            if e.measure_ended:
                lines += [f"   {w}" for w in e.warnings]
            blocks.append("\n".join(lines))
    unsure = [missing_label(m, member_labels, parameters) for m in result.deciding_facts]
    if unsure or skipped:
        blocks.append("还需要核实：" + "、".join(dict.fromkeys([*unsure, *skipped])) + "。请找结对帮扶人或村干部确认。")
    return blocks


def result_text(result: Result, member_labels: list[str], parameters: dict | None = None) -> str:
    return "\n".join(result_blocks(result, member_labels, parameters=parameters))


def result_json(result: Result) -> dict[str, Any]:
    def ref(r: Ref | None) -> dict[str, Any] | None:
        if r is None:
            return None
        source = result.sources[r.source]
        return {"source": r.source, "file": source.file, "title": source.title, "section": r.section,
                "quote": r.quote, "date": source.date_label}

    def amount(a: AmountResult) -> dict[str, Any]:
        return {"label": a.label, "parameter": a.parameter, "value": a.value, "unit": a.unit, "period": a.period,
                "kind": a.kind, "per_year": a.per_year, "text": a.text, "since": a.since.isoformat(), "date_text": a.date_text,
                "note": a.note, "ref": ref(a.ref), "expired": list(a.expired)}

    return {
        "region": result.region.id,
        "region_name": result.region.name,
        "date": result.date.isoformat(),
        "entitlements": [
            {"measure": e.measure.id, "title": e.measure.title, "category": e.measure.category,
             "mandatory": e.measure.mandatory, "member": e.member, "member_label": e.member_label,
             "amounts": [amount(a) for a in e.amounts], "per_year": e.per_year, "why": e.why,
             "reasons": [{"member": i, "fact": f} for i, f in e.reasons],
             "gives": e.measure.gives, "how_to_apply": e.measure.how_to_apply,
             "responsible": list(e.measure.responsible), "source": ref(e.measure.source), "warnings": list(e.warnings)}
            for e in result.entitlements
        ],
        "undecided": [
            {"measure": u.measure.id, "title": u.measure.title, "member": u.member,
             "missing": [{"member": i, "fact": f} for i, f in u.missing], "judged_by": u.judged_by}
            for u in result.undecided
        ],
        "deciding_facts": [{"member": i, "fact": f} for i, f in result.deciding_facts],
        "per_year_total": result.per_year_total,
    }


__all__ = ["amount_lines", "amount_text", "citation", "entitlement_lines", "kind_label", "missing_label", "reason_text",
           "result_blocks", "result_json", "result_text", "undecided_line"]
