"""Pieces shared by the Telegram and Slack renderers. Pure functions, no I/O.

- `clean_text`: what a feed string may carry into a message (no control or bidi-override chars).
- `snippet` / `highlight`: plain-text segments around rule hits, hits flagged for emphasis.
- `safe_url`: only absolute http(s) URLs, with characters that could break markup encoded.
- `isolate_runs`: Latin/number runs in Arabic text wrapped in FSI ... PDI.
- `split_atoms`: the splitting engine behind `render_telegram.split_html` and the Slack
  section packer: cuts a sequence of atoms (characters, entities, tags) at the best boundary
  (paragraph > line > sentence > word > hard), closing and reopening the open tags.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor.model import Alert, Item, Level, as_utc

LEVEL_MARKERS: dict[Level, str] = {
    Level.CRITICAL: "🔴",
    Level.HIGH: "🟠",
    Level.MEDIUM: "🟡",
    Level.LOW: "🔵",
    Level.INFO: "⚪",
}

ELLIPSIS = "…"
FSI, PDI = "\u2068", "\u2069"
MAX_URL = 2000
Segment = tuple[str, bool]  # (plain text, is a hit)

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Bidi embeddings/overrides/isolates and C0/C1 controls except tab and newline.
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_HSPACE = re.compile(r"[^\S\n]+")
_BLANKS = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")
_LTR = r"A-Za-z0-9\u00c0-\u024f"
_RUN_WORD = rf"[{_LTR}](?:[{_LTR}.,:/\\\-_%+@#?=&~*'’$€£]*[{_LTR}/%])?"
_RUN = re.compile(rf"{_RUN_WORD}(?:[ ]{_RUN_WORD})*")
_SPACES = re.compile(r"\s+")


def level_marker(level: Level) -> str:
    return LEVEL_MARKERS[level]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram and JavaScript count."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def has_arabic(text: str) -> bool:
    return _ARABIC.search(text) is not None


def clean_text(text: str) -> str:
    """A feed string made safe to show: controls and bidi overrides removed, lone surrogates
    replaced, runs of spaces collapsed, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", _UNWANTED.sub("", text))
    text = _HSPACE.sub(" ", text)
    return _BLANKS.sub("\n\n", text)


def one_line(text: str, limit: int) -> str:
    """`clean_text` on one line, cut at a word boundary to at most `limit` characters."""
    text = " ".join(clean_text(text).split())
    return shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + ELLIPSIS


def isolate_runs(text: str, rtl: bool | None = None) -> str:
    """Wrap Latin/number runs (URLs, figures, names) in FSI ... PDI so that they keep their
    order inside right-to-left text. `rtl=None` decides from `text` itself (Arabic letters);
    callers that render pieces of a longer Arabic text pass `rtl=True`."""
    if not (has_arabic(text) if rtl is None else rtl):
        return text
    return _RUN.sub(lambda m: f"{FSI}{m.group(0)}{PDI}", text)


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None. Whitespace, quotes,
    angle brackets, `|`, backslash and invisible characters are percent-encoded so that the URL
    cannot break out of an HTML attribute or a Slack `<url|text>` link."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    encoded = "".join(_encode_url_char(c) for c in url)
    return encoded if len(encoded) <= MAX_URL else None


def _encode_url_char(char: str) -> str:
    if char in ' "<>|\\^`{}' or unicodedata.category(char)[0] in "CZ":
        return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
    return char


def format_time(value: datetime, tz: str = "UTC") -> str:
    """`2026-11-30 14:05 UTC`; in another zone `2026-11-30 17:05 +03` (its abbreviation)."""
    if tz.upper() == "UTC":
        return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
    return as_utc(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def item_time(item: Item) -> datetime:
    return item.published or item.fetched


def source_name(item: Item) -> str:
    return one_line(item.source_title or item.source_id, 100)


def spans_for(alert: Alert, field: str) -> list[tuple[int, int]]:
    return [(h.start, h.end) for m in alert.matches for h in m.hits if h.field == field]


def sorted_matches(alert: Alert) -> list[tuple[str, str, Level]]:
    """(rule_id, title, level) once per rule, most urgent first."""
    seen: dict[str, tuple[str, str, Level]] = {}
    for m in alert.matches:
        seen.setdefault(m.rule_id, (m.rule_id, m.title, m.level))
    return sorted(seen.values(), key=lambda t: -t[2].rank)


def top_match(alert: Alert) -> tuple[str, str, Level]:
    matches = sorted_matches(alert)
    return matches[0] if matches else ("", "", Level.INFO)


def group_by_rule(alerts: Sequence[Alert]) -> list[tuple[str, Level, list[Alert]]]:
    """Alerts grouped under their most urgent rule: (rule title, level, alerts), most urgent
    group first, then in order of first appearance."""
    groups: dict[str, tuple[str, Level, list[Alert]]] = {}
    for alert in alerts:
        rule_id, title, level = top_match(alert)
        groups.setdefault(rule_id, (title or rule_id, level, []))[2].append(alert)
    return sorted(groups.values(), key=lambda g: -g[1].rank)


def time_range(alerts: Sequence[Alert], tz: str = "UTC") -> str:
    times = [item_time(a.item) for a in alerts]
    if not times:
        return ""
    first, last = format_time(min(times), tz), format_time(max(times), tz)
    return first if first == last else f"{first} – {last}"


# --- snippets ---------------------------------------------------------------------------


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clamped to [0, length], empty ones dropped, overlapping ones merged, sorted."""
    clamped = sorted((max(0, s), min(length, e)) for s, e in spans if min(length, e) > max(0, s))
    merged: list[tuple[int, int]] = []
    for start, end in clamped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> list[Segment]:
    """`text` cut into segments, the ones covered by `spans` flagged."""
    segments: list[Segment] = []
    pos = 0
    for start, end in merge_spans(spans, len(text)):
        if start > pos:
            segments.append((text[pos:start], False))
        segments.append((text[start:end], True))
        pos = end
    if pos < len(text):
        segments.append((text[pos:], False))
    return segments


def snippet(text: str, spans: Iterable[tuple[int, int]], max_len: int) -> list[Segment]:
    """A window of at most ~`max_len` characters around the first hit, cut at word boundaries,
    with … where text was left out. `max_len <= 0` keeps the whole text. The offsets index
    `text` as given; cleaning and escaping happen later, per segment."""
    merged = merge_spans(spans, len(text))
    if max_len <= 0 or len(text) <= max_len:
        return highlight(text, merged)
    start, end = _window(text, merged, max_len)
    inner = [(s - start, e - start) for s, e in merged if s < end and e > start]
    segments = highlight(text[start:end], inner)
    if start > 0:
        segments.insert(0, (ELLIPSIS, False))
    if end < len(text):
        segments.append((ELLIPSIS, False))
    return segments


def _window(text: str, spans: list[tuple[int, int]], max_len: int) -> tuple[int, int]:
    first, first_end = spans[0] if spans else (0, 0)
    start = max(0, first - max_len // 4)
    end = min(len(text), start + max_len)
    start = max(0, end - max_len)
    if start > 0:
        match = _SPACES.search(text, start, max(start, first))
        start = match.end() if match else start
    if end < len(text):
        cut = _last_space(text, max(start, first_end), end)
        end = cut if cut is not None else end
    return start, end


def _last_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(hi, lo, -1):
        if text[i - 1].isspace():
            return i - 1
    return None


# --- splitting --------------------------------------------------------------------------

WORD, SENTENCE, LINE, PARAGRAPH = 1, 2, 3, 4
SENTENCE_END = frozenset(".!?؟؛،…;")
_CLOSERS = frozenset("\"')]»”’")
_GLUE = frozenset("\u200d\u2068\ufe0f")


@dataclass(frozen=True, slots=True)
class Atom:
    """An unbreakable piece of markup: one character or entity (`kind="text"`, `char` is what
    it shows), or a tag (`kind="open"` with its `close` markup, or `kind="close"`). Bigger
    atomic pieces (a Slack link) are "text" atoms whose `char` is a non-space stand-in."""

    raw: str
    kind: str = "text"
    char: str = ""
    close: str = ""


def split_atoms(atoms: Sequence[Atom], limit: int) -> list[str]:
    """Cut `atoms` into parts of at most `limit` UTF-16 units each, tags closed at the end of a
    part and reopened at the start of the next. Parts with no visible text are dropped.
    Raises ValueError when a single atom (with the tags around it) cannot fit."""
    plan = _Plan(atoms)
    parts: list[str] = []
    start = 0
    while start < len(atoms):
        end = plan.cut(start, limit)
        part = plan.render(start, end)
        if "".join(a.char for a in atoms[start:end] if a.kind == "text").strip():
            parts.append(part)
        start = end
    return parts


class _Plan:
    """Precomputed costs, open-tag stacks and break classes for every cut position."""

    def __init__(self, atoms: Sequence[Atom]) -> None:
        self.atoms = atoms
        self.cum = [0]
        self.stacks: list[tuple[Atom, ...]] = [()]
        for atom in atoms:
            self.cum.append(self.cum[-1] + utf16_len(atom.raw))
            self.stacks.append(_next_stack(self.stacks[-1], atom))
        self.open_cost = [sum(utf16_len(a.raw) for a in s) for s in self.stacks]
        self.close_cost = [sum(utf16_len(a.close) for a in s) for s in self.stacks]
        self.breaks = _break_classes(atoms)

    def fits(self, start: int, end: int, limit: int) -> bool:
        body = self.cum[end] - self.cum[start]
        return self.open_cost[start] + body + self.close_cost[end] <= limit

    def cut(self, start: int, limit: int) -> int:
        end = start
        while end < len(self.atoms) and self.fits(start, end + 1, limit):
            end += 1
        if end == start:
            raise ValueError(f"limit {limit} too small for the markup at atom {start}")
        if end == len(self.atoms):
            return end
        return self._adjust(start, self._best(start, end), limit)

    def _best(self, start: int, end: int) -> int:
        half = start + (end - start) // 2
        for cls in (PARAGRAPH, LINE, SENTENCE):
            best = max((k for k in range(half, end + 1) if self.breaks.get(k) == cls), default=0)
            if best > start:
                return best
        words = [k for k in range(start + 1, end + 1) if k in self.breaks]
        if words:
            return words[-1]
        hard = [k for k in range(start + 1, end + 1) if _hard_ok(self.atoms, k)]
        return hard[-1] if hard else end

    def _adjust(self, start: int, end: int, limit: int) -> int:
        while end - 1 > start and self.atoms[end - 1].kind == "open":
            end -= 1
        while (
            end < len(self.atoms)
            and self.atoms[end].kind == "close"
            and self.fits(start, end + 1, limit)
        ):
            end += 1
        return end

    def render(self, start: int, end: int) -> str:
        opening = "".join(a.raw for a in self.stacks[start])
        body = "".join(a.raw for a in self.atoms[start:end])
        closing = "".join(a.close for a in reversed(self.stacks[end]))
        return opening + body + closing


def _next_stack(stack: tuple[Atom, ...], atom: Atom) -> tuple[Atom, ...]:
    if atom.kind == "open":
        return (*stack, atom)
    if atom.kind == "close":
        if not stack:
            raise ValueError(f"closing {atom.raw!r} without an open tag")
        return stack[:-1]
    return stack


def _break_classes(atoms: Sequence[Atom]) -> dict[int, int]:
    """Cut positions after a whitespace run that precedes more text, with their class; none
    inside an FSI ... PDI isolate (a phone number or a Latin name stays in one part)."""
    breaks: dict[int, int] = {}
    newlines, run_end, before, depth = 0, -1, ("", ""), 0
    for index, atom in enumerate(atoms):
        if atom.kind != "text":
            continue
        depth = max(0, depth + {FSI: 1, PDI: -1}.get(atom.char, 0))
        if atom.char.isspace() and depth == 0:
            newlines += atom.char.count("\n")
            run_end = index + 1
            continue
        if run_end > 0:
            breaks[run_end] = _classify(newlines, before)
        newlines, run_end = 0, -1
        before = (before[1], atom.char)
    return breaks


def _classify(newlines: int, before: tuple[str, str]) -> int:
    if newlines >= 2:
        return PARAGRAPH
    if newlines == 1:
        return LINE
    last, prev = before[1], before[0]
    if last in SENTENCE_END or (last in _CLOSERS and prev in SENTENCE_END):
        return SENTENCE
    return WORD


def _hard_ok(atoms: Sequence[Atom], index: int) -> bool:
    """Not before a combining mark or joiner, not after a joiner or an isolate start."""
    if index < len(atoms) and atoms[index].kind == "text" and atoms[index].char:
        char = atoms[index].char
        if unicodedata.category(char).startswith("M") or char in _GLUE or char == PDI:
            return False
    previous = atoms[index - 1]
    return not (previous.kind == "text" and previous.char in _GLUE)
