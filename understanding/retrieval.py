"""Which measure (or topic) a question is about: lexical relevance plus fuzzy similarity plus evidence.

Each measure and each topic (a procedure, a threshold, a document's validity) is a small document: its title and keywords (twice), its example questions and
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
  asking is not asking how to apply for monitoring) loses points, unless the question names it
  ("三级残疾能申请护理补贴吗" is about 护理补贴, and is answered 不符合);
- the kind of question: "how much" questions (多少, 几成, 要交钱吗) favour measures that have an
  amount; procedure questions (流程, 几天, 哪一级, 还有效吗) favour topics.
The weights are method-level constants, not tuned to individual questions.

One index serves every region: it is built once over all measures of the knowledge base (and
kept in the project cache between runs), and a region's ranking only looks at that region's
measures. Every part of the first stage is an inverted index (terms, keywords, facts), so a
question costs what its own words touch, not what the knowledge base holds.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import jieba
from rapidfuzz import fuzz, process

from foundation import checks
from foundation.datafile import load_data
from policy_kb.model import Measure, Topic
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
KIND_POINTS = 8.0  # an amount for a how-much question, a topic for a procedure question
MAX_SCORE = 100.0
SHORTLIST = 15
PARTIAL_SHORTLIST = 5  # measures that get the partial_ratio pass
BM25_K1 = 1.2
BM25_B = 0.75
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
STOPWORDS_FILE = Path(__file__).parent / "lexicon_data" / "stopwords.yaml"
INDEX_VERSION = 4  # bump when the index's layout changes

T = TypeVar("T")
_NOT_TEXT = re.compile(r"[^\u4e00-\u9fffa-z0-9]+")
# Facts every measure tests (its audience), which say nothing about what a question is about.
_AUDIENCE_FACTS = frozenset({"household.monitored", "household.members"})


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """How a question is asked (什么, 怎么, 可以 …): left out of matching (lexicon_data/stopwords.yaml)."""
    data = checks.mapping(load_data(STOPWORDS_FILE), str(STOPWORDS_FILE), 1, STOPWORDS_FILE.name)
    checks.keys(data, str(STOPWORDS_FILE), STOPWORDS_FILE.name, ("stopwords",))
    return frozenset(checks.text_list(data, "stopwords", str(STOPWORDS_FILE), "stopwords"))


def terms(text: str) -> list[str]:
    """jieba words of two or more characters, and character bigrams, of canonical text; not the
    words that only say how a question is asked."""
    stop = stopwords()
    words = [w for w in jieba.lcut_for_search(text) if len(w) >= 2 and not _NOT_TEXT.search(w) and w not in stop]
    bigrams: list[str] = []
    for run in _NOT_TEXT.split(_stop_pattern().sub(" ", text)):
        bigrams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words + ["#" + b for b in bigrams]


@lru_cache(maxsize=1)
def _stop_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(stopwords(), key=len, reverse=True))))


@dataclass(frozen=True, slots=True)
class Doc:
    """What the index reads of a measure or a topic."""

    id: str
    title: str
    body: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    region: str
    rank: int
    measure: Measure | None = None
    topic: Topic | None = None

    @property
    def facts(self) -> frozenset[str]:
        if self.measure is None:
            return frozenset()
        facts = set(self.measure.when.facts)
        for line in self.measure.amounts:
            if line.when is not None:
                facts |= line.when.facts
        return frozenset(facts) - _AUDIENCE_FACTS


def measure_doc(measure: Measure) -> Doc:
    """What it gives, how to apply, its notes and the quoted source sentence: people who ask from
    the policy text use the text's words, which the curated examples may not have."""
    body = "\n".join((measure.gives, measure.how_to_apply, measure.notes, measure.source.quote))
    return Doc(measure.id, measure.title, body, measure.keywords, measure.examples, measure.region, measure.rank, measure=measure)


def topic_doc(topic: Topic) -> Doc:
    body = "\n".join((topic.answer, topic.source.quote))
    return Doc(topic_key(topic.id), topic.title, body, topic.keywords, topic.examples, topic.region, 10_000, topic=topic)


def topic_key(topic_id: str) -> str:
    """Topics share the index with measures; their keys cannot clash with a measure id."""
    return "topic:" + topic_id


@dataclass(frozen=True, slots=True)
class Candidate:
    doc: Doc
    score: float
    words: float = 0.0  # the part of the score from words the question shares with the document (not similarity)

    @property
    def measure(self) -> Measure | None:
        return self.doc.measure

    @property
    def topic(self) -> Topic | None:
        return self.doc.topic


@dataclass(slots=True)
class _Texts:
    """What is read from the texts (the costly part, built once and cached): per measure, its bag
    of terms, its keywords and its title and examples, all canonical."""

    ids: list[str]
    bags: list[Counter]
    keywords: list[list[str]]
    texts: list[list[str]]  # title and examples, for similarity


@dataclass(slots=True)
class _Stats:
    """One region's BM25 and keyword weights over its own measures (cheap arithmetic on the bags)."""

    positions: frozenset[int]
    idf: dict[str, float]
    unseen_idf: float
    postings: dict[str, list[tuple[int, float]]]
    keywords: dict[str, list[tuple[int, float]]]  # keyword -> (measure, weight)
    by_bigram: dict[str, list[str]]  # a keyword's first two characters -> the keywords


class Retriever:
    """An index over every measure and topic of the knowledge base; `rank` looks at one region's."""

    def __init__(self, docs: list[Doc], lexicon: Lexicon) -> None:
        self.docs = docs
        self.lexicon = lexicon
        self.texts = _cached(docs, lexicon)
        self.facts_of = [d.facts for d in docs]
        owners = Counter(k for keywords in self.texts.keywords for k in set(keywords))
        # A keyword of four or more characters no other measure has names its measure (养老保险).
        self.naming = [frozenset(k for k in keywords if len(k) >= 4 and owners[k] == 1) for keywords in self.texts.keywords]
        # A keyword of four or more characters that is part of the title names it too (护理补贴 of 重度残疾人护理补贴).
        for i, keywords in enumerate(self.texts.keywords):
            title = self.texts.texts[i][0]
            self.naming[i] |= frozenset(k for k in keywords if len(k) >= 4 and k in title and k != title)
        by_fact: dict[str, list[int]] = {}
        for i, facts in enumerate(self.facts_of):
            for fact in facts:
                by_fact.setdefault(fact, []).append(i)
        self.by_fact = by_fact
        self._regions: dict[frozenset[str], _Stats] = {}

    def stats(self, ids: frozenset[str] | None) -> _Stats:
        """A region's weights, over the measures `ids` (None: all), computed once per region."""
        key = ids if ids is not None else frozenset(self.texts.ids)
        found = self._regions.get(key)
        if found is None:
            found = _stats(self.texts, frozenset(i for i, mid in enumerate(self.texts.ids) if mid in key))
            self._regions[key] = found
        return found

    def _named(self, position: int, query: str) -> bool:
        """The question names the measure (its title, or a long keyword of it): then it asks about
        that measure even when its facts rule it out ("特困人员能领护理补贴吗" is answered 不符合)."""
        title = self.texts.texts[position][0]
        return title in query or any(k in query for k in self.naming[position])

    @staticmethod
    def _relevance(query_terms: list[str], stats: _Stats) -> dict[int, float]:
        """BM25 of the measures sharing a term with the query, as a share of the most the
        query's terms could score (terms no measure has still count in that ceiling)."""
        scores: dict[int, float] = {}
        ceiling = 0.0
        for term in dict.fromkeys(query_terms):
            ceiling += stats.idf.get(term, stats.unseen_idf) * (BM25_K1 + 1)
            for position, weight in stats.postings.get(term, ()):
                scores[position] = scores.get(position, 0.0) + weight
        return {i: v / ceiling for i, v in scores.items()} if ceiling else {}

    @staticmethod
    def _keywords(query: str, stats: _Stats) -> dict[int, float]:
        """Keyword points per measure: each keyword found counts once, and not when it is part of
        a longer keyword of the same measure already counted."""
        present: set[str] = set()
        for i in range(len(query) - 1):
            for keyword in stats.by_bigram.get(query[i:i + 2], ()):
                if query.startswith(keyword, i):
                    present.add(keyword)
        per_measure: dict[int, list[tuple[str, float]]] = {}
        for keyword in present:
            for position, weight in stats.keywords[keyword]:
                per_measure.setdefault(position, []).append((keyword, weight))
        points: dict[int, float] = {}
        for position, found in per_measure.items():
            covered = ""
            total = 0.0
            for keyword, weight in sorted(found, key=lambda kw: -len(kw[0])):
                if keyword not in covered:
                    total += KEYWORD_POINTS * weight
                    covered += keyword + "|"
            points[position] = min(KEYWORD_CAP, total)
        return points

    def rank(self, canonical_query: str, entities: Entities, params: dict | None = None, limit: int = 5,
             ids: frozenset[str] | None = None, how_much: bool = False, procedure: bool = False,
             county: frozenset[str] | None = None, asks_fit: bool = False, query_terms: list[str] | None = None,
             told: set[str] | None = None) -> list[Candidate]:
        """Measures and topics ordered by score (0-100), best first, one entry each.

        Two stages: lexical relevance and evidence through the inverted indexes, then fuzzy
        similarity, the contradiction test and the kind of question for the best SHORTLIST only.
        `params` are the region's parameter values, for the contradiction test; `ids` the region's
        measures and topics; `how_much` and `procedure` what kind of question it is; `county` the
        measures of the county the question names (its own, and the base ones it sets figures for);
        `asks_fit` for "贷两年得唔得": whether the stated facts fit is the question, so a measure they
        rule out is not pushed down (its answer says they do not fit); `query_terms` the query's
        terms when the caller has them already; `told` the facts that point to the measures reading
        them (by default the entities' own).
        """
        if not canonical_query:
            return []
        stats = self.stats(ids)
        allowed = stats.positions
        query_terms = terms(canonical_query) if query_terms is None else query_terms
        first: dict[int, float] = {i: RELEVANCE_WEIGHT * v for i, v in self._relevance(query_terms, stats).items()}
        for position, points in self._keywords(canonical_query, stats).items():
            first[position] = first.get(position, 0.0) + points
        stated = entities.facts if told is None else told
        if stated:
            counts: Counter = Counter(i for fact in stated for i in self.by_fact.get(fact, ()) if i in allowed)
            for position, n in counts.items():
                first[position] = first.get(position, 0.0) + min(FACT_CAP, FACT_POINTS * n)
        if county:
            for position in allowed:
                doc = self.docs[position]
                if doc.id in county or doc.region == entities.region:
                    first[position] = first.get(position, 0.0) + REGION_POINTS
        shortlist = sorted(first.items(), key=lambda kv: -kv[1])[:SHORTLIST]
        if not shortlist:
            return []
        # Similarity: fuzz.ratio against every text of the shortlist (cheap), then partial_ratio
        # (ten times dearer) only for the measures still in the running after it.
        owners: list[int] = []
        texts: list[str] = []
        for position, _ in shortlist:
            for text in self.texts.texts[position]:
                owners.append(position)
                texts.append(text)
        similar: dict[int, float] = {}
        for _text, score, at in process.extract(canonical_query, texts, scorer=fuzz.ratio, limit=None):
            owner = owners[at]
            similar[owner] = max(similar.get(owner, 0.0), SIMILARITY_WEIGHT * score)
        leaders = sorted(shortlist, key=lambda kv: -(kv[1] + similar.get(kv[0], 0.0)))[:PARTIAL_SHORTLIST]
        for position, _ in leaders:
            best = process.extractOne(canonical_query, self.texts.texts[position], scorer=fuzz.partial_ratio)
            if best is not None:
                similar[position] = similar.get(position, 0.0) + PARTIAL_WEIGHT * best[1]
        scored: list[Candidate] = []
        for position, lexical in shortlist:
            doc = self.docs[position]
            score = lexical + similar.get(position, 0.0)
            if (doc.measure is not None and params is not None and not asks_fit and not self._named(position, canonical_query)
                    and _contradicted(doc.measure, entities, params)):
                score -= CONTRADICTION_PENALTY
            if (how_much and doc.measure is not None and doc.measure.amounts) or (procedure and doc.topic is not None):
                score += KIND_POINTS
            if score > 0:
                scored.append(Candidate(doc, min(MAX_SCORE, score), lexical))
        scored.sort(key=lambda c: (-c.score, c.doc.rank))
        return scored[:limit]


def _build(docs: list[Doc], lexicon: Lexicon) -> _Texts:
    def canon(text: str) -> str:
        return lexicon.canonical(text, repair=False)  # curated text has no typos to repair

    bags: list[Counter] = []
    keyword_lists: list[list[str]] = []
    texts_of: list[list[str]] = []
    for doc in docs:
        examples = [canon(t) for t in doc.examples]
        keywords = sorted({canon(k) for k in doc.keywords if len(k) >= 2}, key=len, reverse=True)
        title = canon(doc.title)
        bags.append(Counter(terms(title) * 2 + [t for k in keywords for t in terms(k)] * 2 + [t for e in examples for t in terms(e)]
                            + terms(canon(doc.body))))
        keyword_lists.append(keywords)
        texts_of.append([title, *examples])
    return _Texts([d.id for d in docs], bags, keyword_lists, texts_of)


def _stats(texts: _Texts, positions: frozenset[int]) -> _Stats:
    count = len(positions)
    document_frequency: Counter = Counter(t for i in positions for t in texts.bags[i])
    keyword_df = Counter(k for i in positions for k in set(texts.keywords[i]))
    average_length = sum(sum(texts.bags[i].values()) for i in positions) / max(1, count)
    idf = {t: math.log(1 + (count - df + 0.5) / (df + 0.5)) for t, df in document_frequency.items()}
    postings: dict[str, list[tuple[int, float]]] = {}
    for position in sorted(positions):
        bag = texts.bags[position]
        norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(bag.values()) / average_length)
        for term, tf in bag.items():
            postings.setdefault(term, []).append((position, idf[term] * tf * (BM25_K1 + 1) / (tf + norm)))
    keywords: dict[str, list[tuple[int, float]]] = {}
    for position in sorted(positions):
        for keyword in texts.keywords[position]:
            keywords.setdefault(keyword, []).append((position, math.log(1 + count / keyword_df[keyword])))
    by_bigram: dict[str, list[str]] = {}
    for keyword in keywords:
        by_bigram.setdefault(keyword[:2], []).append(keyword)
    return _Stats(positions, idf, math.log(1 + (count + 0.5) / 0.5), postings, keywords, by_bigram)


def lexicon_digest(lexicon: Lexicon) -> bytes:
    """What of the lexicon an index depends on: the synonyms and the stopwords."""
    return (repr(sorted(lexicon.synonyms.items())) + repr(sorted(stopwords())) + str(INDEX_VERSION)).encode()


def _fingerprint(docs: list[Doc], lexicon: Lexicon) -> str:
    digest = hashlib.sha256(lexicon_digest(lexicon))
    for d in docs:
        digest.update("\x1f".join([d.id, d.title, d.body, *d.keywords, *d.examples]).encode())
    return digest.hexdigest()[:16]


def kept(name: str, fingerprint: str, kind: type[T], build: Callable[[], T]) -> T:
    """What `build` makes, from the project cache when its inputs (the fingerprint) are unchanged,
    else built and kept: start-up reads an index instead of cutting every text with jieba."""
    path = CACHE_DIR / f"{name}-{fingerprint}.pickle"
    try:
        with path.open("rb") as f:
            value = pickle.load(f)
        if isinstance(value, kind):
            return value
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError, ImportError):
        pass
    value = build()
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    except OSError:
        pass  # a read-only checkout still works, only slower to start
    return value


def _cached(docs: list[Doc], lexicon: Lexicon) -> _Texts:
    """The question index, kept while the texts are unchanged (the fingerprint holds every id)."""
    return kept("question-index", _fingerprint(docs, lexicon), _Texts, lambda: _build(docs, lexicon))


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
