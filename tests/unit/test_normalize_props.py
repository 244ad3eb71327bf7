"""Properties of normalization: idempotent, fast path == reference path, a sound offset map."""

from __future__ import annotations

from bisect import bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.text.normalize import normalize, normalize_text, reference_normalize
from monitor.text.tokenize import tokenize

# Arabic letters and marks, Latin, digits, separators, invisible controls, presentation forms,
# markup characters: the neighbourhoods where normalization does something.
_SPECIAL = (
    "أإآٱؤئىةیکەۀہـ\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u06d6\u06da"
    "\u200b\u200c\u200d\u200e\u200f\u061c\u202a\u202e\u2066\u2069\u00ad\u2060\ufeff"
    "ﻻﻷﷲﻫﺪﻧﺔ٠١٩۴१１𝟐²"
    " \n\t\u00a0-_–—\"'’ʿʾ«»“”.,،؛:!?؟#"
    "ÉéßİŁøÅ"
)
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(_SPECIAL)),
        st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
        st.characters(min_codepoint=0x41, max_codepoint=0x7A),
        st.characters(),
    ),
    max_size=60,
)
_MARKUP = st.lists(
    st.sampled_from(
        [
            "&amp;",
            "&quot;",
            "&lt;",
            "&gt;",
            "&#1607;",
            "<b>",
            "</p>",
            "<br/>",
            "&amp;amp;",
            "&",
            "<",
            ">",
            ";",
            "amp",
            "b",
            "هدنة",
            " ",
            "x",
        ]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=400)
@given(_TEXT)
def test_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=200)
@given(_MARKUP)
def test_idempotent_with_markup(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=400)
@given(st.one_of(_TEXT, _MARKUP))
def test_fast_path_equals_reference(text: str) -> None:
    assert normalize_text(text) == reference_normalize(text)


@settings(max_examples=300)
@given(st.one_of(_TEXT, _MARKUP), st.data())
def test_offsets_are_ordered_and_in_range(text: str, data: st.DataObject) -> None:
    n = normalize(text)
    a = data.draw(st.integers(0, len(n.text)))
    b = data.draw(st.integers(a, len(n.text)))
    s, e = n.to_original(a, b)
    assert 0 <= s <= e <= len(text)
    starts = [n.to_original(i, i)[0] for i in range(len(n.text) + 1)]
    assert starts == sorted(starts)


@settings(max_examples=300)
@given(_TEXT)
def test_every_token_maps_back_to_a_slice_that_normalizes_to_it(text: str) -> None:
    n = normalize(text)
    for tok in tokenize(n.text):
        s, e = n.to_original(tok.start, tok.end)
        assert tok.text in normalize_text(text[s:e])  # (a ligature maps back whole)


def _shifted(tables: list[tuple[list[int], list[int]]], n: int) -> int:
    for breaks, shifts in tables:
        n += shifts[bisect_right(breaks, n)]
    return n


# Only letters and what normalization removes (tashkeel, tatweel, invisible marks, extra
# spaces): the texts that get shift tables.
_REMOVALS = st.lists(
    st.sampled_from(
        [*"هدنةبغاد x1", *"ـ\u064b\u064e\u0650\u0651\u0652\u0670\u200c\u200f\u00ad", "  "]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300)
@given(st.one_of(_REMOVALS, _TEXT, _MARKUP))
def test_shift_tables_map_every_span_like_to_original(text: str) -> None:
    n = normalize(text)
    tables = n.shift_tables()
    if tables is None:  # a stage inserted or replaced characters: to_original only
        return
    for a in range(len(n.text) + 1):
        for b in range(a, len(n.text) + 1):
            assert (_shifted(tables, a), _shifted(tables, b)) == n.to_original(a, b)
