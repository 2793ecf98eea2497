"""What the workflow skills (apply, confirm_proxy, work, my_data, subscribe) share: the workflow's
own sentences (workflow/texts.yaml), numbered choices, application numbers in a message, and a
household's income against the monitoring line (also said by the household check)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from conversation.context import Context
from conversation.messages import Choice, Reply
from eligibility.report import citation
from foundation.text import normalize_width
from understanding.answers import Reprompt, parse_choice
from workflow.model import load_texts

NUMBER_IN_TEXT = re.compile(r"SQ\s*(\d{4})\s*[-－—]?\s*(\d{6})", re.IGNORECASE)
MAX_CHOICES = 9  # every choice answerable with one digit
THRESHOLD = "monitoring.income_threshold"  # the knowledge base's monitoring income standard (元/人/年)
_YEAR = re.compile(r"(20\d\d)\s*年")


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


def income_against_line(ctx: Context, said: str, per_head: float, size: int | None) -> list[str]:
    """"按您说的，家里人均纯收入约7000元" and the monitoring line of the year the message names
    (this year's when it names none), with its source."""
    year_said = _YEAR.search(normalize_width(said))
    year = int(year_said.group(1)) if year_said else ctx.today.year
    on = ctx.today if year >= ctx.today.year else dt.date(year, 12, 31)
    parameter = ctx.view().parameters.get(THRESHOLD)
    value = parameter.at(on) if parameter else None
    lines = [text("check_per_head", per_head=f"{per_head:g}", size=f"（按{size}口人算）" if size else "")]
    if value is None or value.value is None:
        last = parameter.last_published(on) if parameter else None
        unknown = value.unknown if value else ""
        said_already = last is not None and f"{last.value:g}" in unknown  # the note names the last figure itself
        lines.append(text("check_unpublished", year=year, unknown=unknown,
                          last=text("income_last_published", year=last.start.year, threshold=f"{last.value:g}")
                          if last and not said_already else ""))
    else:
        lines.append(text("check_below" if per_head < value.value else "check_not_below", year=value.start.year,
                          threshold=f"{value.value:g}"))
        if value.ref is not None:
            lines.append(text("check_source", source=citation(value.ref, ctx.kb.sources)))
    return lines
