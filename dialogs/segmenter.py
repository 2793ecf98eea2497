"""jieba, set up once per process with the knowledge base's words as its user dictionary.

jieba's model cache goes to a project-local folder (not /tmp), so start-up after the first
run only reads the cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jieba

from policy_kb.model import KnowledgeBase

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
_READY: set[int] = set()


def policy_words(kb: KnowledgeBase) -> set[str]:
    """Titles, keywords and named programmes (雨露计划, 一次性交通补贴) from the knowledge base."""
    words: set[str] = set()
    for measure in kb.all_measures():
        words.update(k for k in measure.keywords if len(k) >= 2)
        if len(measure.title) <= 8:
            words.add(measure.title)
    return words


def setup_jieba(kb: KnowledgeBase) -> None:
    if id(kb) in _READY:
        return
    CACHE_DIR.mkdir(exist_ok=True)
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = str(CACHE_DIR)
    jieba.dt.cache_file = str(CACHE_DIR / "jieba.cache")
    jieba.initialize()
    for word in policy_words(kb):
        jieba.add_word(word, freq=20000)
    _READY.add(id(kb))
