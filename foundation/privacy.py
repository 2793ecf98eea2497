"""Phone and ID numbers: checking them when typed, and masking them wherever they are shown or logged.

A mainland mobile number is 11 digits starting 13-19. An 18-character resident ID carries a
GB 11643 check character, so most typos are caught on entry instead of at the township.
"""

from __future__ import annotations

import datetime as dt
import re

from foundation.text import normalize_width

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_SEPARATORS = re.compile(r"[\s\-—－_·.]+")
_GAP = r"[ \t\-—－·.]?"  # how people space a number they type: 138 1234 5678, 138-1234-5678
PHONE_IN_TEXT = re.compile(rf"(?<!\d)(?:\+?86{_GAP})?(1[3-9]\d){_GAP}\d{{4}}{_GAP}(\d{{4}})(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A bank card: 16 to 19 digits, grouped by fours or not.
CARD_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z])(\d{{4}})(?:{_GAP}\d){{8,11}}{_GAP}(\d{{4}})(?![0-9A-Za-z])")
# A number said in Chinese digits (一三八一二三四五六七八, 幺三八…): eleven or more in a row is a phone or longer.
CHINESE_DIGITS_IN_TEXT = re.compile(r"([零〇一二三四五六七八九幺两]{3})[零〇一二三四五六七八九幺两]{4,}([零〇一二三四五六七八九幺两]{4})")


def normalize_phone(text: str) -> str | None:
    """The 11-digit mobile number in `text` (spaces, dashes, +86 and words around it allowed: "我的手机
    是138 1234 5678"), else None; a longer run of digits is no phone number."""
    digits = _SEPARATORS.sub("", normalize_width(text))
    digits = re.sub(r"(?<!\d)(\+?86)(?=1\d{10}(?!\d))", "", digits)
    found = re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", digits)
    return found.group(0) if found else None


def normalize_id_number(text: str) -> str | None:
    """The 18-character ID number if its birth date and GB 11643 check character are right, else None."""
    value = _SEPARATORS.sub("", normalize_width(text)).upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return None
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return value if _ID_CHECK[total % 11] == value[17] else None


def mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) == 11 else ""


def mask_id(id_number: str | None) -> str:
    return f"{id_number[:4]}{'*' * 10}{id_number[-4:]}" if id_number and len(id_number) == 18 else ""


def mask_text(text: str) -> str:
    """Every ID, bank-card and mobile number in free text, masked (4401**********1234,
    6222********1234, 138****5678, 一三八****五六七八). Free text is stored this way: only the
    dedicated fields that need a full number keep one."""
    text = ID_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", text)
    text = CARD_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(2)}", text)
    text = PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return CHINESE_DIGITS_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
