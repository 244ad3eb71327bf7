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

This module holds the stages and the offset map; the per-character table of stage 2 (its
definition, the Unicode scan, the shipped copy and the fast-path lookups) is in
monitor.text.folding. `fold`, `fold_char` and `scan_unicode` are re-exported here.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right

from monitor.text.folding import fold, fold_char, fold_tables, scan_unicode

__all__ = [
    "Normalized",
    "fold",
    "fold_char",
    "normalize",
    "normalize_text",
    "reference_normalize",
    "scan_unicode",
]

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
    t = fold_tables()
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
        t = fold_tables()
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
    s = p.translate(fold_tables().translate)
    rounds = 0
    for _ in range(_MARKUP_ROUNDS):
        if "&" not in s and "<" not in s:
            break
        s, edits = _markup_round(s)
        if not edits:
            break
        rounds += 1
    return _SPACES.sub(" ", _inert(s, rounds))
