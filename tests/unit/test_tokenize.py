"""monitor.text.tokenize: words split on whitespace, punctuation, hyphens, underscores and the
letter/digit change."""

from __future__ import annotations

import pytest

from monitor.text.normalize import normalize_text
from monitor.text.tokenize import DIGIT, LETTER, OTHER, char_class, is_arabic, segments, tokenize

CASES = [
    ("hashtag with underscore", "#عين_الأسد", ["عين", "الاسد"]),
    ("letters then digits", "BM21", ["bm", "21"]),
    ("hyphen", "BM-21", ["bm", "21"]),
    ("space", "BM 21", ["bm", "21"]),
    ("digits then letters", "21BM", ["21", "bm"]),
    ("arabic with digits", "قرار2254", ["قرار", "2254"]),
    ("arabic-indic digits", "القرار ٢٢٥٤", ["القرار", "2254"]),
    ("sentence punctuation", "هدنة، قصف. هجوم؟ نعم!", ["هدنه", "قصف", "هجوم", "نعم"]),
    ("quotes and guillemets", '«هدنة» "truce"', ["هدنه", "truce"]),
    ("apostrophe inside a name", "Kata'ib", ["kataib"]),
    ("possessive", "Iraq's", ["iraq", "s"]),
    ("slash and dots", "9/11 U.N.", ["9", "11", "u", "n"]),
    ("line breaks", "a\nb\r\nc", ["a", "b", "c"]),
    ("tatweel stays inside the word", "الهـدنة", ["الهدنه"]),
    ("zero-width joiner inside the word", "هد\u200dنة", ["هدنه"]),
    ("empty", "", []),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_tokens(name: str, text: str, expected: list[str]) -> None:
    assert [t.text for t in tokenize(normalize_text(text))] == expected


def test_token_offsets_and_kinds() -> None:
    toks = tokenize("bm21 x")
    assert [(t.start, t.end, t.kind) for t in toks] == [
        (0, 2, "word"),
        (2, 4, "number"),
        (5, 6, "word"),
    ]


@pytest.mark.parametrize(
    ("char", "cls"),
    [
        ("a", LETTER),
        ("ه", LETTER),
        ("5", DIGIT),
        ("٥", DIGIT),
        (" ", OTHER),
        ("،", OTHER),
        ("-", OTHER),
        ("_", OTHER),
    ],
)
def test_char_class(char: str, cls: int) -> None:
    assert char_class(char) == cls


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bm21", ["bm", "21"]),
        ("u.n.", ["u", ".", "n", "."]),
        ("هدنه", ["هدنه"]),
        ("#عين", ["#", "عين"]),
    ],
)
def test_segments(word: str, expected: list[str]) -> None:
    assert segments(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("هدنه", True), ("كتايب", True), ("isis", False), ("هدنه5", False), ("", False)],
)
def test_is_arabic(word: str, expected: bool) -> None:
    assert is_arabic(word) is expected
