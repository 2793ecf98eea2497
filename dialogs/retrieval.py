"""Which measure a question is about: fuzzy similarity plus keyword and fact evidence.

Each measure is indexed by its title, example questions and keywords, in canonical form (after
the lexicon). A question's score for a measure combines
- similarity: rapidfuzz `fuzz.ratio` on raw characters against the closest indexed text, and
  `fuzz.partial_ratio` so a short question can match inside a longer example;
- keyword evidence: the measure's keywords and jieba tokens of its title found in the question;
- fact evidence: facts the question states (a school stage, a work place) that the measure's
  conditions test.
The weights are method-level constants, not tuned to individual questions.
"""

from __future__ import annotations

from dataclasses import dataclass

import jieba
from rapidfuzz import fuzz, process

from dialogs.entities import Entities
from dialogs.lexicon import Lexicon
from policy_kb.model import Measure

SIMILARITY_WEIGHT = 0.55
PARTIAL_WEIGHT = 0.25
KEYWORD_POINTS = 9.0
KEYWORD_CAP = 27.0
FACT_POINTS = 6.0
FACT_CAP = 12.0
MAX_SCORE = 100.0


@dataclass(frozen=True, slots=True)
class Candidate:
    measure: Measure
    score: float


@dataclass(slots=True)
class _Entry:
    measure: Measure
    texts: list[str]
    keywords: list[str]
    facts: frozenset[str]


def _measure_facts(measure: Measure) -> frozenset[str]:
    facts = set(measure.when.facts)
    for line in measure.amounts:
        if line.when is not None:
            facts |= line.when.facts
    return frozenset(facts)


# Facts every measure tests (its audience), which say nothing about what a question is about.
_AUDIENCE_FACTS = frozenset({"household.monitored", "household.members"})


class Retriever:
    """An index over one region's measures; built once per region and reused."""

    def __init__(self, measures: list[Measure], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.entries: list[_Entry] = []
        self.texts: list[str] = []
        self.owner: list[int] = []
        for index, measure in enumerate(measures):
            texts = [lexicon.canonical(t) for t in (measure.title, *measure.examples)]
            keywords = sorted({lexicon.canonical(k) for k in measure.keywords if len(k) >= 2}, key=len, reverse=True)
            title_words = [w for w in jieba.lcut(lexicon.canonical(measure.title)) if len(w) >= 2]
            self.entries.append(_Entry(measure, texts, keywords + [w for w in title_words if w not in keywords],
                                       _measure_facts(measure) - _AUDIENCE_FACTS))
            for text in texts:
                self.texts.append(text)
                self.owner.append(index)

    def rank(self, canonical_query: str, entities: Entities, limit: int = 5) -> list[Candidate]:
        """Measures ordered by score (0-100), best first, one entry per measure."""
        if not canonical_query:
            return []
        best: dict[int, float] = {}
        for _, score, position in process.extract(canonical_query, self.texts, scorer=fuzz.ratio, limit=40):
            owner = self.owner[position]
            best[owner] = max(best.get(owner, 0.0), score)
        partial: dict[int, float] = {}
        for _, score, position in process.extract(canonical_query, self.texts, scorer=fuzz.partial_ratio, limit=40):
            owner = self.owner[position]
            partial[owner] = max(partial.get(owner, 0.0), score)
        stated = entities.facts
        scored: list[Candidate] = []
        for index, entry in enumerate(self.entries):
            keyword_hits = 0.0
            covered = ""
            for keyword in entry.keywords:
                if keyword in canonical_query and keyword not in covered:
                    keyword_hits += KEYWORD_POINTS
                    covered += keyword + "|"
            evidence = min(KEYWORD_CAP, keyword_hits) + min(FACT_CAP, FACT_POINTS * len(stated & entry.facts))
            score = SIMILARITY_WEIGHT * best.get(index, 0.0) + PARTIAL_WEIGHT * partial.get(index, 0.0) + evidence
            if score > 0:
                scored.append(Candidate(entry.measure, min(MAX_SCORE, score)))
        scored.sort(key=lambda c: (-c.score, not c.measure.mandatory))
        return scored[:limit]


def plain_ratio_rank(query: str, measures: list[Measure]) -> Measure | None:
    """The baseline: plain fuzz.ratio of the raw question against raw example questions."""
    texts = [(e, m) for m in measures for e in m.examples]
    found = process.extractOne(query, [t for t, _ in texts], scorer=fuzz.ratio)
    return texts[found[2]][1] if found else None
