"""Entitlement results as Chinese text (for people) and as JSON-ready dicts (for programs)."""

from __future__ import annotations

from typing import Any

from eligibility.engine import AmountResult, Entitlement, Result, format_date, format_number
from eligibility.facts import fact_model
from policy_kb.conditions import Missing
from policy_kb.model import Ref, Source


def citation(ref: Ref, sources: dict[str, Source], quote: bool = True) -> str:
    source = sources[ref.source]
    number = f"（{source.number}）" if source.number else ""
    date = f"，{source.date_label}" if source.date_label else ""
    text = f"《{source.title}》{number}{date}，{ref.section}"
    return f"{text}：“{ref.quote}”" if quote else text


def amount_text(amount: AmountResult) -> str:
    yearly = amount.per_year
    extra = f"（每年{format_number(yearly)}元）" if yearly is not None and amount.period != "year" else ""
    return f"{amount.label}：{amount.text}{extra}"


def missing_label(item: Missing, member_labels: list[str]) -> str:
    index, path = item
    if path == "household.members":
        return "家庭成员情况"
    spec = fact_model().get(path)
    label = spec.label if spec else path
    if index is not None and index < len(member_labels):
        return f"{member_labels[index]}的{label}"
    return label


def entitlement_lines(e: Entitlement, sources: dict[str, Source], number: int) -> list[str]:
    who = f" —— {e.member_label}" if e.member_label else ""
    lines = [f"{number}. {e.measure.mark}{e.measure.title}{who}", f"   内容：{e.measure.gives}"]
    for amount in e.amounts:
        lines.append(f"   金额：{amount_text(amount)}")
    lines.append(f"   原因：{e.why}")
    lines.append(f"   怎么办：{e.measure.how_to_apply}")
    lines.append(f"   负责：{'、'.join(e.measure.responsible)}")
    lines.append(f"   依据：{citation(e.measure.source, sources, quote=False)}")
    if e.measure.notes:
        lines.append(f"   说明：{e.measure.notes}")
    lines.extend(f"   {w}" for w in e.warnings)
    return lines


def result_blocks(result: Result, member_labels: list[str], skipped: tuple[str, ...] | list[str] = ()) -> list[str]:
    """A household's entitlements as blocks of text, ★ first, each measure one block; the CLI
    prints them, the chat packs them into messages. `skipped` are facts the user could not give."""
    mandatory = [e for e in result.entitlements if e.measure.mandatory]
    optional = [e for e in result.entitlements if not e.measure.mandatory]
    head = [f"{result.region.name} · 按{format_date(result.date)}的政策：必须落实（★）{len(mandatory)} 项，可以争取（●）{len(optional)} 项。"]
    if not result.entitlements:
        head.append("按现有信息，暂时没有确定能享受的措施。")
    total = result.per_year_total
    if total:
        head.append(f"按学期、按年发的补助，合计每年约{format_number(total)}元（不含一次性、封顶类和比例类）。")
    blocks = ["\n".join(head)]
    number = 0
    for title, group in (("★ 必须落实", mandatory), ("● 可以争取", optional)):
        if group:
            blocks.append(f"{title}（{len(group)} 项）")
        for e in group:
            number += 1
            blocks.append("\n".join(entitlement_lines(e, result.sources, number)))
    unsure = [missing_label(m, member_labels) for m in result.deciding_facts]
    if unsure or skipped:
        blocks.append("还需要核实：" + "、".join(dict.fromkeys([*unsure, *skipped])) + "。请找结对帮扶人或村干部确认。")
    return blocks


def result_text(result: Result, member_labels: list[str]) -> str:
    return "\n".join(result_blocks(result, member_labels))


def result_json(result: Result) -> dict[str, Any]:
    def amount(a: AmountResult) -> dict[str, Any]:
        return {"label": a.label, "parameter": a.parameter, "value": a.value, "unit": a.unit, "period": a.period,
                "kind": a.kind, "per_year": a.per_year, "text": a.text, "since": a.since.isoformat()}

    def ref(r: Ref) -> dict[str, Any]:
        source = result.sources[r.source]
        return {"source": r.source, "file": source.file, "title": source.title, "section": r.section,
                "quote": r.quote, "date": source.date_label}

    return {
        "region": result.region.id,
        "region_name": result.region.name,
        "date": result.date.isoformat(),
        "entitlements": [
            {"measure": e.measure.id, "title": e.measure.title, "category": e.measure.category,
             "mandatory": e.measure.mandatory, "member": e.member, "member_label": e.member_label,
             "amounts": [amount(a) for a in e.amounts], "per_year": e.per_year, "why": e.why,
             "gives": e.measure.gives, "how_to_apply": e.measure.how_to_apply,
             "responsible": list(e.measure.responsible), "source": ref(e.measure.source), "warnings": list(e.warnings)}
            for e in result.entitlements
        ],
        "undecided": [
            {"measure": u.measure.id, "title": u.measure.title, "member": u.member,
             "missing": [{"member": i, "fact": f} for i, f in u.missing]}
            for u in result.undecided
        ],
        "deciding_facts": [{"member": i, "fact": f} for i, f in result.deciding_facts],
        "per_year_total": result.per_year_total,
    }
