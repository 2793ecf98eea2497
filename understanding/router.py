"""What a message is: a command, an intent, small talk, a question about a measure or a topic, a
question a sentence of the documents answers, or none of these.

The `Understander` is built once (lexicon, the jieba dictionary, the question index) and is a pure
function of (text, region, day) afterwards: no store, no session. `route` turns a reading into
what the conversation should do with it; the conversation does it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from eligibility.engine import AUDIENCE, Engine
from eligibility.explain import verdict
from eligibility.household import Household
from foundation import checks
from foundation.datafile import load_data
from foundation.text import clean, normalize_width
from policy_kb.model import KnowledgeBase, Topic
from understanding.answers import answer_words
from understanding.entities import Entities, extract
from understanding.fact_words import load_fact_words
from understanding.focus import load_focus
from understanding.household_parse import load_persons, parse_description
from understanding.lexicon import Lexicon, load_lexicon
from understanding.passages import Found, PassageIndex
from understanding.places import load_gazetteer
from understanding.retrieval import Candidate, Retriever, measure_doc, terms, topic_doc, topic_key
from understanding.segmenter import setup_jieba

INTENTS_FILE = Path(__file__).parent / "lexicon_data" / "intents.yaml"
UNDERSTAND_CACHE = 4096
# Calibrated on the tuning question set's score distribution (top-1 precision ≥ 95% above
# CONFIDENT) and on off-topic chatter (which stays below POSSIBLE); "really close" is CLOSE.
CONFIDENT = 36.0
MARGIN = 5.0
WEAK = 22.0  # below POSSIBLE, a measure that alone matches (CLEAR_LEAD ahead of the next) still answers
CLEAR_LEAD = 8.0
WEAK_WORDS = 8.0  # and words shared with it, not a look-alike sentence ("今天天气怎么样")
SITUATION_FLOOR = 15.0  # a message that tells a situation (无房) is answered by a measure for it that scores this much
CLOSE = 2.5
POSSIBLE = 28.0
# A sentence of a document answers when it holds this share of the question's words (passages.py).
FIT_REACH = 8.0  # how far below the best a measure the stated facts fit may be, and still win
HOW_MUCH_REACH = 30.0  # how far below the best a measure with an amount may be, for a how-much question
JOIN_MEASURE = "monitoring.apply"
# "评议过了", "研判完", "审核以后": a step said to be done; the question is about the next one.
_DONE_TAIL = r"(?:过了|完了|完|以后|之后|结束|后)"
PASSAGE_OK = 20.0
PASSAGE_STRONG = 35.0
PASSAGE_WEIGHT = 15.0  # and this much matched weight: a question of two words matches any sentence
_ABOUT_HOUSEHOLD = re.compile(r"(我|你|他|她|[\u4e00-\u9fff]{1,3})家|家里|口人|(?:监测|低保|脱贫|贫困|特困|搬迁|五保|一|这|那)户|户主")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SYMBOLS = re.compile(r"[\s\W\d_]+")
# "能退一半不", "有补助没", "去得冇": a yes-no question that ends in its negation.
_TAIL_QUESTION = re.compile(r"[\u4e00-\u9fff]{2}(?:不|没|冇|未|没有|不得)[？?。!！]*$")
# "包不包括", "享不享受", "够没够": a verb, 不/没, the verb again asks yes or no.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])(?:不|没|冇)\1")
_ITEM_REFERENCE = re.compile(r"^\s*(?:怎么办|怎么申请|原文|依据|出处|详细|详情)\s*第?[0-9一二三四五六七八九十]{1,3}\s*(?:项|个|条)?\s*$")
_NOT_WORDS = re.compile(r"[\s\W_]+")  # emoji, punctuation and spaces


@dataclass(frozen=True, slots=True)
class Intents:
    """intents.yaml: whole-message commands, intent phrases, small talk and the kinds of question."""

    commands: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[str, ...]]
    smalltalk: dict[str, tuple[str, ...]]
    kinds: dict[str, tuple[str, ...]]

    def kind(self, name: str, canonical: str) -> bool:
        for said in self.kinds.get("stated", ()):  # "花了好多钱" tells, it does not ask how much
            canonical = canonical.replace(said, "")
        return any(w in canonical for w in self.kinds.get(name, ()))


@lru_cache(maxsize=1)
def load_intents() -> Intents:
    path = INTENTS_FILE
    data = checks.mapping(load_data(path), str(path), 1, path.name)
    checks.keys(data, str(path), path.name, ("commands", "intents", "smalltalk", "question_kinds"))

    def table(key: str) -> dict[str, tuple[str, ...]]:
        raw = checks.mapping(data[key], str(path), data.line_of(key), key)
        return {name: tuple(clean(w) or w for w in checks.text_list(raw, name, str(path), name)) for name in raw}

    return Intents(table("commands"), table("intents"), table("smalltalk"), table("question_kinds"))


@dataclass(frozen=True, slots=True)
class Reading:
    canonical: str
    entities: Entities
    region: str
    candidates: list[Candidate]
    passages: list[Found] = field(default_factory=list)
    people: int = 0  # how many people the message describes (household_parse)
    how_much: bool = False  # how much or how many: measures with an amount answer it
    procedure: bool = False
    money: bool = False  # how much money ("要交钱吗", "补几成")


@dataclass(frozen=True, slots=True)
class Route:
    """What to do with a message: `kind` is intent | measure | topic | passage | choose | smalltalk
    | unknown."""

    kind: str
    name: str = ""  # the intent, the measure or topic id, or the small-talk text key
    options: tuple[str, ...] = ()  # for choose: the measure ids offered
    reading: Reading | None = field(default=None, compare=False)
    offer: str = ""  # an intent the answer offers ("怎么申请" is answered, and the form offered)

    @property
    def answers(self) -> bool:
        """Whether the route answers a question (for a question typed into a form)."""
        return self.kind in ("measure", "topic", "passage") or (self.kind == "intent" and self.name == "monitoring_check")


class Understander:
    """Reads messages for one knowledge base; thread-safe after construction."""

    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        self.kb = kb
        self.engine = engine
        self.lexicon: Lexicon = load_lexicon(extra_terms=policy_terms(kb))
        setup_jieba(kb, self.lexicon.terms)
        self.words = load_intents()
        self.commands, self.intents = self.words.commands, self.words.phrases
        answer_words()  # read every data file at start-up, so a mistake fails loudly there
        load_fact_words()
        load_gazetteer()
        load_focus()
        self.region_names = {name: r.id for r in kb.regions.values() if r.id != "base"
                             for name in sorted({r.name, r.full_name, *r.aliases}, key=len, reverse=True)}
        self.homes = {r.id: r.place for r in kb.regions.values() if r.place is not None}
        topics: dict[str, Topic] = {}
        for view in kb.views.values():
            for topic in view.topics:
                topics.setdefault(topic.id, topic)
        docs = [measure_doc(m) for m in kb.all_measures()] + [topic_doc(t) for t in topics.values()]
        self.retriever = Retriever(docs, self.lexicon)  # one index for every region, built (or read from cache) now
        self.passages = PassageIndex(kb, self.lexicon)
        self.region_ids = {rid: frozenset([*(m.id for m in view.measures), *(topic_key(t.id) for t in view.topics)])
                           for rid, view in kb.views.items()}
        self.region_sources = {rid: frozenset({"base", rid}) for rid in kb.views}
        # A county's own measures and the base ones whose figures it sets (博罗's 100% premium subsidy).
        self.county_ids = {rid: frozenset(m.id for m in view.measures if m.region == rid or any(
            (p := view.parameters.get(a.parameter)) is not None and p.region == rid for a in m.amounts)) for rid, view in kb.views.items()}
        self.topics = topics
        self.next_step = {t.follows: t.id for t in topics.values() if t.follows}
        # The measure that says how a household gets under monitoring, in each region (a county's own replaces the base one).
        self.join_measure = {rid: next((m.id for m in view.measures if JOIN_MEASURE in (m.id, m.replaces)), "")
                             for rid, view in kb.views.items()}
        self.mention_words = _mention_words(kb, frozenset(word for word, _ in load_persons().words))
        self._read_cached = lru_cache(maxsize=UNDERSTAND_CACHE)(self._read)
        self._canonical = lru_cache(maxsize=UNDERSTAND_CACHE)(self.lexicon.canonical)

    # -- pieces ------------------------------------------------------------------------
    def canonical(self, text: str) -> str:
        """The message in canonical words; one message is read so several times (is it a
        question, what does it say, whom does it describe), so the reading is kept."""
        return self._canonical(text)

    def extract(self, text: str, region: str | None = None) -> Entities:
        """The facts a message states, read through the lexicon (`region`: where the asker lives)."""
        return extract(self.canonical(text), self.region_names, self.homes, region)

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

    def smalltalk(self, text: str) -> str | None:
        """greeting, thanks, ack, bye or foreign for a message that is only that; None otherwise."""
        t = clean(text)
        plain = normalize_width(text)
        cjk = len(_CJK.findall(plain))
        foreign = sum(1 for c in plain if c.isalpha() and not _CJK.match(c))
        if foreign >= 3 and foreign >= 2 * cjk:  # English, or mostly another script
            return "greeting" if any(t == w for w in self.words.smalltalk.get("greeting", ())) else "foreign"
        if not _NOT_WORDS.sub("", t):
            return "ack" if t else None  # emoji and punctuation only
        for name, words in self.words.smalltalk.items():
            rest = t
            for word in sorted(words, key=len, reverse=True):
                rest = rest.replace(word, "")
            if len(rest) < len(t) and len(_SYMBOLS.sub("", rest)) <= 1:
                return name
        return None

    def is_question(self, text: str) -> bool:
        """Whether a message asks something (吗, 多少, 怎么, 是不是 …), read in canonical form."""
        if _ITEM_REFERENCE.match(text):
            return False  # "怎么办 3": an item of a result asked for, not a question to answer
        canonical = self.canonical(text)
        return (self.words.kind("asking", canonical) or self.words.kind("asking", text)
                or bool(_TAIL_QUESTION.search(text.strip())) or bool(_A_NOT_A.search(text)))

    # -- reading and routing -----------------------------------------------------------
    def read(self, text: str, region: str, on: dt.date) -> Reading:
        """Canonical text, entities, the region it is about, ranked measures and topics, the best
        sentences of the documents (cached: many villagers ask the same questions)."""
        return self._read_cached(text, region, on)

    def clear_cache(self) -> None:
        self._read_cached.cache_clear()
        self._canonical.cache_clear()
        memo = load_fact_words().memo
        if memo is not None:
            memo.cache_clear()  # type: ignore[attr-defined]

    def mentioned(self, canonical: str, region: str) -> tuple[str, ...]:
        """The measures of the region a description names by their own words ("要住院", "想开农家乐
        创业"): what the family asked about, said first in the result."""
        return tuple(dict.fromkeys(i for word, owners in self.mention_words.get(region, ()) if word in canonical for i in owners))

    def _with_common_sense(self, entities: Entities, region: str, on: dt.date) -> Entities:
        """The stated facts and what common sense adds (外省 is 县外, 县城 is not), for ranking: a
        measure reads the derived fact, the question said the fact it follows from."""
        if not entities.member and not entities.household:
            return entities
        done = self.engine.complete(Household(dict(entities.household), [dict(entities.member)]), region, on)
        return replace(entities, household=done.facts, member=(done.members or [{}])[0])

    def _read(self, text: str, region: str, on: dt.date) -> Reading:
        canonical = self.canonical(text)
        entities = extract(canonical, self.region_names, self.homes, region)
        region = entities.region or region
        params = self.engine.params(region, on)
        money = self.words.kind("how_much", canonical)
        how_much = money or self.words.kind("how_many", canonical)
        procedure = self.words.kind("procedure", canonical)
        query_terms = terms(canonical)  # read once for the measures and for the sentences
        sensed = self._with_common_sense(entities, region, on)
        # the measures that read a fact are pointed to by what was said and what common sense adds that
        # is so (在县外); a "no" common sense adds (not on 低保, being 特困) only rules measures out
        told = entities.facts | {f"{scope}.{k}" for scope, facts in (("household", sensed.household), ("member", sensed.member))
                                 for k, v in facts.items() if v is not False}
        candidates = self.retriever.rank(canonical, sensed, params, ids=self.region_ids[region], how_much=how_much,
                                         procedure=procedure, limit=8, county=self.county_ids.get(entities.region or ""),
                                         asks_fit=self.words.kind("asks_fit", canonical), query_terms=query_terms, told=told)
        passages = self.passages.search(canonical, self.region_sources[region], limit=5, query_terms=query_terms)
        people = parse_description(canonical, self.region_names, self.homes, region, whole=entities).people
        return Reading(canonical, entities, region, candidates, passages, people, how_much, procedure, money)

    def route(self, text: str, region: str, on: dt.date) -> Route:
        read = self.read(text, region, on)
        canonical = read.canonical
        intent = self.phrase_intent(canonical)
        if intent and (self.is_intent_phrase(intent, text) or self.is_intent_phrase(intent, canonical)):
            return Route("intent", intent, reading=read)  # a menu button or the bare command
        talk = self.smalltalk(text)
        if talk is not None:
            return Route("smalltalk", talk, reading=read)
        if "income_per_head" in read.entities.household and self.words.kind("monitoring", canonical):
            return Route("intent", "monitoring_check", reading=read)
        if self.words.kind("join", canonical) and (joining := self.join_measure.get(read.region)):
            # "…揭不开锅了，咋个才能纳入监测": how to get in is the county's procedure, and the form is offered
            return Route("measure", joining, reading=read, offer="apply_monitoring")
        if read.people >= 2 or (read.people == 1 and (intent == "household_check" or self._describes_one(text, read))):
            # A family described: the check, answer first; unless it asks one thing that one answer settles.
            answered = self._answer_route(read, self.engine.params(read.region, on)) if self.is_question(text) and intent != "household_check" else None
            if answered is not None and answered.kind in ("measure", "topic", "passage") and _settled(answered, read):
                return replace(answered, offer="household_check")
            return Route("intent", "household_check", reading=read)
        top = read.candidates[0] if read.candidates else None
        asks_amount = read.how_much and top is not None and top.measure is not None and top.score >= CONFIDENT
        if intent == "household_check" and not asks_amount and (_ABOUT_HOUSEHOLD.search(canonical) or not top or top.score < CONFIDENT):
            return Route("intent", "household_check", reading=read)
        if intent == "apply_monitoring" and self.is_question(text):
            answered = self._answer_route(read, self.engine.params(read.region, on))
            if answered is not None:
                return replace(answered, offer="apply_monitoring")
        if intent and intent != "household_check":
            return Route("intent", intent, reading=read)
        return self._answer_route(read, self.engine.params(read.region, on)) or Route("unknown", reading=read)

    def _describes_one(self, text: str, read: Reading) -> bool:
        """One person described as a household ("五保户老周，一级残疾证，七十一岁，一个人住"), not a
        question about one measure: no question asked, the household named, more than one fact."""
        facts = read.entities.facts
        lives_alone = any(w in read.canonical for w in load_persons().alone)  # "一个人过": a household of one
        return not self.is_question(text) and bool(_ABOUT_HOUSEHOLD.search(read.canonical) or read.entities.size or lives_alone) \
            and len(facts) >= 2

    def _answer_route(self, read: Reading, params: dict) -> Route | None:
        """The answer; when it is a procedure step the question says is done ("评议过了，乡镇多久来"),
        the step that follows it."""
        route = self._best_route(read, params)
        if route is not None and route.kind in ("topic", "choose"):
            shown = route.name or route.options[0].removeprefix("topic:")
            step, after = self.topics.get(shown), self.next_step.get(shown)
            if step is not None and after and any(
                    re.search(re.escape(k) + _DONE_TAIL, read.canonical) for k in step.keywords):
                return Route("topic", after, reading=read)
        return route

    def _best_route(self, read: Reading, params: dict) -> Route | None:
        """The measure, topic or sentence that answers the question; a choice when two are close."""
        candidates = read.candidates
        top = candidates[0] if candidates else None
        passage = read.passages[0] if read.passages and read.passages[0].weight >= PASSAGE_WEIGHT else None
        if passage is not None and passage.score >= PASSAGE_OK and read.procedure and (top is None or top.topic is None):
            if top is None or top.score < CONFIDENT or passage.score >= PASSAGE_STRONG:
                return Route("passage", reading=read)
        if top and read.money and top.measure is not None and not top.measure.amounts:
            # "要交钱吗": of the measures on the same matter, the one with the amount answers it
            paying = next((c for c in candidates[1:] if c.measure is not None and c.measure.amounts
                           and c.measure.category == top.measure.category and c.score >= top.score - HOW_MUCH_REACH), None)
            if paying is not None and paying.score >= POSSIBLE - HOW_MUCH_REACH / 2:
                return _answer(paying, read)
        if top and top.score >= POSSIBLE:
            close = [c for c in candidates[1:3] if top.score - c.score < (CLOSE if top.score >= CONFIDENT else MARGIN)]
            if close and read.how_much:  # "how much": of close measures, the ones with an amount
                with_amount = [c for c in [top, *close] if c.measure is not None and c.measure.amounts]
                if with_amount and len(with_amount) <= len(close):
                    top, close = with_amount[0], with_amount[1:]
            pool = [c for c in candidates[:4] if top.score - c.score < FIT_REACH]
            if len(pool) > 1:
                fitting = _best_fit(pool, read, params)
                if fitting is not None:
                    top, close = fitting, []
            if not close:
                return _answer(top, read)
            if read.procedure and passage is not None and passage.score >= PASSAGE_OK and all(c.topic for c in [top, *close]) \
                    and top.score < CONFIDENT:
                return Route("passage", reading=read)  # two procedures alike, neither sure: the sentence that answers
            if top.score >= CONFIDENT or passage is None or passage.score < PASSAGE_OK:
                return Route("choose", options=tuple(c.doc.id for c in [top, *close]), reading=read)
        if top and top.score >= WEAK and top.words >= WEAK_WORDS \
                and top.score - (candidates[1].score if len(candidates) > 1 else 0.0) >= CLEAR_LEAD:
            return _answer(top, read)  # few words matched, but only this one: better than a dead end
        if passage is not None and passage.score >= PASSAGE_OK:
            return Route("passage", reading=read)
        stated = read.entities.facts - AUDIENCE
        situated = next((c for c in candidates[:2] if c.score >= SITUATION_FLOOR and c.doc.facts & stated), None)
        if situated is not None:
            return _answer(situated, read)  # "屋被冲垮了，没地方住": the situation told is what the measure is for
        return None


MENTION_OWNERS = 3  # a keyword of more measures than this (低保, 监测) names none of them in particular


def _mention_words(kb: KnowledgeBase, people: frozenset[str]) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """For each region, each measure keyword that few of its measures share, with the measures it
    names; a word for a person (老人, 子女) names who, not what."""
    out = {}
    for rid, view in kb.views.items():
        owners: dict[str, list[str]] = {}
        for measure in view.measures:
            for word in dict.fromkeys(measure.keywords):
                if len(word) >= 2 and word not in people:
                    owners.setdefault(word, []).append(measure.id)
        out[rid] = tuple((w, tuple(ids)) for w, ids in owners.items() if len(ids) <= MENTION_OWNERS)
    return out


def _settled(route: Route, read: Reading) -> bool:
    """A question about a described family that one answer settles: a measure matched with
    confidence, or a sentence of a document for a procedure question."""
    if route.kind == "measure":
        return bool(read.candidates) and read.candidates[0].score >= CONFIDENT
    return route.kind == "topic" or (route.kind == "passage" and read.procedure)


def _best_fit(close: list[Candidate], read: Reading, params: dict) -> Candidate | None:
    """Of measures that match a question about equally, the one the stated facts already fit
    ("细伢子读高中补什么钱": the grant every 高中 student gets, not the ones that need a disability
    nobody mentioned); None unless exactly one fits with nothing left to know."""
    if any(c.measure is None for c in close) or not read.entities.facts:
        return None
    h, m = read.entities.household, read.entities.member
    def misfit(c: Candidate) -> int:
        judged = verdict(c.measure.when, h, m, params)  # type: ignore[union-attr]
        return 100 if judged.holds is False else len(judged.open)
    scores = [misfit(c) for c in close]
    return close[scores.index(0)] if scores.count(0) == 1 else None


def _answer(top: Candidate, read: Reading) -> Route:
    if top.topic is not None:
        return Route("topic", top.topic.id, reading=read)
    return Route("measure", top.doc.id, reading=read)


def policy_terms(kb: KnowledgeBase) -> set[str]:
    """Words the pinyin repair may restore: measure keywords and short titles."""
    terms: set[str] = set()
    for measure in kb.all_measures():
        terms.update(k for k in measure.keywords if 2 <= len(k) <= 5)
    return terms
