"""What the workflow skills (apply, confirm_proxy, work, my_data, subscribe) share: the workflow's
own sentences (workflow/texts.yaml), numbered choices, and application numbers in a message."""

from __future__ import annotations

import re
from typing import Any

from conversation.messages import Choice, Reply
from foundation.text import normalize_width
from understanding.answers import Reprompt, parse_choice
from workflow.model import load_texts

NUMBER_IN_TEXT = re.compile(r"SQ\s*(\d{4})\s*[-－—]?\s*(\d{6})", re.IGNORECASE)
MAX_CHOICES = 9  # every choice answerable with one digit


def text(key: str, **fields: Any) -> str:
    return load_texts()[key].format(**fields)


def words(key: str) -> tuple[str, ...]:
    return tuple(load_texts()[key])


def say(key: str, **fields: Any) -> list[Reply]:
    return [Reply(text(key, **fields))]


def numbered(labels: list[str]) -> list[Choice]:
    return [Choice(str(i + 1), label) for i, label in enumerate(labels)]


def pick(answer: str, choices: list[Choice], yes_no: bool = False) -> int | None:
    """The chosen index, or None if the answer is not one of the choices."""
    try:
        return parse_choice(answer, choices, yes_no=yes_no)
    except Reprompt:
        return None


def find_number(message: str) -> tuple[str, str, str] | None:
    """(application number, the words before it, the words after it) if the message names one."""
    plain = normalize_width(message).strip()
    match = NUMBER_IN_TEXT.search(plain)
    if match is None:
        return None
    strip = " ：:，,。.、"
    return f"SQ{match.group(1)}-{match.group(2)}", plain[: match.start()].strip(strip), plain[match.end():].strip(strip)
