"""Small helpers every benchmark uses to report figures the same way."""

from __future__ import annotations


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def target(value: float, limit: float, unit: str = "ms", higher_is_better: bool = False) -> str:
    ok = value >= limit if higher_is_better else value <= limit
    sign = "≥" if higher_is_better else "≤"
    return f"(target {sign} {limit:g} {unit}: {'ok' if ok else 'MISSED'})"
