"""Turning how villagers type into the words the knowledge base uses.

Three layers, each cheap and each data-driven:
1. synonyms (`lexicon/synonyms.yaml`): colloquial and dialect words -> canonical words;
2. pinyin repair: a pinyin-IME typo of a policy term (低包, 危防, 与露) -> the term, only when
   the typed word sounds like the term, shares a character with it, and is not itself a term;
3. the canonical text is what matching and entity extraction read; the user's text is kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

from foundation import checks
from foundation.datafile import DataFileError, load_data
from foundation.text import normalize_width

LEXICON_FILE = Path(__file__).parent / "lexicon_data" / "synonyms.yaml"
PINYIN_TABLE = Path(__file__).resolve().parent.parent / ".cache" / "pinyin-chars.pickle"

# Southern accents and IME habits: flat/retroflex, n/l and front/back nasals sound alike.
_FUZZY_PINYIN = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"), ("ing", "in"), ("l", "n"))


def fuzzy_pinyin(syllable: str) -> str:
    for a, b in _FUZZY_PINYIN:
        syllable = syllable.replace(a, b)
    return syllable


@dataclass(slots=True)
class Lexicon:
    synonyms: dict[str, str]  # variant -> canonical
    terms: set[str]  # policy terms that pinyin repair may restore
    homophone_examples: dict[str, str]
    _by_first: dict[str, list[str]] | None = None  # first character -> variants, longest first
    _sound_index: dict[tuple[str, ...], list[str]] | None = None

    def __post_init__(self) -> None:
        by_first: dict[str, list[str]] = {}
        for variant in sorted(self.synonyms, key=len, reverse=True):
            by_first.setdefault(variant[0], []).append(variant)
        self._by_first = by_first
        self._sound_index = _sound_index(self.terms)

    def canonical(self, text: str, repair: bool = True) -> str:
        """Normalise width and case, repair pinyin typos (not in curated text), then map
        synonyms to canonical words (the longest variant at each place, left to right)."""
        text = normalize_width(text)
        if repair:
            text = self.repair(text)
        once = self._map(text)
        # A replacement can make another variant ("冇得劳动力" → "没有劳动力" → 无劳动能力); canonical
        # words are never variants themselves, so a second pass changes only what the first made.
        return once if once == text else self._map(once)

    def _map(self, text: str) -> str:
        """Each variant, the longest at each place left to right, to its canonical word."""
        by_first = self._by_first or {}
        out: list[str] = []
        i = 0
        while i < len(text):
            for variant in by_first.get(text[i], ()):
                if text.startswith(variant, i):
                    out.append(self._replacement(variant, i, text))
                    i += len(variant)
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _replacement(self, variant: str, start: int, text: str) -> str:
        """The canonical word, unless the variant is part of that very word (读研 in 读研究生)."""
        canonical = self.synonyms[variant]
        end = start + len(variant)
        around = text[max(0, start - len(canonical) + 1):end + len(canonical) - 1]
        return variant if canonical in around else canonical

    def repair(self, text: str) -> str:
        """Replace a word that sounds like a policy term but is spelled differently.

        Only whole words are considered (jieba without its guesser, so an unknown typo falls
        apart into single characters), never a word the dictionary knows (种植 stays 种植),
        and never anything inside a correct term.
        """
        if not text or not self._sound_index:
            return text
        sounds = [_fuzzy_char(c) for c in text]
        if not self._could_repair(text, sounds):
            return text  # most messages: no window sounds like a term it is not, so no segmentation
        starts = [0]
        for token in jieba.lcut(text, HMM=False):
            starts.append(starts[-1] + len(token))
        edges = set(starts)
        known = jieba.dt.FREQ
        out = list(text)
        i = 0
        while i < len(text):
            step = 1
            if i in edges:
                for size in (4, 3, 2):
                    window = text[i:i + size]
                    if len(window) < size or i + size not in edges or not all(sounds[i:i + size]):
                        continue
                    if window in self.terms:
                        step = size
                        break
                    if known.get(window):
                        continue
                    term = self._match(window, tuple(sounds[i:i + size]))
                    if term:
                        out[i:i + size] = list(term)
                        step = size
                        break
            i += step
        return "".join(out)

    def _could_repair(self, text: str, sounds: list[str]) -> bool:
        """Whether some window sounds like a policy term without being it or a known word."""
        known = jieba.dt.FREQ
        for size in (4, 3, 2):
            for i in range(len(text) - size + 1):
                window = text[i:i + size]
                if window in self.terms or known.get(window):
                    continue
                if self._match(window, tuple(sounds[i:i + size])) and all(sounds[i:i + size]):
                    return True
        return False

    def _match(self, window: str, sound: tuple[str, ...]) -> str | None:
        for term in (self._sound_index or {}).get(sound, ()):
            if any(a == b for a, b in zip(term, window, strict=True)):
                return term
        return None


def _char_pinyin(char: str) -> str:
    return _pinyin_table().get(char, "")


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[str, str]:
    """Toneless pinyin of every common Chinese character, built once with pypinyin.

    Importing pypinyin loads its phrase dictionary (a quarter of a second), and only single
    characters are needed here, so the table is kept in the project cache.
    """
    try:
        with PINYIN_TABLE.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.PickleError, EOFError):
        pass
    from pypinyin import Style, lazy_pinyin

    table = {chr(c): lazy_pinyin(chr(c), style=Style.NORMAL)[0] for c in range(0x4E00, 0xA000)}
    try:
        PINYIN_TABLE.parent.mkdir(parents=True, exist_ok=True)
        partial = PINYIN_TABLE.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            pickle.dump(table, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(PINYIN_TABLE)
    except OSError:
        pass  # a read-only checkout still works, only slower to start
    return table


def _sound_index(terms: set[str]) -> dict[tuple[str, ...], list[str]]:
    """Each term's sound -> the terms that sound so; kept in the project cache (building it reads
    the pinyin of some thousand characters)."""
    fingerprint = hashlib.sha256("\n".join(sorted(terms)).encode()).hexdigest()[:16]
    path = PINYIN_TABLE.with_name(f"sound-index-{fingerprint}.pickle")
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError, ImportError):
        pass
    index: dict[tuple[str, ...], list[str]] = {}
    for term in sorted(terms):
        if 2 <= len(term) <= 5:
            index.setdefault(sound(term), []).append(term)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    except OSError:
        pass
    return index


def sound(term: str) -> tuple[str, ...]:
    """A word's pinyin with accent-tolerant spelling, one syllable per character, read the
    same way as the windows of a message are read (character by character)."""
    return tuple(_fuzzy_char(c) for c in term)


@lru_cache(maxsize=16384)
def _fuzzy_char(char: str) -> str:
    return fuzzy_pinyin(_char_pinyin(char))


def load_lexicon(path: Path | None = None, extra_terms: set[str] | None = None) -> Lexicon:
    """Read synonyms.yaml; every variant must map to exactly one canonical word."""
    path = path or LEXICON_FILE
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("synonyms",), ("homophones",))
    table = checks.mapping(data["synonyms"], f, data.line_of("synonyms"), "synonyms")
    synonyms: dict[str, str] = {}
    for canonical in table:
        variants = checks.text_list(table, canonical, f, f"同义词 {canonical}")
        for variant in variants:
            if variant in synonyms and synonyms[variant] != canonical:
                raise DataFileError(f, table.line_of(canonical), f"'{variant}' 同时是 {synonyms[variant]} 和 {canonical} 的同义词")
            if variant != canonical:
                synonyms[variant] = str(canonical)
    for canonical in table:
        if str(canonical) in synonyms:  # canonical() maps twice, which is safe only for a word that stays put
            raise DataFileError(f, table.line_of(canonical), f"'{canonical}' 是标准词，又是 {synonyms[str(canonical)]} 的同义词")
    homophones = data.get("homophones") or {}
    # Repair restores policy words; two-character colloquial variants (招人) are everyday words.
    terms = set(map(str, table)) | {v for v in synonyms if len(v) >= 3} | (extra_terms or set())
    return Lexicon(synonyms=synonyms, terms=terms, homophone_examples=dict(homophones))
