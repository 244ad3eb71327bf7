"""Stage 2 of normalization, the per-character fold, and the tables that make it fast.

`fold_char` defines what each character becomes (the overrides below, then Unicode's
categories, decimal digits and compatibility decompositions). `scan_unicode` applies it to every
code point to list the characters that change; the table ships precomputed in _fold_table.py
(written by `python -m monitor.text.gen_fold_table`) because the scan costs ~0.1 s at every
start. `fold_tables` turns that table into what the normalization stages use: the translate
map, the fast-path replacements, and the classes of rare and of not-one-for-one characters.

Separate from monitor.text.normalize, which applies these tables to a text (the stages) and
maps offsets back: this module knows about characters only, never about a text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["FoldTables", "fold", "fold_char", "fold_tables", "scan_unicode"]

_APOSTROPHES = "'`´‘’‛ʹʻʼʽʾʿ"
_QUOTES = '"«»“”„‟‹›❝❞〝〞〟'
_HYPHENS = "-_‐‑‒–−⁃"

_OVERRIDES: dict[str, str] = {
    # alef forms, hamza seats, taa marbuta, alef maqsura
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ؤ": "و",
    "ئ": "ي",
    "ى": "ي",
    "ة": "ه",
    "ۃ": "ه",
    # Persian, Urdu, Kurdish, Sindhi letter forms
    "ی": "ي",
    "ې": "ي",
    "ک": "ك",
    "ڪ": "ك",
    "ە": "ه",
    "ہ": "ه",
    "ھ": "ه",
    # tatweel, high hamza, Quranic annotation signs that are not combining marks
    "ـ": "",
    "ٴ": "",
    "ۥ": "",
    "ۦ": "",
    "۞": "",
    "۩": "",
    # Arabic decimal and thousands separators, Urdu full stop
    "٫": ".",
    "٬": ",",
    "۔": ".",
    # Latin letters without a canonical decomposition
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "ħ": "h",
    "ı": "i",
    "ŧ": "t",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
}
_OVERRIDES.update(dict.fromkeys(_APOSTROPHES, ""))
_OVERRIDES.update(dict.fromkeys(_QUOTES, " "))
_OVERRIDES.update(dict.fromkeys(_HYPHENS, " "))

# Ranges that fold to themselves and are skipped when the table is built (CJK, Hangul, PUA).
_IDENTITY_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xAC00, 0xD7A4), (0xD800, 0xF900))


def fold_char(c: str) -> str:
    """The normalization of one character: the reference that the fast path must equal."""
    if c in _OVERRIDES:
        return _OVERRIDES[c]
    cat = unicodedata.category(c)
    if cat in ("Mn", "Me", "Cf"):
        return ""
    if cat in ("Zs", "Zl", "Zp", "Cc"):
        return " "
    digit = unicodedata.decimal(c, None)
    if digit is not None:
        return str(digit)
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", c).casefold())
    if s == c:
        return c
    out = "".join(fold_char(x) if x != c else x for x in s)
    return unicodedata.normalize("NFC", out)


def _is_identity_candidate(c: str) -> bool:
    return (
        c not in _OVERRIDES
        and not unicodedata.decomposition(c)
        and c.casefold() == c
        and unicodedata.category(c) not in ("Mn", "Me", "Cf", "Zs", "Zl", "Zp", "Cc", "Nd")
    )


_ASTRAL = "\U00010000-\U0010ffff"


def _char_class(chars: list[str]) -> str:
    """A regex character class for `chars`, compressed into ranges."""
    cps = sorted({ord(c) for c in chars})
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = re.escape(chr(cps[i])), re.escape(chr(cps[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]"


# The fast path: the characters common in Arabic news, each checked with `c in s` (a C scan, far
# cheaper than a regex class search) and replaced. Everything else the table changes is "rare"
# and sends the text down the translate path.
_FAST_GROUPS: tuple[str, ...] = (
    "أإآٱؤئىة",  # letters
    "".join(chr(c) for c in range(0x064B, 0x0653)) + "ـٰ",  # tashkeel, tatweel, dagger alef
    "\u200c\u200d\u200e\u200f\u061c\u00ad\ufeff\u200b\u2060",  # invisible controls
    "\n\r\t\u00a0" + _QUOTES[:5] + "-_–" + "'‘’",  # separators, quotes, apostrophes
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹",  # Arabic-Indic and Persian digits
    "یکەۀہھ",  # Persian/Urdu/Kurdish letters
)


@dataclass(frozen=True)
class FoldTables:
    """The fold table in the forms the normalization stages need (see `fold_tables`)."""

    chars: dict[str, str]  # every character that changes -> its normalization
    translate: dict[int, str | int]
    fast: tuple[tuple[str, str], ...]
    rare: re.Pattern[str]
    non_one: re.Pattern[str]
    out_len: dict[str, int]


def scan_unicode() -> tuple[dict[str, str], list[str]]:
    """Every character `fold_char` changes, and those str.lower() changes but the table does
    not. The reference computation (~0.1 s): `fold_tables` uses the copy shipped in
    _fold_table.py when it was made with this Python's Unicode version (a test keeps the two
    equal)."""
    table: dict[str, str] = {}
    lower_differs: list[str] = []  # str.lower() (fast path) changes these, the table does not
    for cp in range(0x20000):
        if any(lo <= cp < hi for lo, hi in _IDENTITY_RANGES):
            continue
        c = chr(cp)
        if _is_identity_candidate(c):
            if c.lower() != c:
                lower_differs.append(c)
            continue
        out = fold_char(c)
        if out != c:
            table[c] = out
        elif c.lower() != c:
            lower_differs.append(c)
    return table, lower_differs


def _scanned() -> tuple[dict[str, str], list[str]]:
    """The table shipped in _fold_table.py, or a fresh scan when another Unicode version made
    it."""
    try:
        from monitor.text import _fold_table as shipped
    except ImportError:  # pragma: no cover - the file ships with the package
        return scan_unicode()
    if unicodedata.unidata_version != shipped.UNIDATA_VERSION:
        return scan_unicode()
    return dict(shipped.TABLE), list(shipped.LOWER_DIFFERS)


@functools.cache
def fold_tables() -> FoldTables:
    """Built once, on first use: importing the package stays cheap."""
    table, lower_differs = _scanned()
    translate: dict[int, str | int] = {ord(k): v for k, v in table.items()}
    # Identity entries for the common blocks: str.translate raises and swallows a KeyError
    # for every character missing from the mapping, which would dominate the cost.
    for cp in list(range(0x80)) + list(range(0x0600, 0x0700)) + list(range(0x2000, 0x2070)):
        translate.setdefault(cp, cp)
    fast = tuple((c, table[c]) for group in _FAST_GROUPS for c in group if c in table)
    covered = {c for c, _ in fast}
    rare_chars = [c for c in table if c not in covered and not ("A" <= c <= "Z")]
    rare_chars += lower_differs
    non_one = [c for c, v in table.items() if len(v) != 1]
    # `re` tests a class of BMP ranges with a bitmap, but scans astral ranges one by one; so
    # every astral character is a candidate (they are rare) and the exact answer comes later.
    rare_chars = [c for c in rare_chars if c <= "\uffff"]
    non_one = [c for c in non_one if c <= "\uffff"]
    return FoldTables(
        chars=table,
        translate=translate,
        fast=fast,
        rare=re.compile(_char_class(rare_chars)[:-1] + _ASTRAL + "]"),
        non_one=re.compile(_char_class(non_one)[:-1] + _ASTRAL + "]"),
        out_len={c: len(v) for c, v in table.items() if len(v) != 1},
    )


def fold(c: str) -> str:
    """`fold_char(c)` from the table (fast)."""
    return fold_tables().chars.get(c, c)
