"""Answering from the policy texts themselves: the sentence of a document that best answers a
question the knowledge base has no measure or topic for ("警情解除以后在哪个系统标注",
"乡镇审核要几天").

The documents (policy_kb/sources/) are cut into sentences, each with the heading it stands under
and its document; a question is matched by BM25 over the same words and bigrams as measures
(retrieval.terms), on canonical text, so colloquial words reach the document's wording. The answer
quotes the sentence with its document and date: the policy's own words, never a paraphrase.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass

from policy_kb.model import KnowledgeBase
from understanding.lexicon import Lexicon
from understanding.retrieval import BM25_B, BM25_K1, kept, lexicon_digest, terms

_TAG = re.compile(r"<[^>]+>")
_SENTENCE = re.compile(r"(?<=[。；;！!？?])")
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[、.．]\s*)")
_TABLE_ROW = re.compile(r"^(\d{1,2})\t([^\t<]{2,12})\t")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CHARS = 12  # shorter pieces are headings, signatures or page furniture
MAX_CHARS = 220  # a longer sentence is quoted up to here


@dataclass(frozen=True, slots=True)
class Passage:
    source: str  # source id
    section: str  # the heading it stands under
    text: str


@dataclass(frozen=True, slots=True)
class Found:
    passage: Passage
    score: float  # 0-100: how much of the question's words (those the documents use) the sentence holds
    after: Passage | None = None  # the next sentence of the same part
    weight: float = 0.0  # the matched words' weight (idf): a two-word question matches anything


def _readable(line: str) -> bool:
    """Page furniture and the scrape's mojibake are left out: a sentence is mostly Chinese."""
    chars = len(line)
    return chars >= MIN_CHARS and len(_CJK.findall(line)) >= 0.6 * chars and "�" not in line


def _lines(text: str) -> list[str]:
    """The document's paragraphs: the scraped texts break sentences across lines, so a line that
    does not end a sentence runs on into the next (a table row or a heading always starts anew)."""
    out: list[str] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _TABLE_ROW.match(raw) or _HEADING.match(line):
            if buffer:
                out.append(buffer)
            buffer = raw if line else ""
        else:
            buffer = f"{buffer}{line}" if buffer else raw
        if buffer and re.search(r"[。；;！!？?:：]$|</p>$|</li>$", buffer.strip()):
            out.append(buffer)
            buffer = ""
    if buffer:
        out.append(buffer)
    return out


def split_text(source: str, text: str) -> list[Passage]:
    """A document as sentences under their headings (明白纸: the category of its table row)."""
    passages: list[Passage] = []
    section = ""
    for raw_line in _lines(text):
        row = _TABLE_ROW.match(raw_line)
        if row:
            section = f"{row.group(1)} {row.group(2)}"
        line = _TAG.sub("。", raw_line[row.end():] if row else raw_line).replace("\t", "").strip()
        line = re.sub(r"[ \u3000]+", "", line)
        if not line:
            continue
        if _HEADING.match(line) and len(line) <= 30:
            section = line.rstrip("。")
        elif _HEADING.match(line):
            head = re.split(r"[。]", line, maxsplit=1)[0]
            if len(head) <= 20:
                section = head
        for sentence in _SENTENCE.split(line):
            sentence = sentence.strip("。 ")
            if _readable(sentence):
                passages.append(Passage(source, section, sentence[:MAX_CHARS]))
    return passages


@dataclass(frozen=True, slots=True)
class _Built:
    passages: list[Passage]
    region_of: dict[str, str]
    idf: dict[str, float]
    unseen: float
    postings: dict[str, list[tuple[int, float]]]


def _build(kb: KnowledgeBase, lexicon: Lexicon) -> _Built:
    passages: list[Passage] = []
    for sid in kb.sources:
        passages.extend(split_text(sid, kb.source_texts.get(sid, "")))
    titles = [s.title for s in kb.sources.values()]
    # A document's title, or the notice that sends it out, answers nothing.
    passages = [p for p in passages if not any(t in p.text and len(p.text) <= len(t) + 40 for t in titles)]
    bags = [Counter(terms(lexicon.canonical(p.text, repair=False)) + terms(lexicon.canonical(p.section, repair=False)))
            for p in passages]
    count = max(1, len(bags))
    df: Counter = Counter(t for bag in bags for t in bag)
    idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) for t, n in df.items()}
    average = sum(sum(b.values()) for b in bags) / count
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, bag in enumerate(bags):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(bag.values()) / average)
        for term, tf in bag.items():
            postings.setdefault(term, []).append((i, idf[term] * tf * (BM25_K1 + 1) / (tf + norm)))
    return _Built(passages, {sid: s.region for sid, s in kb.sources.items()}, idf, math.log(1 + (count + 0.5) / 0.5), postings)


class PassageIndex:
    """BM25 over every sentence of every document; `search` looks at the documents a region uses."""

    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon) -> None:
        digest = hashlib.sha256(lexicon_digest(lexicon))
        for sid, source in kb.sources.items():
            digest.update("\x1f".join([sid, source.title, source.region, kb.source_texts.get(sid, "")]).encode())
        built = kept("passage-index", digest.hexdigest()[:16], _Built, lambda: _build(kb, lexicon))
        self.passages, self.region_of, self.idf, self.unseen, self.postings = (
            built.passages, built.region_of, built.idf, built.unseen, built.postings)

    def search(self, canonical_query: str, regions: frozenset[str], limit: int = 2, query_terms: list[str] | None = None) -> list[Found]:
        """The best sentences of the documents of `regions` (the base texts and the county's own);
        `query_terms`: the query's terms when the caller has them already."""
        scores: dict[int, float] = {}
        ceiling = 0.0
        for term in dict.fromkeys(terms(canonical_query) if query_terms is None else query_terms):
            # Words no document uses (屋头, 咋个) say nothing about which sentence answers.
            ceiling += self.idf.get(term, 0.0) * (BM25_K1 + 1)
            for i, weight in self.postings.get(term, ()):
                if self.region_of[self.passages[i].source] in regions:
                    scores[i] = scores.get(i, 0.0) + weight
        if not ceiling:
            return []
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:limit]
        return [Found(self.passages[i], 100.0 * s / ceiling, self._next(i), s) for i, s in best]

    def _next(self, i: int) -> Passage | None:
        """The sentence after, when it continues the same part of the same document (a sentence is
        often read with the next: "鼓励社会力量参与……。继续发挥中国社会扶贫网作用……")."""
        if i + 1 < len(self.passages):
            here, after = self.passages[i], self.passages[i + 1]
            if after.source == here.source and after.section == here.section:
                return after
        return None
