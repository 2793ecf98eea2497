"""Replies are split to the channel's limits without losing or reordering anything."""

from __future__ import annotations

from conversation.messages import ChannelLimits, Choice, Reply
from conversation.render import fit

LONG = "\n".join(f"{i}. ★教育助学补贴：初中寄宿750元/生/学期（每年1500元）" for i in range(200))


def joined(parts: list[Reply]) -> str:
    return "\n".join(p.text for p in parts)


def test_parts_fit_a_character_limit() -> None:
    assert all(len(p.as_text()) <= 300 for p in fit([Reply(LONG)], ChannelLimits(max_chars=300)))


def test_parts_fit_a_byte_limit() -> None:
    limits = ChannelLimits(max_chars=100_000, max_bytes=2048)
    assert all(len(p.as_text().encode()) <= 2048 for p in fit([Reply(LONG)], limits))


def test_nothing_is_lost_when_splitting() -> None:
    assert joined(fit([Reply(LONG)], ChannelLimits(max_chars=300))) == LONG


def test_one_huge_line_is_split_too() -> None:
    line = "低保" * 3000
    assert joined(fit([Reply(line)], ChannelLimits(max_chars=500))).replace("\n", "") == line


def test_choices_stay_on_the_last_part() -> None:
    parts = fit([Reply(LONG, [Choice("1", "是"), Choice("2", "不是")])], ChannelLimits(max_chars=300, buttons=True))
    assert parts[-1].choices and not any(p.choices for p in parts[:-1])
