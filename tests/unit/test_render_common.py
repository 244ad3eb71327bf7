from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.model import Alert, Destination, Item, Level, RuleMatch
from monitor.sinks.render_common import (
    ELLIPSIS,
    FSI,
    LEVEL_MARKERS,
    PDI,
    Atom,
    clean_text,
    format_time,
    group_by_rule,
    highlight,
    isolate_runs,
    merge_spans,
    safe_url,
    shorten,
    snippet,
    split_atoms,
    time_range,
    utf16_len,
)

MIXED = st.text(
    alphabet=st.sampled_from(list("abc XYZ 0123456789.,:/-%\n\t")) | st.characters(),
    max_size=300,
)


def _alert(rule: str, level: Level, when: datetime | None = None) -> Alert:
    item = Item("src", rule, "t", "x", published=when)
    return Alert("id", Destination("sink"), "story", item, (RuleMatch(rule, rule, level),))


# --- small helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("هجوم", 4), ("😀", 2), ("a😀b", 4), ("👨‍👩‍👧", 8)],
)
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_level_markers_distinct_for_every_level() -> None:
    assert set(LEVEL_MARKERS) == set(Level)
    assert len(set(LEVEL_MARKERS.values())) == len(Level)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b\x07c", "abc"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("a   \t b", "a b"),
        ("a\n\n\n\n  \nb", "a\n\nb"),
        ("x\u202eevil\u202cy", "xevily"),  # bidi override from a hostile feed
        ("x\u2066y\u2069", "xy"),
        ("bad \ud800 surrogate", "bad \ufffd surrogate"),
        ("\x85\x9fok", "ok"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_shorten_at_word_boundary() -> None:
    assert shorten("alpha beta gamma delta", 12) == "alpha beta" + ELLIPSIS
    assert shorten("short", 12) == "short"
    assert len(shorten("x" * 50, 10)) == 10


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("HTTP://Example.com", "HTTP://Example.com"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ('https://example.com/"><script>', "https://example.com/%22%3E%3Cscript%3E"),
        ("https://example.com/a|b>c", "https://example.com/a%7Cb%3Ec"),
        ("https://example.com/\u202etxt", "https://example.com/%E2%80%AEtxt"),
        ("https://ar.example.com/خبر", "https://ar.example.com/خبر"),
        ("javascript:alert(1)", None),
        ("JavaScript://example.com/%0aalert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("ftp://example.com/f", None),
        ("//example.com/x", None),
        ("/relative/path", None),
        ("http://", None),
        ("http:evil", None),
        ("https://[::1", None),
        ("", None),
        (None, None),
        ("https://example.com/" + "a" * 3000, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


@given(st.text(max_size=200))
def test_safe_url_never_returns_markup_breakers(url: str) -> None:
    for candidate in (url, "https://h.example/" + url):
        result = safe_url(candidate)
        if result is not None:
            assert result.lower().startswith(("http://", "https://"))
            assert not set(result) & set(' "<>|\\\n\t`')


@pytest.mark.parametrize(
    ("value", "tz", "text"),
    [
        (datetime(2026, 11, 30, 14, 5, 59, tzinfo=UTC), "UTC", "2026-11-30 14:05 UTC"),
        (datetime(2026, 11, 30, 14, 5), "UTC", "2026-11-30 14:05 UTC"),  # naive is UTC
        (
            datetime(2026, 11, 30, 17, 5, tzinfo=timezone(timedelta(hours=3))),
            "UTC",
            "2026-11-30 14:05 UTC",
        ),
        (datetime(2026, 11, 30, 14, 5, tzinfo=UTC), "Asia/Baghdad", "2026-11-30 17:05 +03"),
    ],
)
def test_format_time(value: datetime, tz: str, text: str) -> None:
    assert format_time(value, tz) == text


def test_group_by_rule_most_urgent_first() -> None:
    alerts = [
        _alert("low-rule", Level.LOW),
        _alert("crit-rule", Level.CRITICAL),
        _alert("low-rule", Level.LOW),
    ]
    groups = group_by_rule(alerts)
    assert [(title, level, len(group)) for title, level, group in groups] == [
        ("crit-rule", Level.CRITICAL, 1),
        ("low-rule", Level.LOW, 2),
    ]


def test_time_range() -> None:
    t0 = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert time_range([_alert("r", Level.LOW, t0)]) == "2026-11-30 14:05 UTC"
    both = [_alert("r", Level.LOW, t0 + timedelta(minutes=9)), _alert("r", Level.LOW, t0)]
    assert time_range(both) == "2026-11-30 14:05 UTC – 2026-11-30 14:14 UTC"
    assert time_range([]) == ""


# --- spans and snippets --------------------------------------------------------------------


def test_merge_spans_clamps_drops_and_merges() -> None:
    spans = [(5, 8), (-3, 2), (7, 10), (20, 30), (12, 12), (15, 14)]
    assert merge_spans(spans, 25) == [(0, 2), (5, 10), (20, 25)]


@given(MIXED, st.lists(st.tuples(st.integers(-5, 320), st.integers(-5, 320)), max_size=6))
def test_highlight_reassembles_text(text: str, spans: list[tuple[int, int]]) -> None:
    segments = highlight(text, spans)
    assert "".join(s for s, _ in segments) == text
    flagged = [s for s, hit in segments if hit]
    assert flagged == [text[a:b] for a, b in merge_spans(spans, len(text))]


@given(
    MIXED,
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 30)), max_size=4),
    st.integers(20, 200),
)
def test_snippet_is_a_window_of_the_text(
    text: str, raw: list[tuple[int, int]], max_len: int
) -> None:
    spans = [(s, s + n) for s, n in raw]
    segments = snippet(text, spans, max_len)
    body = [s for s in segments if s != (ELLIPSIS, False)]
    inner = "".join(s for s, _ in body)
    assert inner in text
    assert len(inner) <= max_len
    if len(text) <= max_len:
        assert inner == text
    for piece, hit in body:
        if hit:
            assert any(piece in text[a:b] for a, b in merge_spans(spans, len(text)))


def test_snippet_window_around_the_hit_with_ellipses() -> None:
    words = [f"w{i:03d}" for i in range(200)]
    text = " ".join(words)
    start = text.index("w150")
    segments = snippet(text, [(start, start + 4)], 100)
    assert segments[0] == (ELLIPSIS, False) and segments[-1] == (ELLIPSIS, False)
    assert ("w150", True) in segments
    inner = "".join(s for s, _ in segments[1:-1])
    assert inner.split() == inner.split(" ")  # cut at word boundaries: whole words only
    assert all(w in words for w in inner.split())


def test_snippet_of_arabic_text_keeps_the_offsets() -> None:
    text = "قال مصدر أمني إن صواريخ سقطت على قاعدة عين الأسد غرب الأنبار " * 40
    at = text.index("عين الأسد", 1000)
    segments = snippet(text, [(at, at + len("عين الأسد"))], 120)
    assert ("عين الأسد", True) in segments
    assert max(len(s) for s, _ in segments) <= 120


def test_snippet_without_hits_starts_at_the_beginning() -> None:
    text = "one two three four five six seven eight nine ten"
    segments = snippet(text, [], 20)
    assert segments[-1] == (ELLIPSIS, False)
    assert text.startswith(segments[0][0])


def test_snippet_zero_max_keeps_whole_text() -> None:
    assert "".join(s for s, _ in snippet("a b c " * 500, [(0, 1)], 0)) == "a b c " * 500


# --- isolates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plain English 1,200 text", "Plain English 1,200 text"),
        ("", ""),
        ("قتل 12 شخصا", f"قتل {FSI}12{PDI} شخصا"),
        ("عدد 1,200 جندي", f"عدد {FSI}1,200{PDI} جندي"),
        ("نسبة 3.5% فقط", f"نسبة {FSI}3.5%{PDI} فقط"),
        ("قاعدة Ain al-Asad الجوية", f"قاعدة {FSI}Ain al-Asad{PDI} الجوية"),
        (
            "الرابط https://example.com/a?b=1&c=2 هنا",
            f"الرابط {FSI}https://example.com/a?b=1&c=2{PDI} هنا",
        ),
        ("طائرة F-16 عند 12:30.", f"طائرة {FSI}F-16{PDI} عند {FSI}12:30{PDI}."),
        ("هاتف 770 123 456 للطوارئ", f"هاتف {FSI}770 123 456{PDI} للطوارئ"),
        ("رقم ١٢٣ عربي", "رقم ١٢٣ عربي"),  # Arabic-Indic digits already display in order
    ],
)
def test_isolate_runs(text: str, expected: str) -> None:
    assert isolate_runs(text) == expected


def test_isolate_runs_forced_for_a_piece_of_arabic_text() -> None:
    assert isolate_runs("AB 12", rtl=True) == f"{FSI}AB 12{PDI}"
    assert isolate_runs("عين AB", rtl=False) == "عين AB"


@given(st.text(alphabet=st.sampled_from(list("ab 12.,:/-%عينالأسد\n")), max_size=120))
def test_isolate_runs_only_adds_balanced_isolates(text: str) -> None:
    out = isolate_runs(text)
    assert out.replace(FSI, "").replace(PDI, "") == text
    depth = 0
    for char in out:
        depth += {FSI: 1, PDI: -1}.get(char, 0)
        assert depth in (0, 1)
    assert depth == 0


# --- the splitting engine ------------------------------------------------------------------


def _atoms(text: str) -> list[Atom]:
    return [Atom(c, char=c) for c in text]


def reassembles(parts: list[str], text: str) -> bool:
    """`text` is the parts in order with at most whitespace (dropped parts) between them."""
    pos = 0
    for part in parts:
        found = text.find(part, pos)
        if found < 0 or text[pos:found].strip():
            return False
        pos = found + len(part)
    return not text[pos:].strip()


@given(MIXED, st.integers(2, 80))
def test_split_atoms_parts_fit_and_keep_the_text(text: str, limit: int) -> None:
    parts = split_atoms(_atoms(text), limit)
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(p.strip() for p in parts)
    assert reassembles(parts, text)


def test_split_atoms_prefers_paragraph_then_sentence_then_word() -> None:
    text = "First para here.\n\nSecond sentence one. Then more words follow here"
    assert split_atoms(_atoms(text), 30) == [
        "First para here.\n\n",
        "Second sentence one. ",
        "Then more words follow here",
    ]
    # a sentence end in the first half of the window loses to a later word boundary
    assert split_atoms(_atoms("One. two three four five six"), 20)[0] == "One. two three four "
    arabic = "قصف مواقع عديدة، ثم انسحاب سريع؛ هل انتهى القتال؟ نعم انتهى"
    assert split_atoms(_atoms(arabic), 20) == [
        "قصف مواقع عديدة، ",
        "ثم انسحاب سريع؛ ",
        "هل انتهى القتال؟ ",
        "نعم انتهى",
    ]


def test_split_atoms_does_not_break_emoji_sequences() -> None:
    family = "👨\u200d👩\u200d👧"
    parts = split_atoms(_atoms(family * 20), 10)
    assert "".join(parts) == family * 20
    assert all(not p.endswith("\u200d") and not p.startswith("\u200d") for p in parts)


def test_split_atoms_rejects_an_atom_that_cannot_fit() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_atoms([Atom("x" * 10, char="x")], 5)


def test_split_atoms_closes_and_reopens_tags() -> None:
    atoms = [Atom("<b>", "open", close="</b>"), *_atoms("aaaa bbbb cccc"), Atom("</b>", "close")]
    assert split_atoms(atoms, 12) == ["<b>aaaa </b>", "<b>bbbb </b>", "<b>cccc</b>"]


def test_split_atoms_keeps_isolated_runs_together() -> None:
    text = isolate_runs("اتصلوا على الرقم 770 123 456 789 الآن")
    parts = split_atoms(_atoms(text), 28)
    assert "".join(parts) == text
    assert any(f"{FSI}770 123 456 789{PDI}" in p for p in parts)
