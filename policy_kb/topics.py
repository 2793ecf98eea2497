"""Filling a topic's answer for a date: a parameter's figure in words, a document's validity.

A figure that no text publishes for that date (the township's line after 2021) is said as the
text says it ("每年动态调整…"), with the last published figure and its year beside it, never as a
number of our own.
"""

from __future__ import annotations

import datetime as dt
import re

from policy_kb.model import KnowledgeBase, Parameter, RegionView, Source, Topic

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def number(value: float) -> str:
    return f"{value:g}"


def parameter_text(parameter: Parameter, on: dt.date) -> str:
    """"2021年的标准是每人每年6500元" style: the figure in force, with its year; or why there is none."""
    value = parameter.at(on)
    if value is None:
        return f"{parameter.label}：{_day(on)}没有在执行的标准"
    if value.unknown:
        last = parameter.last_published(on)
        earlier = f"（文件公布的是{last.date_text or str(last.start.year) + '年'}的{number(last.value)}{parameter.unit}）" if last else ""
        if last and number(last.value or 0) in value.unknown:
            earlier = ""  # the text already names the last figure
        return f"{value.unknown}{earlier}"
    since = f"（{value.date_text}）" if value.date_text else ""
    return f"{number(value.value or 0)}{parameter.unit}{since}"


def validity_text(source: Source, on: dt.date) -> str:
    """"2021年1月1日起执行，有效期到2025年12月31日，现在已经过期" for a date."""
    text = source.validity_text
    if source.expired_on(on):
        return f"{text}，现在（{_day(on)}）已经过期，请向当地部门确认现行政策"
    if source.not_yet_on(on):
        return f"{text}，{_day(on)}还没开始执行"
    if source.valid_to:
        return f"{text}，现在还在有效期内"
    return text


def render_topic(topic: Topic, view: RegionView, kb: KnowledgeBase, on: dt.date) -> str:
    def fill(match: re.Match) -> str:
        kind, _, target = match.group(1).partition(":")
        if kind == "param":
            return parameter_text(view.parameters[target], on)
        return validity_text(kb.sources[target], on)

    return _PLACEHOLDER.sub(fill, topic.answer)


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def month_text(template: str, said: tuple[str, int], on: dt.date) -> str:
    """A topic's line for a month the question names ("2021年9月识别的…"): the year as said, or
    counted from `on` (今年, 去年, 明年, or none); {start} is that month a year earlier, {end} the
    last day of the month before it."""
    year_said, month = said
    year = int(year_said) if year_said.isdigit() else on.year + {"去年": -1, "明年": 1}.get(year_said, 0)
    end = dt.date(year, month, 1) - dt.timedelta(days=1)
    start = dt.date(year - 1, month, 1)
    return template.format(month=f"{year}年{month}月", start=_day(start), end=_day(end))
