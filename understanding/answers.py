"""Reading one answer: a digit, a choice's words, yes/no in colloquial forms, or a number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from rapidfuzz import fuzz, process

from foundation import checks
from foundation.datafile import load_data
from foundation.text import clean, normalize_width
from understanding.numerals import to_digits

ANSWERS_FILE = Path(__file__).parent / "lexicon_data" / "answers.yaml"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class Reprompt(ValueError):
    """The answer does not fit the question; the message says what is expected."""


@lru_cache(maxsize=1)
def answer_words() -> dict[str, tuple[str, ...]]:
    data = checks.mapping(load_data(ANSWERS_FILE), str(ANSWERS_FILE), 1, ANSWERS_FILE.name)
    checks.keys(data, str(ANSWERS_FILE), ANSWERS_FILE.name, ("yes", "no", "unknown"))
    return {k: tuple(sorted(checks.text_list(data, k, str(ANSWERS_FILE), k), key=len, reverse=True)) for k in data}


def is_unknown(text: str) -> bool:
    t = clean(text)
    return any(t.startswith(w) or t == w for w in answer_words()["unknown"])


def parse_yes_no(text: str) -> bool | None:
    t = clean(text)
    if not t:
        return None
    if t in ("1",):
        return True
    if t in ("2",):
        return False
    words = answer_words()
    for word in words["no"]:
        if t.startswith(word):
            return False
    for word in words["yes"]:
        if t.startswith(word):
            return True
    return None


class Option(Protocol):
    """A numbered choice as offered (conversation.messages.Choice): answered by its key or its words."""

    key: str
    label: str


def parse_choice(text: str, choices: Sequence[Option], yes_no: bool = False) -> int:
    """The index of the chosen option, by its digit, its label, or (for yes/no) colloquial words."""
    t = clean(text)
    for i, choice in enumerate(choices):
        if t == choice.key or t == to_digits(choice.key):
            return i
    digits = to_digits(t)
    if digits.isdigit():
        raise Reprompt(f"请回复 1 到 {len(choices)} 之间的数字。")
    if yes_no:
        answer = parse_yes_no(t)
        if answer is not None:
            return 0 if answer else 1
    for i, choice in enumerate(choices):
        if t and (t == clean(choice.label) or clean(choice.label).startswith(t)):
            return i
    best = process.extractOne(t, [clean(c.label) for c in choices], scorer=fuzz.ratio, score_cutoff=60)
    if best:
        return best[2]
    raise Reprompt(f"请回复选项前的数字（1 到 {len(choices)}）。")


def parse_number(text: str) -> float:
    found = _NUMBER.search(to_digits(clean(text)))
    if not found:
        raise Reprompt("请回复一个数字，比如 12000。")
    value = float(found.group(0))
    if "万" in text and value < 10000:
        value *= 10000
    return value


def parse_typed(kind: str, text: str):
    if kind == "yes_no":
        answer = parse_yes_no(text)
        if answer is None:
            raise Reprompt("请回复“是”或“不是”（也可以回复 1 或 2）。")
        return answer
    if kind == "int":
        return int(parse_number(text))
    if kind == "number":
        return parse_number(text)
    value = normalize_width(text)
    if not value:
        raise Reprompt("请输入文字回答。")
    return value
