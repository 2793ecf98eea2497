"""What a message is: a command, an intent, a question about a measure, or none of these.

The `Understander` is built once (lexicon, the jieba dictionary, the question index) and is a pure
function of (text, region, day) afterwards: no store, no session. `route` turns a reading into
what the conversation should do with it; the conversation does it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from eligibility.engine import Engine
from foundation import checks
from foundation.datafile import load_data
from foundation.text import clean
from policy_kb.model import KnowledgeBase
from understanding.answers import answer_words
from understanding.entities import Entities, extract
from understanding.lexicon import Lexicon, load_lexicon
from understanding.retrieval import Candidate, Retriever
from understanding.segmenter import setup_jieba

INTENTS_FILE = Path(__file__).parent / "lexicon_data" / "intents.yaml"
UNDERSTAND_CACHE = 4096
# Calibrated on the question set's score distribution (top-1 precision ≥ 95% above
# CONFIDENT) and on off-topic chatter (which stays below POSSIBLE).
CONFIDENT = 36.0
MARGIN = 5.0
POSSIBLE = 28.0
_ABOUT_HOUSEHOLD = re.compile(r"(我|你|他|她|[\u4e00-\u9fff]{1,3})家|家里|口人")


@lru_cache(maxsize=1)
def load_intents() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The whole-message commands (菜单, 返回…) and the intent phrases, from intents.yaml."""
    path = INTENTS_FILE
    data = checks.mapping(load_data(path), str(path), 1, path.name)
    checks.keys(data, str(path), path.name, ("commands", "intents"))

    def table(key: str) -> dict[str, tuple[str, ...]]:
        raw = checks.mapping(data[key], str(path), data.line_of(key), key)
        return {name: tuple(clean(w) for w in checks.text_list(raw, name, str(path), name)) for name in raw}

    return table("commands"), table("intents")


@dataclass(frozen=True, slots=True)
class Reading:
    canonical: str
    entities: Entities
    region: str
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class Route:
    """What to do with a message: `kind` is intent | measure | choose | smalltalk | unknown."""

    kind: str
    name: str = ""  # the intent, the measure id, or the small-talk text key
    options: tuple[str, ...] = ()  # for choose: the measure ids offered
    reading: Reading | None = field(default=None, compare=False)


class Understander:
    """Reads messages for one knowledge base; thread-safe after construction."""

    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        self.kb = kb
        self.engine = engine
        self.lexicon: Lexicon = load_lexicon(extra_terms=policy_terms(kb))
        setup_jieba(kb, self.lexicon.terms)
        self.commands, self.intents = load_intents()
        answer_words()  # read every data file at start-up, so a mistake fails loudly there
        self.region_names = {name: r.id for r in kb.regions.values() if r.id != "base"
                             for name in sorted({r.name, r.full_name, *r.aliases}, key=len, reverse=True)}
        self.retriever = Retriever(kb.all_measures(), self.lexicon)  # one index for every region, built (or read from cache) now
        self.region_ids = {rid: frozenset(m.id for m in view.measures) for rid, view in kb.views.items()}
        self._read_cached = lru_cache(maxsize=UNDERSTAND_CACHE)(self._read)

    # -- pieces ------------------------------------------------------------------------
    def canonical(self, text: str) -> str:
        return self.lexicon.canonical(text)

    def extract(self, text: str) -> Entities:
        """The facts a message states, read through the lexicon."""
        return extract(self.canonical(text), self.region_names)

    def warm_up(self, region: str) -> None:
        """Prepares the region's part of the index now rather than on the first question."""
        self.retriever.stats(self.region_ids[region])

    def command(self, text: str) -> str | None:
        t = clean(text)
        for name, words in self.commands.items():
            if t in words:
                return name
        return None

    def phrase_intent(self, canonical: str) -> str | None:
        t = clean(canonical)
        for name, words in self.intents.items():
            if any(w and w in t for w in words):
                return name
        return None

    def is_intent_phrase(self, name: str, text: str) -> bool:
        """True when the whole message is one of the intent's phrases (a menu button)."""
        return clean(text) in self.intents.get(name, ())

    # -- reading and routing -----------------------------------------------------------
    def read(self, text: str, region: str, on: dt.date) -> Reading:
        """Canonical text, entities, the region it is about, ranked measures (cached: many
        villagers ask the same questions)."""
        return self._read_cached(text, region, on)

    def clear_cache(self) -> None:
        self._read_cached.cache_clear()

    def _read(self, text: str, region: str, on: dt.date) -> Reading:
        canonical = self.lexicon.canonical(text)
        entities = extract(canonical, self.region_names)
        region = entities.region or region
        params = self.engine.params(region, on)
        return Reading(canonical, entities, region, self.retriever.rank(canonical, entities, params, ids=self.region_ids[region]))

    def route(self, text: str, region: str, on: dt.date) -> Route:
        read = self.read(text, region, on)
        canonical, candidates = read.canonical, read.candidates
        intent = self.phrase_intent(canonical)
        if intent and (self.is_intent_phrase(intent, text) or self.is_intent_phrase(intent, canonical)):
            return Route("intent", intent, reading=read)  # a menu button or the bare command
        top = candidates[0] if candidates else None
        if intent == "household_check" and (_ABOUT_HOUSEHOLD.search(canonical) or not top or top.score < CONFIDENT):
            return Route("intent", "household_check", reading=read)
        if intent and intent not in ("household_check", "greeting", "thanks"):
            return Route("intent", intent, reading=read)
        if top and top.score >= CONFIDENT and (len(candidates) == 1 or top.score - candidates[1].score >= MARGIN):
            return Route("measure", top.measure.id, reading=read)
        if intent in ("greeting", "thanks"):
            return Route("smalltalk", intent, reading=read)
        if top and top.score >= POSSIBLE:
            return Route("choose", options=tuple(c.measure.id for c in candidates[:3]), reading=read)
        return Route("unknown", reading=read)


def policy_terms(kb: KnowledgeBase) -> set[str]:
    """Words the pinyin repair may restore: measure keywords and short titles."""
    terms: set[str] = set()
    for measure in kb.all_measures():
        terms.update(k for k in measure.keywords if 2 <= len(k) <= 5)
    return terms
