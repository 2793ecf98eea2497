"""Chat-sized answers: a measure for a policy question, a household's entitlements, and splitting
long replies to the channel's limits without cutting a line in half.
"""

from __future__ import annotations

from dialogs.messages import ChannelLimits, Reply
from eligibility.engine import AmountResult, Entitlement, Result, format_number
from eligibility.report import amount_text, citation, missing_label
from policy_kb.model import KnowledgeBase, Measure, Source


def measure_answer(measure: Measure, amounts: list[AmountResult], kb: KnowledgeBase, warnings: tuple[str, ...],
                   region_name: str) -> str:
    """One measure as a short answer: what, how much, how to apply, where it is written."""
    lines = [f"{measure.mark}{measure.title}（{'必须落实' if measure.mandatory else '可以争取'}，{region_name}）", measure.gives]
    for amount in amounts:
        lines.append(f"金额：{amount_text(amount)}")
    lines.append(f"怎么办：{measure.how_to_apply}")
    lines.append(f"负责：{'、'.join(measure.responsible)}")
    if measure.notes:
        lines.append(f"说明：{measure.notes}")
    lines.append(f"依据：{citation(measure.source, kb.sources)}")
    lines.extend(warnings)
    return "\n".join(lines)


def amount_table(measure: Measure, amounts: list[AmountResult]) -> str:
    return "\n".join(f"· {amount_text(a)}" for a in amounts)


def _entitlement(e: Entitlement, sources: dict[str, Source], number: int) -> str:
    who = f"（{e.member_label}）" if e.member_label else ""
    lines = [f"{number}. {e.measure.mark}{e.measure.title}{who}"]
    if e.amounts:
        lines.extend(f"   {amount_text(a)}" for a in e.amounts)
    else:
        lines.append(f"   {e.measure.gives}")
    lines.append(f"   原因：{e.why}")
    lines.append(f"   怎么办：{e.measure.how_to_apply}")
    lines.append(f"   依据：{citation(e.measure.source, sources, quote=False)}")
    lines.extend(f"   {w}" for w in e.warnings)
    return "\n".join(lines)


def household_answer(result: Result, member_labels: list[str], skipped: list[str]) -> list[str]:
    """Entitlements as chat blocks: mandatory (★) first, each block one measure."""
    mandatory = [e for e in result.entitlements if e.measure.mandatory]
    optional = [e for e in result.entitlements if not e.measure.mandatory]
    head = [f"按{result.region.name}的政策，您家可以享受 {len(mandatory)} 项必须落实（★）的帮扶，{len(optional)} 项可以争取（●）的帮扶。"]
    total = result.per_year_total
    if total:
        head.append(f"按学期、按年发的补助，合计每年约{format_number(total)}元（不含一次性、封顶类和比例类）。")
    blocks = ["\n".join(head)]
    number = 0
    for title, group in (("★ 必须落实", mandatory), ("● 可以争取", optional)):
        if group:
            blocks.append(title)
        for e in group:
            number += 1
            blocks.append(_entitlement(e, result.sources, number))
    unsure = [missing_label(m, member_labels) for m in result.deciding_facts]
    if unsure or skipped:
        blocks.append("还需要核实：" + "、".join(dict.fromkeys(unsure + skipped)) + "。请找结对帮扶人或村干部确认。")
    return blocks


def _size(text: str, limits: ChannelLimits) -> bool:
    if len(text) > limits.max_chars:
        return False
    return limits.max_bytes is None or len(text.encode("utf-8")) <= limits.max_bytes


def _hard_split(line: str, limits: ChannelLimits) -> list[str]:
    parts, current = [], ""
    for char in line:
        if not _size(current + char, limits):
            parts.append(current)
            current = ""
        current += char
    return parts + ([current] if current else [])


def fit(replies: list[Reply], limits: ChannelLimits) -> list[Reply]:
    """Split replies that are too long at line breaks (or, for one huge line, anywhere).

    Choices stay on the last part, so the question is always the last thing the user sees.
    """
    out: list[Reply] = []
    for reply in replies:
        full = reply.text if limits.buttons else reply.as_text()
        if _size(full, limits):
            out.append(reply)
            continue
        text = reply.text if limits.buttons else full
        parts: list[str] = []
        current = ""
        for line in text.split("\n"):
            candidate = f"{current}\n{line}" if current else line
            if _size(candidate, limits):
                current = candidate
                continue
            if current:
                parts.append(current)
            if _size(line, limits):
                current = line
            else:
                pieces = _hard_split(line, limits)
                parts.extend(pieces[:-1])
                current = pieces[-1] if pieces else ""
        if current:
            parts.append(current)
        out.extend(Reply(p) for p in parts[:-1])
        out.append(Reply(parts[-1], reply.choices if limits.buttons else []))
    return out


def merge_blocks(blocks: list[str], limits: ChannelLimits) -> list[Reply]:
    """Pack blocks into as few messages as fit (blank line between blocks)."""
    messages: list[str] = []
    for block in blocks:
        if messages and _size(messages[-1] + "\n\n" + block, limits):
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return fit([Reply(m) for m in messages], limits)
