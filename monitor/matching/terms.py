"""From a rule term to the keys of the automaton, and the checks that make a key hit a word.

The automaton finds keys as substrings of the normalized text; a key becomes a hit only when
the letters around it form an allowed word (see rules/README.md, "How a term matches"):

- left of an Arabic word: nothing, or a proclitic chain - و/ف, then ب/ك/ل, then ال
  (ل + ال is written لل). A term written with the article (الأمن) needs the article in the
  text (الأمن، والأمن، بالأمن، للأمن) and the key is the word without it.
- right of an Arabic word: nothing, a pronoun suffix (ه ها هم هما هن كم كما كن نا), a dual or
  plural ending (ان ين ون ات, ات + pronoun); a word written with ة also matches with ت before a
  suffix (هدنتها، هدنتان، هدنتي) and its plural in ات (هدنات); a word written with ى also
  matches ا before a pronoun (مستواه). The pronoun never follows the article (الكاظمية is not
  الكاظمي + ه). A bare ي is never a suffix except after ة written ت: عراقي، داعشي، الأنباري
  are nisba adjectives, different words. A common noun (not an entity name, not ending in ي
  or ا) also takes the alef of tanween fath (هجوماً -> هجوما); proper names do not (مصر is
  not مصرا).
- the article: a hamza form is not the article (ألمانيا، إلغاء), nor is the ال of the افتعال
  nouns of roots starting with ل (التزام، التقاء): those are read as plain words.
- Latin words and numbers: whole words; a letter/digit change is a boundary (BM21 = BM 21).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from monitor.text.normalize import fold, normalize_text
from monitor.text.tokenize import DIGIT, LETTER, OTHER, char_class, is_arabic, segments

__all__ = [
    "ART_PREFIXES",
    "L_ART",
    "L_ART_L",
    "L_NONE",
    "L_PRO",
    "L_WORD",
    "MAX_PREFIX",
    "MAX_SUFFIX",
    "R_AFFIX",
    "R_NONE",
    "R_WORD",
    "Check",
    "KeySpec",
    "TermError",
    "term_keys",
]

# left checks
L_NONE, L_WORD, L_PRO, L_ART, L_ART_L = 0, 1, 2, 3, 4
# right checks
R_NONE, R_WORD, R_AFFIX = 0, 1, 2

PRONOUNS = frozenset(["ه", "ها", "هم", "هما", "هن", "كم", "كما", "كن", "نا"])
_CONJ = ("", "و", "ف")
_NO_ART_PREFIXES = frozenset(c + p for c in _CONJ for p in ("", "ب", "ك", "ل"))
ART_PREFIXES = frozenset(
    [c + p + "ال" for c in _CONJ for p in ("", "ب", "ك")] + [c + "لل" for c in _CONJ]
)
PRO_PREFIXES = _NO_ART_PREFIXES | ART_PREFIXES
# A term written with the article also accepts ل + ال written out (لالتزام) ...
ART_ONLY_PREFIXES = ART_PREFIXES | frozenset(c + "لال" for c in _CONJ)
# ... and, when the word itself starts with ل, the contraction ل + ال + ل -> لل (للجنة).
ART_L_PREFIXES = ART_ONLY_PREFIXES | frozenset(c + "ل" for c in _CONJ)
MAX_PREFIX = 4
MAX_SUFFIX = 5

# The suffix sets, shared by every key (a set per key would cost ~1 KB each).
_EMPTY: frozenset[str] = frozenset()
_BARE = frozenset([""])
_NOUN = frozenset(["", "ان", "ين", "ون", "ات"])  # + dual and plural endings
_NOUN_TANWEEN = _NOUN | {"ا"}
_NOUN_PRON = PRONOUNS | frozenset("ات" + p for p in PRONOUNS)
_DUAL = frozenset(["ان", "ين"])  # after ة written ت
_TA_PRON = PRONOUNS | {"ي"}  # after ة written ت, "my" cannot be a nisba
_MAQSURA = frozenset(["", "ان", "ين", "ات"])
_HAS_DIGIT = re.compile(r"[0-9]")


Check = tuple[int, int, frozenset[str], frozenset[str], bool]  # left, right, plain, pron, single
_CHECKS: dict[Check, Check] = {}


def _check(
    left: int,
    right: int,
    plain: frozenset[str] = _EMPTY,
    pron: frozenset[str] = _EMPTY,
    single: bool = False,
) -> Check:
    """An interned check, shared by every key that is checked the same way."""
    c = (left, right, plain, pron, single)
    return _CHECKS.setdefault(c, c)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One automaton key of a term and how to check a hit of it."""

    key: str
    check: Check


class TermError(ValueError):
    """The term cannot be compiled (empty after normalization, ...)."""


def _first_letter(original: str) -> str:
    """The first character of the original term that survives normalization (أ, ا, ...)."""
    for c in original:
        if fold(c).strip():
            return c
    return ""


def _last_letter(original: str) -> str:
    """The last character of the original term that survives normalization (ة, ى, ...)."""
    for c in reversed(original):
        if fold(c).strip():
            return c
    return ""


def _has_article(first: str, original: str) -> bool:
    """Is the term's first word ال + a word of three letters or more?

    Not when the original starts with a hamza form (ألمانيا، إلغاء) nor for the افتعال nouns
    of roots starting with ل (التزام، التقاء، التحاق), whose ال is part of the word."""
    if not first.startswith("ال") or len(first) < 5:
        return False
    if _first_letter(original) in ("أ", "إ", "آ"):
        return False
    return not (len(first) == 6 and first[2] == "ت" and first[4] == "ا")


def _digit_variants(key: str) -> list[str]:
    """`bm21` and `bm 21` are the same term: give both spellings of every letter/digit change."""
    if not _HAS_DIGIT.search(key):
        return [key]
    parts: list[str] = []  # segments and the separators between them
    for i, word in enumerate(key.split(" ")):
        if i:
            parts.append(" ")
        for j, seg in enumerate(segments(word)):
            if j:
                parts.append("")
            parts.append(seg)
    junctions = [
        i
        for i in range(1, len(parts) - 1, 2)
        if {char_class(parts[i - 1][-1]), char_class(parts[i + 1][0])} == {LETTER, DIGIT}
    ]
    if not junctions or len(junctions) > 4:
        return [key]
    out: list[str] = []
    for choice in itertools.product(("", " "), repeat=len(junctions)):
        p = list(parts)
        for i, sep in zip(junctions, choice, strict=True):
            p[i] = sep
        out.append("".join(p))
    return out


def term_keys(
    original: str, *, exact: bool = False, substring: bool = False, name: bool = False
) -> list[KeySpec]:
    """The keys of one term with their checks; `name` marks an entity's name (a proper noun:
    no tanween alef). Raises TermError."""
    norm = normalize_text(original).strip()
    if not norm:
        raise TermError(f"term {original!r} is empty after normalization")
    if exact and substring:
        raise TermError("a term cannot be both exact and substring")
    if substring:
        check = _check(L_NONE, R_NONE)
        return [KeySpec(k, check) for k in _digit_variants(norm)]
    first_cls = char_class(norm[0])
    last_cls = char_class(norm[-1])
    word_left = L_NONE if first_cls == OTHER else L_WORD
    word_right = R_NONE if last_cls == OTHER else R_WORD
    if exact:
        check = _check(word_left, word_right)
        return [KeySpec(k, check) for k in _digit_variants(norm)]

    words = norm.split(" ")
    single = len(words) == 1
    first, last = words[0], words[-1]

    # the left side: proclitics, the article
    left = word_left
    article = False
    if is_arabic(first):
        left = L_PRO
        if _has_article(first, original):
            article = True
            first = first[2:]
            left = L_ART_L if first.startswith("ل") else L_ART
            words[0] = first
            if single:
                last = first
    head = " ".join(words[:-1])
    head = head + " " if head else ""

    # the right side: suffixes, ة -> ت, ى -> ا
    if not is_arabic(last):
        check = _check(left, word_right)
        return [KeySpec(k, check) for k in _digit_variants(head + last)]
    with_article = article if single else last.startswith("ال")
    pron_ok = not with_article
    ending = _last_letter(original)
    specs: list[tuple[str, frozenset[str], frozenset[str]]] = []
    if ending in ("ة", "ۃ") and last.endswith("ه") and len(last) >= 2:
        stem = last[:-1]
        specs.append((last, _BARE, _EMPTY))
        specs.append((stem + "ت", _DUAL, _TA_PRON if pron_ok else _EMPTY))
        specs.append((stem + "ات", _BARE, PRONOUNS if pron_ok else _EMPTY))
    elif ending == "ى" and last.endswith("ي") and len(last) >= 2:
        specs.append((last, _MAQSURA, _EMPTY))
        if pron_ok:
            specs.append((last[:-1] + "ا", _EMPTY, PRONOUNS))
    else:
        tanween = not name and not last.endswith(("ي", "ا"))
        specs.append((last, _NOUN_TANWEEN if tanween else _NOUN, _NOUN_PRON if pron_ok else _EMPTY))
    out: list[KeySpec] = []
    for key_last, plain, pron in specs:
        check = _check(left, R_AFFIX, plain, pron, single)
        for k in _digit_variants(head + key_last):
            out.append(KeySpec(k, check))
    return out
