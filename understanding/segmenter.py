"""jieba, set up once per process with the knowledge base's words as its user dictionary.

jieba's full dictionary (350,000 words) takes over a second to load on a small machine, so
the first run writes a compact main dictionary into a project-local cache folder (not /tmp):
the most frequent words, plus every word that sounds like a policy term. The latter matter:
the pinyin repair leaves a word alone when jieba knows it (找人 is not a typo of 招人), so
the words it could confuse must all be known.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import jieba

from policy_kb.model import KnowledgeBase
from understanding.lexicon import sound

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
COMPACT_WORDS = 60000
_READY: set[int] = set()


def policy_words(kb: KnowledgeBase) -> set[str]:
    """Titles, keywords and named programmes (雨露计划, 一次性交通补贴) from the knowledge base."""
    words: set[str] = set()
    for measure in kb.all_measures():
        words.update(k for k in measure.keywords if len(k) >= 2)
        if len(measure.title) <= 8:
            words.add(measure.title)
    return words


def _sound_alikes(lines: list[str], terms: set[str]) -> list[str]:
    """Dictionary lines whose word sounds like a term and shares a character with it in place."""
    sounds = {sound(t) for t in terms if 2 <= len(t) <= 5}
    chars: dict[tuple[int, int], set[str]] = {}
    for term in terms:
        for i, c in enumerate(term):
            chars.setdefault((len(term), i), set()).add(c)
    picked = []
    for line in lines:
        word = line.split(" ", 1)[0]
        if 2 <= len(word) <= 5 and any(c in chars.get((len(word), i), ()) for i, c in enumerate(word)) and sound(word) in sounds:
            picked.append(line)
    return picked


def compact_dictionary(terms: Iterable[str]) -> Path:
    """The most frequent words of jieba's dictionary and the words that sound like `terms`."""
    terms = set(terms)
    digest = hashlib.sha256("\n".join(sorted(terms)).encode()).hexdigest()[:12]
    target = CACHE_DIR / f"jieba-top{COMPACT_WORDS}-{digest}.txt"
    if not target.exists():
        CACHE_DIR.mkdir(exist_ok=True)
        source = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        by_frequency = sorted((line for line in lines if len(line.split()) >= 2), key=lambda line: -int(line.split()[1]))
        keep = dict.fromkeys(by_frequency[:COMPACT_WORDS])
        keep.update(dict.fromkeys(_sound_alikes(by_frequency[COMPACT_WORDS:], terms)))
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text("".join(keep), encoding="utf-8")
        partial.replace(target)
    return target


def setup_jieba(kb: KnowledgeBase, terms: Iterable[str] = ()) -> None:
    """Load jieba once per knowledge base; `terms` are the words the pinyin repair restores."""
    if id(kb) in _READY:
        return
    jieba.setLogLevel(logging.WARNING)
    jieba.set_dictionary(str(compact_dictionary(terms)))
    jieba.dt.tmp_dir = str(CACHE_DIR)
    jieba.initialize()
    for word in policy_words(kb):
        jieba.add_word(word, freq=20000)
    _READY.add(id(kb))
