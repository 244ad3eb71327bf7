"""Engine behaviour: conditions, scope, fields, entities, regexes, offsets, immutability."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import pytest

from monitor.matching import Engine, RuleInfo, compile_rules
from monitor.model import Hit, Item, Level

ENTITIES = """
- id: ain-al-asad
  kind: place
  names: [عين الأسد, قاعدة عين الأسد, Ain al-Asad, Al Asad Airbase]
- id: harir-base
  kind: place
  names: [قاعدة حرير, Harir base]
"""

BASES = """
id: strike-on-bases
title: Attack on a base
level: critical
tags: [iraq]
route: [desk, slack-alerts]
match:
  attack: [هجوم, قصف, صاروخ, صواريخ, rocket, attack]
  place: ["@ain-al-asad", "@harir-base"]
  noise: [مباراة, دوري]
condition: attack and place and not noise
"""


def make(tmp_path: Path, *rules: str, entities: str = ENTITIES) -> Engine:
    (tmp_path / "entities").mkdir(exist_ok=True)
    (tmp_path / "entities" / "e.yaml").write_text(entities, encoding="utf-8")
    for i, rule in enumerate(rules):
        (tmp_path / f"r{i}.yaml").write_text(textwrap.dedent(rule), encoding="utf-8")
    engine, problems = compile_rules(tmp_path)
    assert problems == [], [str(p) for p in problems]
    return engine


def ids(engine: Engine, text: str, **kw: object) -> list[str]:
    return [m.rule_id for m in engine.match_text(text, **kw)]  # type: ignore[arg-type]


def test_condition_and_not(tmp_path: Path) -> None:
    e = make(tmp_path, BASES)
    assert ids(e, "سقوط صواريخ على قاعدة عين الاسد غرب الأنبار") == ["strike-on-bases"]
    assert ids(e, "مباراة ودية في ملعب عين الأسد") == []
    assert ids(e, "هجوم على عين الأسد خلال مباراة") == []
    assert ids(e, "هجوم على مقر حزب") == []


def test_rule_match_carries_rule_metadata_and_hits(tmp_path: Path) -> None:
    e = make(tmp_path, BASES)
    text = "قصفٌ صاروخيّ على قاعدةِ عين الأسد"
    [m] = e.match_text(text)
    assert (m.rule_id, m.title, m.level) == ("strike-on-bases", "Attack on a base", Level.CRITICAL)
    assert m.routes == ("desk", "slack-alerts")
    assert m.tags == ("iraq",)
    assert [(h.field, text[h.start : h.end], h.term, h.group, h.entity) for h in m.hits] == [
        ("text", "قصفٌ", "قصف", "attack", None),
        ("text", "قاعدةِ عين الأسد", "قاعدة عين الأسد", "place", "ain-al-asad"),
        ("text", "عين الأسد", "عين الأسد", "place", "ain-al-asad"),
    ]


def test_engine_rules_info(tmp_path: Path) -> None:
    e = make(tmp_path, BASES, "id: b\nkeywords: [x]\nsources: [tag:iraq, rudaw]\n")
    assert e.rules[0] == RuleInfo(
        "strike-on-bases",
        "Attack on a base",
        Level.CRITICAL,
        ("iraq",),
        ("desk", "slack-alerts"),
        (),
        str(tmp_path / "r0.yaml"),
        2,
    )
    assert e.rules[1].sources == ("tag:iraq", "rudaw")
    assert e.rules[1].level is Level.MEDIUM and e.rules[1].title == "b"


def test_item_title_and_text_fields(tmp_path: Path) -> None:
    e = make(tmp_path, "id: t\nkeywords: [هدنة]\n")
    item = Item(source_id="s", key="k", title="الهدنة صامدة", text="لا جديد")
    [m] = e.match(item)
    assert m.hits == (Hit("title", 0, 6, "هدنة", "keywords", None),)


@pytest.mark.parametrize(
    ("rule", "title", "text", "expected"),
    [
        ("fields: title", "هدنة", "", True),
        ("fields: title", "", "هدنة", False),
        ("fields: text", "هدنة", "", False),
        ("fields: text", "", "هدنة", True),
        ("fields: any", "هدنة", "", True),
    ],
)
def test_rule_fields(tmp_path: Path, rule: str, title: str, text: str, expected: bool) -> None:
    e = make(tmp_path, f"id: t\nkeywords: [هدنة]\n{rule}\n")
    assert bool(ids(e, text, title=title)) is expected


def test_term_field(tmp_path: Path) -> None:
    e = make(
        tmp_path,
        """
        id: t
        match:
          what: [{term: هدنة, field: title}]
          where: [بغداد]
        condition: what and where
    """,
    )
    assert ids(e, "بغداد", title="هدنة") == ["t"]
    assert ids(e, "هدنة في بغداد") == []


def test_sources_scope(tmp_path: Path) -> None:
    e = make(tmp_path, "id: t\nkeywords: [هدنة]\nsources: [tag:iraq, rudaw]\n")
    assert ids(e, "هدنة") == []
    assert ids(e, "هدنة", source_id="rudaw") == ["t"]
    assert ids(e, "هدنة", source_id="other", tags=("news", "iraq")) == ["t"]
    assert ids(e, "هدنة", source_id="iraq") == []  # a source id is not a tag
    item = Item(source_id="x", key="k", title="", text="هدنة", tags=("iraq",))
    assert [m.rule_id for m in e.match(item)] == ["t"]


def test_n_of_group_counts_distinct_terms_and_entities_once(tmp_path: Path) -> None:
    e = make(
        tmp_path,
        """
        id: t
        match:
          words: [هدنة, قصف, "@ain-al-asad"]
        condition: 2 of words
    """,
    )
    assert ids(e, "هدنة هدنة الهدنة") == []
    assert ids(e, "قاعدة عين الأسد Ain al-Asad") == []  # two names, one entity
    assert ids(e, "هدنة ثم قصف") == ["t"]
    assert ids(e, "هدنة في عين الأسد") == ["t"]


def test_all_of_and_any_of(tmp_path: Path) -> None:
    e = make(
        tmp_path,
        """
        id: t
        match:
          a: [هدنة, قصف]
          b: [بغداد]
        condition: all of a or (any of b and not a)
    """,
    )
    assert ids(e, "هدنة ثم قصف") == ["t"]
    assert ids(e, "هدنة") == []
    assert ids(e, "بغداد") == ["t"]
    assert ids(e, "بغداد هدنة") == []


def test_rules_come_in_load_order_and_share_terms(tmp_path: Path) -> None:
    e = make(tmp_path, "id: a\nkeywords: [هدنة]\n", "id: b\nkeywords: [الهدنة, تهدئة]\n")
    assert ids(e, "الهدنة والتهدئة") == ["a", "b"]
    assert ids(e, "هدنة") == ["a"]


def test_regex_terms(tmp_path: Path) -> None:
    e = make(
        tmp_path,
        """
        id: t
        keywords: [{regex: "(ال)?قرار (رقم )?[0-9]{3,4}"}, {regex: "BM ?2[0-9]"}, {regex: "هدن"}]
    """,
    )
    text = "صدر القرار رقم ٢٢٥٤ وأطلقت BM-21"
    [m] = e.match_text(text)
    assert [text[h.start : h.end] for h in m.hits] == ["القرار رقم ٢٢٥٤", "BM-21"]
    assert ids(e, "الهدنة") == []  # a regex hit must be whole words too


def test_single_regex_and_substring_regex(tmp_path: Path) -> None:
    e = make(tmp_path, 'id: t\nkeywords: [{regex: "هدن", substring: true}]\n')
    [m] = e.match_text("الهدنة")
    assert [(h.start, h.end) for h in m.hits] == [(2, 5)]


def test_regex_is_linear_on_a_classic_catastrophic_pattern(tmp_path: Path) -> None:
    e = make(tmp_path, 'id: t\nkeywords: [{regex: "(a+)+b"}]\n')
    assert ids(e, "a" * 100_000) == []  # a backtracking engine would never return


def test_hits_offsets_point_into_the_original_text(tmp_path: Path) -> None:
    e = make(tmp_path, "id: t\nkeywords: [عين الأسد, هدنة]\n")
    text = "<b>قصف</b> &quot;عين_الأسـد&quot; \u200fوالهُدنةِ\u200f. "
    [m] = e.match_text(text)
    assert [text[h.start : h.end] for h in m.hits] == ["عين_الأسـد", "والهُدنةِ\u200f"]


def test_engine_is_immutable(tmp_path: Path) -> None:
    e = make(tmp_path, BASES)
    with pytest.raises(AttributeError):
        e.rules = ()


def test_empty_engine_matches_nothing() -> None:
    assert Engine().match_text("هدنة") == []
    assert Engine().rules == ()


def test_match_is_thread_safe(tmp_path: Path) -> None:
    e = make(tmp_path, BASES, "id: t\nkeywords: [هدنة, تهدئة]\n")
    texts = ["سقوط صواريخ على قاعدة عين الاسد", "الهدنة صامدة", "لا شيء", "مباراة عين الأسد"]
    expected = [e.match_text(t) for t in texts]
    errors: list[str] = []

    def work() -> None:
        for _ in range(200):
            for t, exp in zip(texts, expected, strict=True):
                if e.match_text(t) != exp:
                    errors.append(t)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_explain_ignores_condition_and_scope(tmp_path: Path) -> None:
    e = make(tmp_path, BASES)
    got = e.explain("قصف مطار")
    assert list(got) == ["strike-on-bases"]
    assert [h.group for h in got["strike-on-bases"].hits] == ["attack"]


def test_a_term_listed_twice_hits_once(tmp_path: Path) -> None:
    e = make(tmp_path, "id: t\nkeywords: [هدنة, هدنة, الهدنة]\n")
    [m] = e.match_text("الهدنة")
    assert [(h.term, h.start, h.end) for h in m.hits] == [("الهدنة", 0, 6), ("هدنة", 0, 6)]
