"""The engine's shortcuts against its reference definitions.

- The scan decides most hits with one string comparison on each side (`_scan`) or with the
  last space within reach (`_left`); `_left_reference` is the check as rules/README.md states
  it. Over generated texts both give the same accepted hits, in the same order.
- `match` returns RuleMatches that build their hits when first read; they are equal to, hash,
  print, copy, pickle and serialize as the plain RuleMatch with the hits `explain` builds
  eagerly.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import pickle
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.matching import Engine, compile_rules
from monitor.matching.engine import TEXT, TITLE, _left_reference, _right
from monitor.model import Hit, RuleMatch

ROOT = Path(__file__).resolve().parents[2]

# Every kind of check: proclitic words with and without the article (and one starting with
# ل), ة and ى endings, phrases, exact, substring, Latin and digits, and one title-only term.
TERMS = [
    "هدنة",
    "الهدنة",
    "اللجنة",
    "التزام",
    "مستوى",
    "الأمن",
    "قصف",
    "عين الأسد",
    "وقف إطلاق النار",
    "الحكومة الجديدة",
    "بغداد",
    {"term": "داعش", "exact": True},
    {"term": "غراد", "substring": True},
    "BM21",
    "2254",
    "rocket",
    {"term": "عاجل", "field": "title"},
]
WORDS = [
    "الهدنة",
    "الأمن",
    "الحكومة",
    "اللجنة",
    "التزامات",
    "هدنة",
    "هدنت",
    "هدنات",
    "لجنة",
    "التزام",
    "مستوى",
    "مستوا",
    "أمن",
    "قصف",
    "عين",
    "الأسد",
    "وقف",
    "إطلاق",
    "النار",
    "حكومة",
    "الجديدة",
    "بغداد",
    "داعش",
    "بلغراد",
    "غراد",
    "BM",
    "21",
    "2254",
    "rocket",
    "عاجل",
    "في",
    "على",
]
PREFIXES = ["", "", "و", "ف", "ب", "ك", "ل", "ال", "وال", "بال", "لل", "ولل", "فبال", "لال", "س"]
SUFFIXES = ["", "", "ه", "ها", "هم", "نا", "ان", "ين", "ون", "ات", "اتها", "ي", "ا", "ية", "x1"]
SEPARATORS = [" ", " ", " ", "، ", ". ", "-", "_", "\n", "«", '"', "(", "؛", "ـ", "\u064e", ":"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    d = tmp_path_factory.mktemp("scan")
    rules = [{"id": f"t{i}", "keywords": [t]} for i, t in enumerate(TERMS)]
    rules.append({"id": "all", "keywords": TERMS[:10]})
    rules.append(
        {
            "id": "cond",
            "match": {"a": TERMS[:5], "b": TERMS[5:10], "c": ["قصف"]},
            "condition": "2 of a and b and not c",
        }
    )
    (d / "r.yaml").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    eng, problems = compile_rules(d)
    assert problems == []
    return eng


@pytest.fixture(scope="module")
def shipped() -> Engine:
    eng, problems = compile_rules(ROOT / "rules")
    assert problems == []
    return eng


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 14))):
        word = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(WORDS))
        parts.append(word + draw(st.sampled_from(SUFFIXES)))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(parts[: draw(st.integers(1, len(parts)))])


def reference_scan(engine: Engine, t: str, bit: int) -> list[tuple[object, ...]]:
    """The scan with no shortcut: every automaton hit through the reference checks."""
    out: list[tuple[object, ...]] = []
    n = len(t)
    ac = engine._ac
    for end, checks in ac.iter(t) if ac is not None else ():
        e = end + 1
        after = t[e] if e < n else " "
        for klen, _usual, _before, _back, _bare, scan, refs in checks:
            s = e - klen
            word = _left_reference(t, s, scan[0])
            if word is None:
                continue
            ws, article = word
            we = _right(t, e, after, scan, article)
            if we >= 0:
                out.append((refs, bit, ws, we))
    if engine._regexes:
        engine._scan_regexes(t, bit, out)  # type: ignore[arg-type]
    return out


def scan(engine: Engine, t: str, bit: int) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    engine._scan(t, bit, out)  # type: ignore[arg-type]
    return out


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts(), st.sampled_from([TITLE, TEXT]))
def test_scan_shortcuts_equal_the_reference_checks(engine: Engine, text: str, bit: int) -> None:
    from monitor.text.normalize import normalize_text

    t = normalize_text(text)
    assert scan(engine, t, bit) == reference_scan(engine, t, bit)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts())
def test_shipped_rules_scan_equals_the_reference(shipped: Engine, text: str) -> None:
    from monitor.text.normalize import normalize_text

    t = normalize_text(text + " قاعدة عين الأسد، والهدنة. قصف للتحالف الدولي")
    assert scan(shipped, t, TEXT) == reference_scan(shipped, t, TEXT)


# Each path of the scan, accepted and refused: the usual case (a space, or a space and the
# article), the last space then a known prefix, the reference path (no space before).
PATHS = {
    "قال الهدنة صامدة": ["t0", "t1", "all"],
    "قال هدنة صامدة": ["t0", "all"],
    "قال وبالهدنة صامدة": ["t0", "t1", "all"],
    "(والهدنة)": ["t0", "t1", "all"],
    "الهدنة": ["t0", "t1", "all"],
    "هدنتها وللجنة": ["t0", "t2", "all"],
    "في اللجنة الالتزام": ["t2", "t3", "all"],
    "قال مستواه": ["t4", "all"],
    "أمن بلغراد": ["t12"],
    "قال الحكومة الجديدة، وللحكومة الجديدة": ["t9", "all"],
    "BM-21 و٢٢٥٤ rockets rocket": ["t13", "t14", "t15"],
    "الهدنةية بالهدنتها": [],
    "والهدنات": ["t0", "t1", "all"],
}


@pytest.mark.parametrize(("text", "expected"), PATHS.items())
def test_every_path_of_the_scan(engine: Engine, text: str, expected: list[str]) -> None:
    from monitor.text.normalize import normalize_text

    assert [m.rule_id for m in engine.match_text(text)] == expected
    t = normalize_text(text)
    assert scan(engine, t, TEXT) == reference_scan(engine, t, TEXT)


# ---------------------------------------------------------------------------- lazy hits


def eager(engine: Engine, text: str, title: str = "") -> dict[str, RuleMatch]:
    return engine.explain(text, title=title)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts(), texts())
def test_lazy_matches_equal_the_eager_ones(engine: Engine, title: str, text: str) -> None:
    explained = eager(engine, text, title)
    for m in engine.match_text(text, title=title):
        plain = explained[m.rule_id]
        assert m == plain and plain == m
        assert hash(m) == hash(plain)
        assert repr(m) == repr(plain)
        assert m.to_dict() == plain.to_dict()


def test_a_lazy_match_is_a_rule_match_in_every_way(engine: Engine) -> None:
    text = "<b>قال</b> الهُدنة صامدة في بغداد، والهدنتان..."
    [m0, *_] = engine.match_text(text)
    plain = eager(engine, text)[m0.rule_id]
    [m] = [x for x in engine.match_text(text) if x.rule_id == m0.rule_id]
    assert isinstance(m, RuleMatch)
    assert m.hits is m.hits  # built once, then kept
    assert m.hits == plain.hits and all(type(h) is Hit for h in m.hits)
    assert [text[h.start : h.end] for h in m.hits] == [text[h.start : h.end] for h in plain.hits]
    assert dataclasses.fields(m) == dataclasses.fields(plain)
    assert dataclasses.asdict(m) == dataclasses.asdict(plain)
    changed = dataclasses.replace(m, tags=("x",))
    assert changed == dataclasses.replace(plain, tags=("x",))
    assert changed.hits == plain.hits
    for twin in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m)):
        assert type(twin) is RuleMatch and twin == plain
    assert RuleMatch.from_dict(m.to_dict()) == plain
    assert {m: 1}[plain] == 1
    assert m != object() and m != plain.to_dict()


def _read_hits(
    matches: list[RuleMatch], barrier: threading.Barrier, out: list[tuple[str, tuple[Hit, ...]]]
) -> None:
    barrier.wait()
    out.extend((m.rule_id, m.hits) for m in matches)


def test_a_lazy_match_built_by_many_threads_at_once(engine: Engine) -> None:
    text = " ".join(["والهدنة", "بغداد", "قصف", "الحكومة الجديدة"] * 50)
    expected = {k: v.hits for k, v in eager(engine, text).items()}
    for _ in range(20):
        matches = engine.match_text(text)
        results: list[tuple[str, tuple[Hit, ...]]] = []
        barrier = threading.Barrier(6)
        threads = [
            threading.Thread(target=_read_hits, args=(matches, barrier, results)) for _ in range(6)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(results) == 6 * len(matches)
        assert all(hits == expected[rule_id] for rule_id, hits in results)


def test_hits_of_a_title_limited_term_count_in_the_title_only(engine: Engine) -> None:
    assert [m.rule_id for m in engine.match_text("عاجل")] == []
    assert [m.rule_id for m in engine.match_text("لا شيء", title="عاجل: قصف")] == [
        "t6",
        "t16",
        "all",
    ]
    [m] = [x for x in engine.match_text("عاجل", title="عاجل") if x.rule_id == "t16"]
    assert [(h.field, h.term) for h in m.hits] == [("title", "عاجل")]


def test_conditions_count_terms_of_every_field(engine: Engine) -> None:
    assert "cond" in [m.rule_id for m in engine.match_text("الأمن", title="هدنة ومستوى")]
    assert "cond" not in [m.rule_id for m in engine.match_text("الأمن", title="هدنة وقصف")]
    assert "cond" not in [m.rule_id for m in engine.match_text("الأمن وهدنة")]


def test_reading_one_match_builds_the_hits_of_the_others(engine: Engine) -> None:
    text = "والهدنة في بغداد، قصف"
    matches = engine.match_text(text)
    assert len(matches) > 2
    explained = eager(engine, text)
    first, *others = matches
    call = others[0]._call  # type: ignore[attr-defined]
    assert first.hits == explained[first.rule_id].hits
    assert call._built is not None and len(call._built) == len(matches)  # one pass for all
    assert [m.hits for m in others] == [explained[m.rule_id].hits for m in others]


def test_matches_make_no_reference_cycle(engine: Engine) -> None:
    text = "والهدنة في بغداد، قصف"
    engine.match_text(text)
    gc.collect()
    gc.disable()
    try:
        for read in (False, True, False):
            matches = engine.match_text(text)
            if read:
                assert matches[0].hits
            del matches
            assert gc.collect() == 0  # everything went with its last reference
    finally:
        gc.enable()
