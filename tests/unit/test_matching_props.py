"""Properties: a term still matches a text that contains it after random diacritics, tatweel,
invisible characters, clitics and soft separators are added; it never matches as a piece of a
longer word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.matching import Engine, compile_rules
from monitor.matching.terms import ART_PREFIXES, PRO_PREFIXES, PRONOUNS
from monitor.text.normalize import normalize_text

# (term, has the article, ends in ة)
TERMS = [
    ("هدنة", False, True),
    ("تهدئة", False, True),
    ("قصف", False, False),
    ("صاروخ", False, False),
    ("الأنبار", True, False),
    ("الكاظمي", True, False),
    ("عين الأسد", False, False),
    ("كتائب حزب الله", False, False),
    ("وقف إطلاق النار", False, False),
    ("المقاومة الإسلامية", True, True),
]
FILLER = ["قال", "مصدر", "في", "بغداد", "اليوم", "إن", "الوضع", "مستقر", "على", "الحدود"]
TASHKEEL = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670"]
INVISIBLE = ["\u200c", "\u200d", "\u200e", "\u200f", "\u00ad", "\u2060", "\u061c", "\ufeff"]
SOFT = [" ", "  ", "-", "_", "\n", ' "', "« ", " – "]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    d = tmp_path_factory.mktemp("props")
    rules = [{"id": f"t{i}", "keywords": [t]} for i, (t, _, _) in enumerate(TERMS)]
    (d / "r.yaml").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    eng, problems = compile_rules(d)
    assert problems == []
    return eng


@st.composite
def decorated_word(draw: st.DrawFn, word: str) -> str:
    out: list[str] = []
    for i, c in enumerate(word):
        out.append(c)
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(TASHKEEL)))
        if i < len(word) - 1 and draw(st.integers(0, 5)) == 0:
            out.append("ـ" * draw(st.integers(1, 3)))
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
    return "".join(out)


@st.composite
def occurrence(draw: st.DrawFn) -> tuple[int, str, str]:
    """(rule index, the surface text of the term in the text, its expected normalized form)"""
    index = draw(st.integers(0, len(TERMS) - 1))
    term, article, taa = TERMS[index]
    words = term.split(" ")
    if article:
        prefix = draw(st.sampled_from(sorted(ART_PREFIXES)))
        if prefix.endswith("لل"):
            words[0] = words[0][2:]  # ل + ال is written لل
        elif prefix.endswith("ال"):
            words[0] = words[0][2:]
    else:
        prefix = draw(st.sampled_from(sorted(PRO_PREFIXES)))
    suffix = ""
    single = len(words) == 1
    has_article = article or any(prefix.endswith(a) for a in ("ال", "لل"))
    if single and not has_article and draw(st.booleans()):
        suffix = draw(st.sampled_from(sorted(PRONOUNS)))
        if taa:
            words[-1] = words[-1][:-1] + "ت"
    words[0] = prefix + words[0]
    words[-1] = words[-1] + suffix
    seps = [draw(st.sampled_from(SOFT)) for _ in words[1:]]
    decorated = [draw(decorated_word(w)) for w in words]
    surface = decorated[0] + "".join(s + w for s, w in zip(seps, decorated[1:], strict=True))
    return index, surface, normalize_text(" ".join(words))


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    occurrence(),
    st.lists(st.sampled_from(FILLER), max_size=4),
    st.lists(st.sampled_from(FILLER), max_size=4),
)
def test_decorated_term_still_matches(
    engine: Engine, occ: tuple[int, str, str], before: list[str], after: list[str]
) -> None:
    index, surface, expected = occ
    text = " ".join([*before, surface, *after])
    matches = {m.rule_id: m for m in engine.match_text(text)}
    assert f"t{index}" in matches, text
    spans = [text[h.start : h.end] for h in matches[f"t{index}"].hits]
    assert any(normalize_text(s) == expected for s in spans), (spans, expected)


_LETTERS = st.text(alphabet=st.sampled_from("بتثجحخدذرزسشصضطظعغقمنهي"), min_size=5, max_size=8)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(TERMS) - 1), _LETTERS, st.booleans())
def test_term_inside_a_longer_word_never_matches(
    engine: Engine, index: int, letters: str, before: bool
) -> None:
    term = TERMS[index][0]
    word = letters + term if before else term + letters + letters[:1]
    assert f"t{index}" not in [m.rule_id for m in engine.match_text(f"قال {word} اليوم")]


def test_engine_fixture_compiles(engine: Engine, tmp_path: Path) -> None:
    assert len(engine.rules) == len(TERMS)
