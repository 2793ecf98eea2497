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
    checks.keys(data, str(ANSWERS_FILE), ANSWERS_FILE.name, ("yes", "no", "unknown", "refuse", "negation", "ordinal"))
    return {k: tuple(sorted(checks.text_list(data, k, str(ANSWERS_FILE), k), key=len, reverse=True)) for k in data}


def is_unknown(text: str) -> bool:
    t = clean(text)
    return any(t.startswith(w) or t == w for w in answer_words()["unknown"])


def is_refusal(text: str) -> bool:
    """"不想说", "不告诉你", "保密": no answer, and never a value or a consent."""
    t = clean(text)
    return bool(t) and any(w in t for w in answer_words()["refuse"])


def negated(text: str) -> bool:
    """Whether an answer starts with a negation (不, 唔, 冇, 没, 未, 别 …): "唔同意" is no."""
    t = clean(text)
    return any(t.startswith(w) for w in answer_words()["negation"])


def parse_yes_no(text: str) -> bool | None:
    t = clean(text)
    if not t:
        return None
    if t in ("1",):
        return True
    if t in ("2",):
        return False
    words = answer_words()
    for word in words["yes"]:  # the yes words that start with a negation (没问题) come first
        if t.startswith(word) and negated(word):
            return True
    for word in words["no"]:
        if t.startswith(word):
            return False
    if negated(t) or is_refusal(t):
        return False
    for word in words["yes"]:
        if t.startswith(word):
            return True
    return None


def ordinal(text: str) -> str:
    """"第二个", "选2", "两", "二号" → "2"; anything else unchanged (cleaned)."""
    t = clean(text)
    for word in answer_words()["ordinal"]:
        if t.startswith(word) and len(t) > len(word):
            t = t[len(word):]
            break
    t = re.sub(r"(个|项|条|号|种|吧|啦|呀|哈|嘛|的)+$", "", t)
    digits = to_digits(t)
    return digits if digits.isdigit() else clean(text)


class Option(Protocol):
    """A numbered choice as offered (conversation.messages.Choice): answered by its key or its words."""

    key: str
    label: str


def parse_choice(text: str, choices: Sequence[Option], yes_no: bool = False) -> int:
    """The index of the chosen option, by its digit, its label, or (for yes/no) colloquial words."""
    t = clean(text)
    number = ordinal(text)
    for i, choice in enumerate(choices):
        if t == choice.key or number == choice.key:
            return i
    if number.isdigit():
        raise Reprompt(f"请回复 1 到 {len(choices)} 之间的数字。")
    if yes_no:
        answer = parse_yes_no(t)
        if answer is not None:
            return 0 if answer else 1
    for i, choice in enumerate(choices):
        if t and (t == clean(choice.label) or clean(choice.label).startswith(t)):
            return i
    # Near forms of an option's words, but never across a negation: "唔同意" is not "同意".
    said_no = negated(t)
    labels = [clean(c.label) for c in choices]
    allowed = [i for i, label in enumerate(labels) if negated(label) == said_no]
    best = process.extractOne(t, [labels[i] for i in allowed], scorer=fuzz.ratio, score_cutoff=60)
    if best:
        return allowed[best[2]]
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
