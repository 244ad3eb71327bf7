"""Tokens of a normalized text: words and numbers. Pure.

A token is a run of letters or a run of digits. Everything else separates tokens: whitespace,
punctuation, hyphens and underscores (normalization has already turned hyphens, underscores
and quotes into spaces, so `#عين_الأسد` holds the words عين and الاسد), and the change from
letters to digits or back (`BM21` = `BM 21` = `BM-21`).

Soft separators are what may stand between the words of a phrase: after normalization that is
exactly one space (the letter/digit change needs none). Sentence punctuation (. ، ؛ : ! ? ؟)
and every other mark are hard: a phrase never matches across them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DIGIT",
    "LETTER",
    "OTHER",
    "Token",
    "char_class",
    "is_arabic",
    "segments",
    "tokenize",
]

OTHER, LETTER, DIGIT = 0, 1, 2

_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_SEGMENT = re.compile(r"[^\W\d_]+|\d+|[\W_]+")
_ARABIC = re.compile(r"[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08c9]+")


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str
    kind: str  # "word" or "number"


def char_class(c: str) -> int:
    """LETTER, DIGIT or OTHER for one character (of normalized text)."""
    if c.isalpha():
        return LETTER
    if c.isdigit():
        return DIGIT
    return OTHER


def tokenize(text: str) -> list[Token]:
    """The words and numbers of `text`, with their offsets in it."""
    return [
        Token(m.start(), m.end(), m.group(), "word" if m.group()[0].isalpha() else "number")
        for m in _TOKEN.finditer(text)
    ]


def segments(word: str) -> list[str]:
    """A space-free chunk split into runs of letters, digits and other characters:
    `bm21` -> [bm, 21]; `u.n.` -> [u, ., n, .]."""
    return _SEGMENT.findall(word)


def is_arabic(word: str) -> bool:
    """True when every character of `word` is an Arabic-script letter."""
    return _ARABIC.fullmatch(word) is not None
