"""Which of a measure's amount lines a question names: "雨露计划补多少" asks the 雨露计划 line of the
education grant, "二级医院自费最多占多少" the 二级 line of the cost cap, so the answer shows that
line, not all of them.

A line is named by the words of its label that set it apart from the other labels (二级 in
"二级医疗机构", not 医疗机构, which every line has), read in canonical form on both sides.
"""

from __future__ import annotations

import jieba

from understanding.lexicon import Lexicon


def _words(text: str) -> set[str]:
    return {w for w in jieba.lcut(text, HMM=False) if len(w) >= 2 or w.isdigit()}


def named_lines(labels: list[str], canonical_query: str, lexicon: Lexicon) -> list[int]:
    """Indexes of the labels the question names (best first, ties kept); [] when it names none."""
    if len(labels) < 2:
        return []
    canon = [lexicon.canonical(label, repair=False) for label in labels]

    def present(word: str) -> bool:  # 雨露计划 in a label is 雨露 in a question that typed 玉露计划
        return word in canonical_query or lexicon.synonyms.get(word, word) in canonical_query

    exact = [i for i, c in enumerate(canon) if c and present(c)]
    if exact:
        longest = max(len(canon[i]) for i in exact)
        return [i for i in exact if len(canon[i]) == longest]
    words = [_words(c) for c in canon]
    common = set.intersection(*words) if words else set()
    scores: list[tuple[int, int, int]] = []
    for i, ws in enumerate(words):
        own = ws - common
        hits = sum(1 for w in own if present(w))
        if hits:
            scores.append((hits, -len(own), i))
    if not scores:
        return []
    best = max(scores)[:2]
    return [i for hits, size, i in scores if (hits, size) == best]
