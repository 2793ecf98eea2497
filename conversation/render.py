"""Chat-sized answers: a measure for a policy question, and splitting long replies to the
channel's limits without cutting a line in half. (A household's entitlements are rendered by
eligibility/report.py, the same text the CLI prints.)
"""

from __future__ import annotations

from conversation.messages import ChannelLimits, Reply
from eligibility.engine import AmountResult
from eligibility.report import amount_lines, citation, kind_label
from policy_kb.model import KnowledgeBase, Measure


def measure_answer(measure: Measure, amounts: list[AmountResult], kb: KnowledgeBase, warnings: tuple[str, ...],
                   region_name: str) -> str:
    """One measure as a short answer: what, how much, how to apply, where it is written."""
    lines = [f"{measure.mark}{measure.title}（{kind_label(measure, kb.sources)}，{region_name}）", measure.gives]
    lines += amount_lines(measure, amounts, kb.sources)
    lines.append(f"怎么办：{measure.how_to_apply}")
    lines.append(f"负责：{'、'.join(measure.responsible)}")
    if measure.notes:
        lines.append(f"说明：{measure.notes}")
    lines.append(f"依据：{citation(measure.source, kb.sources)}")
    lines.extend(warnings)
    return "\n".join(lines)


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
