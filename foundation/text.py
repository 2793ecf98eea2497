"""Text as people type it on a phone: full-width characters folded, spaces collapsed, punctuation
dropped for comparisons. No domain words here."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、~～…]+")


def normalize_width(text: str) -> str:
    """Full-width digits/letters to half-width, collapse spaces, lower-case Latin letters."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip().lower()


def clean(text: str) -> str:
    """The text as compared with a word list: width folded, no spaces or punctuation."""
    return _PUNCT.sub("", normalize_width(text))


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` without NUL, control characters and lone surrogates: what no reply needs, no
    database takes (PostgreSQL refuses NUL in text) and no UTF-8 stream can write."""
    return _UNPRINTABLE.sub("", text)
