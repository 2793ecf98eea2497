"""Chinese numerals to digits, for reading numbers out of a message ("七十三岁" → "73岁",
"一万二" → "12000", "两万五" → "25000", "一点五万" → "15000", "百分之五十" → "50%").

Only a copy of the text used for number extraction is converted; the message itself is never
rewritten (that would turn 一次性 into 1次性). Colloquial shortenings follow how people say
amounts: a unit's trailing digit is a tenth of it ("一万二" is 12000, "六千五" is 6500,
"三百五" is 350). A run of plain digits without units reads digit by digit ("二零二六" → "2026").
"""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_CHARS = "".join([*DIGITS, *SMALL_UNITS, *BIG_UNITS])
_RUN = re.compile(rf"(?:[\d.]+|[{_CHARS}点])+")
_PERCENT = re.compile(rf"百分之([\d.{''.join(DIGITS)}十百点]+)")


def _section(text: str) -> int | None:
    """A number below 10,000 written with 十百千 ("三百零五", "十七", "六千五")."""
    total, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            return None
    if digit is not None:
        # "六千五": a lone digit after a unit is a tenth of that unit; after 零 it is units ("一百零五")
        total += digit * (last_unit // 10 if last_unit < 10_000 and not text[-2:-1] == "零" and len(text) > 1 else 1)
    return total


def _value(text: str) -> float | None:
    """The value of one run of numerals, or None if it is not a number."""
    if all(ch in DIGITS for ch in text) and len(text) > 1:
        return float("".join(str(DIGITS[ch]) for ch in text))  # 二零二六
    if text[:1] in BIG_UNITS:
        return None  # 万一 is "in case", not ten thousand and one
    big = 0.0
    rest = text
    for name, unit in sorted(BIG_UNITS.items(), key=lambda kv: -kv[1]):
        if name in rest:
            head, rest = rest.split(name, 1)
            head_value = _number(head) if head else 1.0
            if head_value is None:
                return None
            big += head_value * unit
            if len(rest) == 1 and (rest in DIGITS or rest.isdigit()):  # 一万二, 4万5: a tenth of the unit
                big += (DIGITS[rest] if rest in DIGITS else int(rest)) * unit / 10
                rest = ""
    if not rest:
        return big
    small = _number(rest)
    return None if small is None else big + small


def _number(text: str) -> float | None:
    """Digits, a decimal ("一点五", "1.5") or a section of 十百千."""
    if re.fullmatch(r"[\d.]+", text):
        try:
            return float(text)
        except ValueError:
            return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        head = _number(whole) if whole else 0.0
        if head is None or not frac or not all(ch in DIGITS for ch in frac):
            return None
        return head + float("0." + "".join(str(DIGITS[ch]) for ch in frac))
    if re.fullmatch(r"\d+", text):
        return float(text)
    value = _section(text)
    return None if value is None else float(value)


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def to_digits(text: str) -> str:
    """A copy of `text` with every run of Chinese numerals as digits."""
    if not any(ch in _CHARS or ch == "点" for ch in text):
        return text

    def replace(match: re.Match) -> str:
        run = match.group(0)
        if run == "点" or not any(ch in _CHARS for ch in run):
            return run
        value = _value(run.strip("点"))
        return run if value is None else _format(value)

    text = _PERCENT.sub(lambda m: to_digits(m.group(1)) + "%", text)
    return _RUN.sub(replace, text)
