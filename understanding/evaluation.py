"""Measuring understanding on a question set: top-1 accuracy of the method and of a baseline.

The baseline is plain rapidfuzz `fuzz.ratio` of the raw question against the raw example
questions, so the gain of the lexicon, pinyin repair and evidence scoring is visible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from foundation import checks
from foundation.datafile import load_yaml
from understanding.retrieval import plain_ratio_rank


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    expect: str
    kind: str


@dataclass(slots=True)
class Report:
    total: int = 0
    correct: int = 0
    baseline_correct: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    misses: list[tuple[Question, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def baseline(self) -> float:
        return self.baseline_correct / self.total if self.total else 0.0


def load_questions(path: Path) -> list[Question]:
    data = checks.mapping(load_yaml(path), str(path), 1, path.name)
    items = checks.sequence(data["questions"], str(path), data.line_of("questions"), "questions")
    return [Question(str(q["q"]), str(q["expect"]), str(q.get("kind", ""))) for q in items]


def evaluate(understander, questions: list[Question], on: dt.date, region: str | None = None) -> Report:
    """Top-1 of `understander.read` against each question's expected measure."""
    report = Report()
    default = understander.kb.resolve_region(region).id
    for question in questions:
        read = understander.read(question.text, default, on)
        got = read.candidates[0].doc.id if read.candidates else ""
        baseline = plain_ratio_rank(question.text, understander.kb.view(read.region).measures)
        report.total += 1
        hit = got == question.expect
        report.correct += hit
        report.baseline_correct += bool(baseline and baseline.id == question.expect)
        report.by_kind.setdefault(question.kind, [0, 0])
        report.by_kind[question.kind][0] += hit
        report.by_kind[question.kind][1] += 1
        if not hit:
            report.misses.append((question, got))
    return report
