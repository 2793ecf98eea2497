"""Which of a measure's amount lines a question names: "雨露计划补多少" asks the 雨露计划 line of the
education grant, "二级医院自费最多占多少" the 二级 line of the cost cap, so the answer shows that
line, not all of them.

A line is named by the words of its label that set it apart from the other labels (二级 in
"二级医疗机构", not 医疗机构, which every line has), read in canonical form on both sides.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jieba

from foundation import checks
from foundation.datafile import load_data
from understanding.lexicon import Lexicon

FOCUS_FILE = Path(__file__).with_name("lexicon_data") / "focus.yaml"


@lru_cache(maxsize=1)
def load_focus(path: Path = FOCUS_FILE) -> dict[str, tuple[str, ...]]:
    """Label word -> the question words that name it (上限: 最多, 最高 …)."""
    data = checks.mapping(load_data(path), str(path), 1, path.name)
    return {str(word): tuple(checks.text_list(data, word, str(path), word, 1)) for word in data}


@lru_cache(maxsize=1024)
def _words(text: str) -> frozenset[str]:
    """A label's words and the words inside its compounds (贷款额度: 贷款, 额度), so that "能贷多少
    款" names 贷款额度上限 by 贷款."""
    return frozenset(w for w in jieba.lcut_for_search(text, HMM=False) if len(w) >= 2 or w.isdigit())


def named_lines(labels: list[str], canonical_query: str, lexicon: Lexicon) -> list[int]:
    """Indexes of the labels the question names (best first, ties kept); [] when it names none."""
    if len(labels) < 2:
        return []
    canon = [lexicon.canonical(label, repair=False) for label in labels]

    aliases = load_focus()

    def present(word: str) -> bool:  # 雨露计划 in a label is 雨露 in a question that typed 玉露计划
        return word in canonical_query or lexicon.synonyms.get(word, word) in canonical_query \
            or any(alias in canonical_query for alias in aliases.get(word, ()))

    exact = [i for i, c in enumerate(canon) if c and present(c)]
    if exact:
        longest = max(len(canon[i]) for i in exact)
        return [i for i in exact if len(canon[i]) == longest]
    words = [_words(c) for c in canon]
    common = frozenset.intersection(*words) if words else frozenset()
    scores: list[tuple[int, int, int]] = []
    for i, ws in enumerate(words):
        own = ws - common
        hits = sum(1 for w in own if present(w))
        if hits:
            scores.append((hits, -len(own), i))
    if not scores:
        return []
    best = max(hits for hits, _, _ in scores)  # lines the question names as well as each other are all said
    return [i for hits, _, i in scores if hits == best]
