"""Which measure a question is about: lexical relevance plus fuzzy similarity plus evidence.

Each measure is a small document: its title and keywords (twice), its example questions and
what it gives, all in canonical form (after the lexicon). A question's score combines
- relevance: BM25 over jieba words and character bigrams (bigrams survive segmentation
  mistakes and typos the lexicon did not catch), as a share of the best score the question
  could reach, so it reads as "how much of the question this measure explains";
- similarity: rapidfuzz `fuzz.ratio` on raw characters against the closest example, and
  `fuzz.partial_ratio` so a short question can match inside a longer example;
- keyword evidence: the measure's keywords found in the question, weighted by how rare the
  keyword is across measures (监测对象 says little; 雨露计划 says a lot);
- fact evidence: facts the question states (a school stage, a work place) that the
  measure's conditions test; and the county the question names, for that county's measures;
- contradiction: a measure whose conditions the stated facts already rule out (a 监测户
  asking is not asking how to apply for monitoring) loses points.
The weights are method-level constants, not tuned to individual questions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import jieba
from rapidfuzz import fuzz, process

from policy_kb.model import Measure
from understanding.entities import Entities
from understanding.lexicon import Lexicon

RELEVANCE_WEIGHT = 55.0
SIMILARITY_WEIGHT = 0.25
PARTIAL_WEIGHT = 0.15
KEYWORD_POINTS = 5.0
KEYWORD_CAP = 15.0
FACT_POINTS = 5.0
FACT_CAP = 10.0
REGION_POINTS = 10.0
CONTRADICTION_PENALTY = 20.0
MAX_SCORE = 100.0
SHORTLIST = 15
BM25_K1 = 1.2
BM25_B = 0.75

_NOT_TEXT = re.compile(r"[^\u4e00-\u9fffa-z0-9]+")
# Facts every measure tests (its audience), which say nothing about what a question is about.
_AUDIENCE_FACTS = frozenset({"household.monitored", "household.members"})


def terms(text: str) -> list[str]:
    """jieba words of two or more characters, and character bigrams, of canonical text."""
    words = [w for w in jieba.lcut_for_search(text) if len(w) >= 2 and not _NOT_TEXT.search(w)]
    bigrams: list[str] = []
    for run in _NOT_TEXT.split(text):
        bigrams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words + ["#" + b for b in bigrams]


@dataclass(frozen=True, slots=True)
class Candidate:
    measure: Measure
    score: float


@dataclass(slots=True)
class _Entry:
    measure: Measure
    keywords: list[tuple[str, float]]
    facts: frozenset[str]


def _measure_facts(measure: Measure) -> frozenset[str]:
    facts = set(measure.when.facts)
    for line in measure.amounts:
        if line.when is not None:
            facts |= line.when.facts
    return frozenset(facts) - _AUDIENCE_FACTS


class Retriever:
    """An index over one region's measures; built once per region and reused."""

    def __init__(self, measures: list[Measure], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.texts_of: list[list[str]] = []  # each measure's title and examples, for similarity
        def canon(text: str) -> str:
            return lexicon.canonical(text, repair=False)  # curated text has no typos to repair

        documents: list[Counter] = []
        keyword_lists: list[list[str]] = []
        for measure in measures:
            examples = [canon(t) for t in measure.examples]
            keywords = sorted({canon(k) for k in measure.keywords if len(k) >= 2}, key=len, reverse=True)
            title = canon(measure.title)
            bag = Counter(terms(title) * 2 + [t for k in keywords for t in terms(k)] * 2 + [t for e in examples for t in terms(e)]
                          + terms(canon(measure.gives)))
            documents.append(bag)
            keyword_lists.append(keywords)
            self.texts_of.append([title, *examples])
        count = len(measures)
        document_frequency: Counter = Counter(t for bag in documents for t in bag)
        keyword_df = Counter(k for keywords in keyword_lists for k in set(keywords))
        average_length = sum(sum(b.values()) for b in documents) / max(1, count)
        self.idf = {t: math.log(1 + (count - df + 0.5) / (df + 0.5)) for t, df in document_frequency.items()}
        self.unseen_idf = math.log(1 + (count + 0.5) / 0.5)
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for index, bag in enumerate(documents):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(bag.values()) / average_length)
            for term, tf in bag.items():
                self.postings.setdefault(term, []).append((index, self.idf[term] * tf * (BM25_K1 + 1) / (tf + norm)))
        self.entries = [
            _Entry(measure, [(k, math.log(1 + count / keyword_df[k])) for k in keyword_lists[i]], _measure_facts(measure))
            for i, measure in enumerate(measures)
        ]

    def _relevance(self, query_terms: list[str]) -> dict[int, float]:
        """BM25 of the measures sharing a term with the query, as a share of the most the
        query's terms could score (terms no measure has still count in that ceiling)."""
        scores: dict[int, float] = {}
        ceiling = 0.0
        for term in dict.fromkeys(query_terms):
            idf = self.idf.get(term, self.unseen_idf)
            ceiling += idf * (BM25_K1 + 1)
            for index, weight in self.postings.get(term, ()):
                scores[index] = scores.get(index, 0.0) + weight
        return {i: v / ceiling for i, v in scores.items()} if ceiling else {}

    def rank(self, canonical_query: str, entities: Entities, params: dict | None = None, limit: int = 5) -> list[Candidate]:
        """Measures ordered by score (0-100), best first, one entry per measure.

        Two stages: lexical relevance and evidence for every measure (cheap, through an
        inverted index), then fuzzy similarity and the contradiction test for the best
        SHORTLIST only. `params` are the region's parameter values, for the contradiction test.
        """
        if not canonical_query:
            return []
        relevance = self._relevance(terms(canonical_query))
        stated = entities.facts
        first: list[tuple[float, int]] = []
        for index, entry in enumerate(self.entries):
            keyword_points = 0.0
            covered = ""
            for keyword, weight in entry.keywords:
                if keyword in canonical_query and keyword not in covered:
                    keyword_points += KEYWORD_POINTS * weight
                    covered += keyword + "|"
            evidence = min(KEYWORD_CAP, keyword_points) + min(FACT_CAP, FACT_POINTS * len(stated & entry.facts))
            if entities.region and entry.measure.region == entities.region:
                evidence += REGION_POINTS
            first.append((RELEVANCE_WEIGHT * relevance.get(index, 0.0) + evidence, index))
        first.sort(reverse=True)
        scored: list[Candidate] = []
        for lexical, index in first[:SHORTLIST]:
            entry = self.entries[index]
            texts = self.texts_of[index]
            similar = SIMILARITY_WEIGHT * max(fuzz.ratio(canonical_query, t) for t in texts)
            similar += PARTIAL_WEIGHT * max(fuzz.partial_ratio(canonical_query, t) for t in texts)
            score = lexical + similar
            if params is not None and _contradicted(entry.measure, entities, params):
                score -= CONTRADICTION_PENALTY
            if score > 0:
                scored.append(Candidate(entry.measure, min(MAX_SCORE, score)))
        scored.sort(key=lambda c: (-c.score, c.measure.rank))
        return scored[:limit]


def _contradicted(measure: Measure, entities: Entities, params: dict) -> bool:
    """True when the facts the question states make the measure's condition false."""
    if not entities.household and not entities.member:
        return False
    member = entities.member
    if measure.target == "member":
        return measure.when.ev(entities.household, member, params, [member]) is False
    return measure.when.ev(entities.household, None, params, [member] if member else None) is False


def plain_ratio_rank(query: str, measures: list[Measure]) -> Measure | None:
    """The baseline: plain fuzz.ratio of the raw question against raw example questions."""
    texts = [(e, m) for m in measures for e in m.examples]
    found = process.extractOne(query, [t for t, _ in texts], scorer=fuzz.ratio)
    return texts[found[2]][1] if found else None
