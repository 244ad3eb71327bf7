"""Arabic-first text normalization, with a map from normalized offsets back to the original.

Rule terms and item text go through the same `normalize`, so a term matches whatever spelling
variant the text uses. What it does, in order:

1. Possessive apostrophe: in `Iraq's` the apostrophe becomes a space (so `Iraq` stays a word);
   every other apostrophe-like character is dropped later (`Ba'ath` = `Baath`).
2. One table, applied character by character (`fold_char` is the reference definition):
   - compatibility forms decomposed (NFKC/NFKD: presentation forms, lam-alef ligatures, ﷲ,
     fullwidth forms, superscripts), then recomposed (NFC);
   - combining marks removed: tashkeel and tanween, superscript alef, Quranic annotation
     marks, Latin accents (é -> e); tatweel removed;
   - alef forms أ إ آ ٱ -> ا; ؤ -> و; ئ -> ي; ى -> ي; ة -> ه; Persian/Urdu/Kurdish forms
     (ی ک ە ۀ ہ ھ) -> Arabic; every Unicode decimal digit -> ASCII;
   - zero-width and bidi controls, soft hyphen, word joiner, BOM (all format characters)
     removed;
   - case folded (`str.casefold`);
   - soft separators -> one space: whitespace, line breaks, hyphens and dashes (not the em
     dash), underscores, double quotes and guillemets. Sentence punctuation stays.
3. Markup left in "plain" feed text: HTML entities decoded (also twice-escaped ones such as
   `&amp;quot;`), then tags stripped (inline tags vanish, other tags become a space).
4. Runs of spaces collapse to one.

The fast path (a chain of `c in s` / `str.replace`, `str.lower`) and the reference path
(`str.translate` with the full table) give the same result; tests prove it. The offset map is
built only when asked for (`Normalized.to_original`), from the positions of the characters
whose replacement is not exactly one character long.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["Normalized", "fold", "fold_char", "normalize", "normalize_text", "reference_normalize"]

# --------------------------------------------------------------------------- the table

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
class _Tables:
    chars: dict[str, str]  # every character that changes -> its normalization
    translate: dict[int, str | int]
    fast: tuple[tuple[str, str], ...]
    rare: re.Pattern[str]
    non_one: re.Pattern[str]
    out_len: dict[str, int]


def scan_unicode() -> tuple[dict[str, str], list[str]]:
    """Every character `fold_char` changes, and those str.lower() changes but the table does
    not. The reference computation (~0.1 s): `_tables` uses the copy shipped in _fold_table.py
    when it was made with this Python's Unicode version (a test keeps the two equal)."""
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
    try:
        from monitor.text import _fold_table as shipped
    except ImportError:  # pragma: no cover - the file ships with the package
        return scan_unicode()
    if unicodedata.unidata_version != shipped.UNIDATA_VERSION:
        return scan_unicode()
    return dict(shipped.TABLE), list(shipped.LOWER_DIFFERS)


@functools.cache
def _tables() -> _Tables:
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
    return _Tables(
        chars=table,
        translate=translate,
        fast=fast,
        rare=re.compile(_char_class(rare_chars)[:-1] + _ASTRAL + "]"),
        non_one=re.compile(_char_class(non_one)[:-1] + _ASTRAL + "]"),
        out_len={c: len(v) for c, v in table.items() if len(v) != 1},
    )


def fold(c: str) -> str:
    """`fold_char(c)` from the table (fast)."""
    return _tables().chars.get(c, c)


# --------------------------------------------------------------------------- the stages

_POSSESSIVE = re.compile(r"(?<=[A-Za-z\u00C0-\u024F])['’ʼ](?=[sS](?![^\W\d_]))")
_ENTITY_OR_TAG = re.compile(
    r"&((?:amp;)*)(#[0-9]{1,7};|#x[0-9a-f]{1,6};|[a-z][a-z0-9]{1,31};)"
    r"|<!  .*?  >|<![a-z][^<>]*>"  # comments (their hyphens are spaces by now), doctype
    r"|<(/?)([a-z][a-z0-9:-]{0,31})(?:\s[^<>]*)?/?>",
    re.S,
)
# tags that vanish (inline formatting); any other tag becomes a space
_INLINE = (
    "a abbr b bdi bdo cite code em font i kbd mark q s small span strike strong sub sup time u var"
)
_INLINE_TAGS = frozenset(_INLINE.split())
_SHORT = 128  # below this length the translate path is the faster one
_MARKUP_ROUNDS = 4  # nested escaping deeper than this: the rest of its markup is blanked
_SPACES = re.compile("  +")


def _inert(s: str, rounds: int) -> str:
    """After the last allowed markup round, markup that is still there becomes spaces (same
    length: offsets unchanged), so that normalizing again changes nothing (idempotence) while a
    hostile feed still cannot make us run one round per nesting level."""
    if rounds >= _MARKUP_ROUNDS and ("&" in s or "<" in s) and _ENTITY_OR_TAG.search(s):
        return s.replace("&", " ").replace("<", " ")
    return s


def _fold(s: str) -> str:
    """Stage 2: the per-character table, on the fast path when only common characters change.

    Short strings (rule terms, titles) go straight to str.translate: its cost grows with the
    length, the replace chain's with the number of characters it checks."""
    t = _tables()
    if len(s) < _SHORT or t.rare.search(s) is not None:
        return s.translate(t.translate)
    for a, b in t.fast:
        if a in s:
            s = s.replace(a, b)
    return s.lower()


def _markup_round(s: str) -> tuple[str, list[tuple[int, int, int]]]:
    """One pass of entity decoding and tag stripping; returns the text and its edits."""
    pieces: list[str] = []
    edits: list[tuple[int, int, int]] = []
    last = 0
    for m in _ENTITY_OR_TAG.finditer(s):
        if m.group(2) is not None:
            decoded = html.unescape("&" + m.group(2))
            if decoded == "&" + m.group(2):
                if not m.group(1):
                    continue
                decoded = "&" + m.group(2)  # unknown entity: only undo the extra escaping
            repl = "".join(fold(c) for c in decoded)
        elif m.group(4) is not None:
            repl = "" if m.group(4) in _INLINE_TAGS else " "
        else:
            repl = ""  # comment
        pieces.append(s[last : m.start()])
        pieces.append(repl)
        edits.append((m.start(), m.end(), len(repl)))
        last = m.end()
    if not edits:
        return s, edits
    pieces.append(s[last:])
    return "".join(pieces), edits


class _Edits:
    """Where one stage changed the text: merged edits, source range -> target range."""

    __slots__ = ("da", "db", "keep_end_left", "sa", "sb", "shifts")

    def __init__(self, edits: list[tuple[int, int, int]], *, keep_end_left: bool) -> None:
        sa: list[int] = []
        sb: list[int] = []
        da: list[int] = []
        db: list[int] = []
        delta = 0
        for a, b, n in edits:
            if sb and sb[-1] == a:  # adjacent: merge into one black box
                sb[-1] = b
                db[-1] += n
            else:
                sa.append(a)
                sb.append(b)
                da.append(a + delta)
                db.append(a + delta + n)
            delta += n - (b - a)
        self.sa, self.sb, self.da, self.db = sa, sb, da, db
        self.keep_end_left = keep_end_left
        # A stage that only removed characters (tashkeel, tatweel, invisible marks, a collapsed
        # space) maps every offset, start or end, by one shift: `back(n)` is
        # n + shifts[bisect_right(da, n)] (see `back`: n > db and n == da == db both give
        # sb + n - db). None when some edit inserted or replaced characters.
        self.shifts: list[int] | None = None
        if not keep_end_left and all(a == b for a, b in zip(da, db, strict=True)):
            self.shifts = [0, *(b - a for a, b in zip(db, sb, strict=True))]

    def back(self, n: int, end: bool) -> int:
        """The source offset of target offset `n`, as a start or as an (exclusive) end.

        A start skips characters that were removed just before it; an end takes in characters
        removed just after it (trailing tashkeel, tatweel, invisible marks), except in the
        markup stage where a removed trailing tag stays outside."""
        i = bisect_right(self.da, n) - 1
        if i < 0:
            return n
        da, db = self.da[i], self.db[i]
        if n > db:
            return self.sb[i] + (n - db)
        if da == db:
            return self.sa[i] if end and self.keep_end_left else self.sb[i]
        if n == db:
            return self.sb[i]
        if n == da:
            return self.sa[i]
        return self.sb[i] if end else self.sa[i]


class Normalized:
    """A normalized text and the way back to the original offsets.

    `text` is what matching sees; `to_original(start, end)` maps a span of `text` to the span
    of `original` that produced it (whole characters, trailing removed marks included)."""

    __slots__ = ("_possessive", "_stages", "_steps", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        p = original
        if "'" in p or "’" in p or "ʼ" in p:
            p = _POSSESSIVE.sub(" ", p)
        self._possessive = p
        s = _fold(p)
        # The later stages, each as (text before it, its edits); edits None = space collapse.
        steps: list[tuple[str, list[tuple[int, int, int]] | None]] = []
        while ("&" in s or "<" in s) and len(steps) < _MARKUP_ROUNDS:
            out, edits = _markup_round(s)
            if not edits:
                break
            steps.append((s, edits))
            s = out
        s = _inert(s, len(steps))
        if "  " in s:
            steps.append((s, None))
            s = _SPACES.sub(" ", s)
        self._steps = steps
        self.text = s
        self._stages: list[_Edits] | None = None

    def _build_stages(self) -> list[_Edits]:
        """The stages from the last to the first (the order in which offsets walk back)."""
        t = _tables()
        out_len = t.out_len
        fold_edits = [
            (m.start(), m.end(), out_len[m.group()])
            for m in t.non_one.finditer(self._possessive)
            if m.group() in out_len  # (an astral candidate may fold to one character)
        ]
        stages = [_Edits(fold_edits, keep_end_left=False)] if fold_edits else []
        for before, edits in self._steps:
            if edits is None:
                collapse = [(m.start() + 1, m.end(), 0) for m in _SPACES.finditer(before)]
                stages.append(_Edits(collapse, keep_end_left=False))
            else:
                stages.append(_Edits(edits, keep_end_left=True))
        stages.reverse()
        return stages

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span [start, end) of `text` to the span of `original` that produced it."""
        stages = self._stages
        if stages is None:
            stages = self._stages = self._build_stages()
        for stage in stages:
            start = stage.back(start, False)
            end = max(start, stage.back(end, True))  # an empty span stays empty
        return start, end

    def shift_tables(self) -> list[tuple[list[int], list[int]]] | None:
        """The offset map as plain tables when every stage only removed characters (the
        common case: diacritics, tatweel, invisible marks, runs of spaces), for callers that
        map many offsets: apply each (breaks, shifts) in order,
        n = n + shifts[bisect_right(breaks, n)], to a start and to an end alike; the result
        is `to_original`'s. [] when nothing moved; None when some stage inserted or replaced
        characters (markup, ligatures): then use `to_original`."""
        stages = self._stages
        if stages is None:
            stages = self._stages = self._build_stages()
        tables: list[tuple[list[int], list[int]]] = []
        for stage in stages:
            if stage.shifts is None:
                return None
            tables.append((stage.da, stage.shifts))
        return tables

    def __repr__(self) -> str:
        return f"Normalized({self.text!r})"


def normalize(text: str) -> Normalized:
    """Normalize `text` (see the module docstring); the result maps offsets back."""
    return Normalized(text)


def normalize_text(text: str) -> str:
    """Only the normalized string."""
    return Normalized(text).text


def reference_normalize(text: str) -> str:
    """The slow, obviously correct path (per-character table via `str.translate`); tests
    compare the fast path against it."""
    p = _POSSESSIVE.sub(" ", text)
    s = p.translate(_tables().translate)
    rounds = 0
    for _ in range(_MARKUP_ROUNDS):
        if "&" not in s and "<" not in s:
            break
        s, edits = _markup_round(s)
        if not edits:
            break
        rounds += 1
    return _SPACES.sub(" ", _inert(s, rounds))
