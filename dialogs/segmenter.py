"""jieba, set up once per process with the knowledge base's words as its user dictionary.

jieba's full dictionary (350,000 words) takes over a second to load on a small machine, so
the first run writes a compact main dictionary (the most frequent words) into a
project-local cache folder (not /tmp); the policy words are added on top.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import jieba

from policy_kb.model import KnowledgeBase

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


def compact_dictionary() -> Path:
    """The most frequent words of jieba's dictionary, written once."""
    target = CACHE_DIR / f"jieba-top{COMPACT_WORDS}.txt"
    if not target.exists():
        CACHE_DIR.mkdir(exist_ok=True)
        source = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
        entries = []
        with source.open(encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    entries.append((int(parts[1]), line))
        entries.sort(key=lambda e: -e[0])
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text("".join(line for _, line in entries[:COMPACT_WORDS]), encoding="utf-8")
        partial.replace(target)
    return target


def setup_jieba(kb: KnowledgeBase) -> None:
    if id(kb) in _READY:
        return
    jieba.setLogLevel(logging.WARNING)
    jieba.set_dictionary(str(compact_dictionary()))
    jieba.dt.tmp_dir = str(CACHE_DIR)
    jieba.initialize()
    for word in policy_words(kb):
        jieba.add_word(word, freq=20000)
    _READY.add(id(kb))
