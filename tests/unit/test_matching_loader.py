"""Loading rule and entity files: every problem at once, each with file:line; broken rules are
skipped and the others run."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from monitor.matching import Problem, compile_rules, rules_fingerprint


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, rule: str, entities: str | None = None) -> list[str]:
    if entities is not None:
        write(tmp_path / "entities" / "e.yaml", entities)
    write(tmp_path / "r.yaml", rule)
    _, problems = compile_rules(tmp_path)
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in problems]


ENT = """
- id: ain-al-asad
  kind: place
  names: [عين الأسد]
"""

# (rule file, expected "file:line: message" fragments, each must appear in one problem)
BAD = [
    ("id: a\nkeywords: [هدنة\n", ["r.yaml:3: YAML syntax"]),
    (
        "id: a\nkeywords: [هدنة]\nlevle: high\n",
        ["r.yaml:3: rule: unknown key 'levle' (did you mean 'level'?)"],
    ),
    ("id: a\nkeywords: [هدنة]\nlevel: urgent\n", ["r.yaml:3: 'level' 'urgent' is not one of"]),
    ("keywords: [هدنة]\n", ["r.yaml:1: rule has no 'id'"]),
    ("id: a b\nkeywords: [هدنة]\n", ["r.yaml:1: 'id' 'a b'"]),
    ("id: a\n", ["r.yaml:1: rule 'a' has neither 'keywords' nor 'match'"]),
    ("id: a\nkeywords: []\n", ["r.yaml:2: keywords is empty"]),
    ("id: a\nkeywords: [هدنة]\nid: b\n", ["r.yaml:3: rule: duplicate key 'id'"]),
    (
        "id: a\nkeywords:\n  - هدنة\n  - {term: x, exact: maybe}\n",
        ["r.yaml:4: keywords[1]: 'exact' must be true or false"],
    ),
    (
        "id: a\nkeywords:\n  - {term: x, exact: true, substring: true}\n",
        ["r.yaml:3: keywords[0]: 'exact' and 'substring' exclude each other"],
    ),
    (
        "id: a\nkeywords:\n  - {term: x, regex: y}\n",
        ["r.yaml:3: keywords[0]: give exactly one of 'term' or 'regex'"],
    ),
    (
        "id: a\nkeywords:\n  - {term: x, field: body}\n",
        ["r.yaml:3: keywords[0]: 'field' must be title, text or any"],
    ),
    ("id: a\nkeywords: ['ـــ']\n", ["r.yaml:2: rule 'a': term 'ـــ' is empty after normalization"]),
    (
        "id: a\nkeywords: ['@ain-al-asd']\n",
        ["r.yaml:2: rule 'a': unknown entity '@ain-al-asd' (did you mean 'ain-al-asad'?)"],
    ),
    (
        "id: a\nkeywords:\n  - هدنة\n  - {regex: '(\\w+) \\1'}\n",
        ["r.yaml:4: rule 'a': regex rejected by the linear-time engine (RE2)"],
    ),
    ("id: a\nkeywords:\n  - {regex: '(?=x)y'}\n", ["r.yaml:3: rule 'a': regex rejected"]),
    ("id: a\nkeywords:\n  - {regex: '\\pL{20}'}\n", ["r.yaml:3: rule 'a': regex is too complex"]),
    (
        "id: a\nkeywords:\n  - {regex: 'x*'}\n",
        ["r.yaml:3: rule 'a': regex can match an empty text"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\n  y: [قصف]\n",
        ["r.yaml:1: rule 'a': several term groups need a 'condition'"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\ncondition: x and y\n",
        ["r.yaml:4: rule 'a': condition: unknown group 'y' (groups: x) (column 7)"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\ncondition: x and\n",
        ["r.yaml:4: rule 'a': condition: expected a group name at end of condition"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\ncondition: (x\n",
        ["r.yaml:4: rule 'a': condition: expected ')'"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\n  y: [قصف]\ncondition: not y\n",
        ["r.yaml:5: rule 'a': condition: condition holds when nothing matched"],
    ),
    (
        "id: a\nmatch:\n  x: [هدنة]\n  y: [قصف]\ncondition: x\n",
        ["r.yaml:5: rule 'a': condition does not use the group(s) 'y'"],
    ),
    ("id: a\nmatch:\n  x: [هدنة, قصف]\ncondition: 3 of x\n", ["'3 of' needs between 1 and 2"]),
    ("id: a\nmatch:\n  and: [هدنة]\ncondition: and\n", ["r.yaml:3: group name 'and'"]),
    (
        "id: a\nfields: title\nkeywords: [{term: x, field: text}]\n",
        ["r.yaml:3: rule 'a': term 'x' is limited to the text, outside the rule's fields (title)"],
    ),
    ("id: a\nkeywords: [x]\nsources:\n  - 'tag:'\n", ["r.yaml:4: 'sources': 'tag:' needs a tag"]),
    ("id: a\nkeywords: [x]\nexamples: {match: x}\n", ["r.yaml:3: examples.match must be a list"]),
    ("id: a\nkeywords: [x]\nexamples: {matches: [x]}\n", ["unknown key 'matches'"]),
    (
        "- id: a\n  keywords: [x]\n- id: a\n  keywords: [y]\n",
        ["r.yaml:3: duplicate rule id 'a' (first at"],
    ),
    ("42\n", ["r.yaml:1: rule must be a mapping"]),
]


@pytest.mark.parametrize(("rule", "expected"), BAD)
def test_problems_have_file_and_line(tmp_path: Path, rule: str, expected: list[str]) -> None:
    got = problems_of(tmp_path, rule, ENT)
    for fragment in expected:
        assert any(fragment in p for p in got), (fragment, got)


def test_every_problem_at_once_and_the_good_rules_still_run(tmp_path: Path) -> None:
    write(tmp_path / "entities" / "e.yaml", ENT)
    write(tmp_path / "a.yaml", "id: good\nkeywords: [هدنة]\n")
    write(
        tmp_path / "b.yaml",
        """
        - id: bad1
          keywords: ['@nope']
        - id: good2
          keywords: [قصف]
        - id: bad2
          keywords: [x]
          level: nope
          colour: red
    """,
    )
    write(tmp_path / "sub" / "c.yml", "id: broken\nkeywords: [\n")
    engine, problems = compile_rules(tmp_path)
    assert [str(p).replace(str(tmp_path) + os.sep, "") for p in problems] == [
        "b.yaml:2: rule 'bad1': unknown entity '@nope'",
        "b.yaml:7: 'level' 'nope' is not one of info | low | medium | high | critical",
        "b.yaml:8: rule: unknown key 'colour'",
        "sub/c.yml:3: YAML syntax: while parsing a flow node did not find expected node content",
    ]
    assert [r.id for r in engine.rules] == ["good", "good2"]
    assert [m.rule_id for m in engine.match_text("الهدنة والقصف")] == ["good", "good2"]


def test_problem_str() -> None:
    assert str(Problem("rules/a.yaml", 3, "bad")) == "rules/a.yaml:3: bad"


def test_entity_problems(tmp_path: Path) -> None:
    got = problems_of(
        tmp_path,
        "id: a\nkeywords: ['@x']\n",
        """
        - id: x
          kind: place
          names: [ok, 'ـ']
        - id: x
          names: [y]
        - id: z
          kind: place
          colour: red
          names: [z]
        - kind: place
          names: [w]
        """,
    )
    assert got == [
        "e.yaml:3: entity 'x': term 'ـ' is empty after normalization",
        "e.yaml:4: duplicate entity id 'x' (first at " + got[1].split("(first at ")[1],
        "e.yaml:8: entity: unknown key 'colour'",
        "e.yaml:10: entity has no 'id'",
        "r.yaml:2: rule 'a': entity '@x' has problems (see " + got[4].split("(see ")[1],
    ]


def test_rule_file_forms(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", "id: one\nkeywords: [a]\n")
    write(tmp_path / "list.yaml", "- id: l1\n  keywords: [b]\n- id: l2\n  keywords: [c]\n")
    write(tmp_path / "docs.yaml", "id: d1\nkeywords: [d]\n---\nid: d2\nkeywords: [e]\n")
    write(tmp_path / "off.yaml", "id: off\nkeywords: [f]\nenabled: false\n")
    write(tmp_path / ".hidden" / "h.yaml", "id: hidden\nkeywords: [g]\n")
    write(tmp_path / "notes.txt", "not a rule")
    engine, problems = compile_rules(tmp_path)
    assert problems == []
    assert sorted(r.id for r in engine.rules) == ["d1", "d2", "l1", "l2", "one"]
    assert engine.match_text("f") == []


def test_single_file_finds_entities_above(tmp_path: Path) -> None:
    write(tmp_path / "entities" / "e.yaml", ENT)
    rule = write(tmp_path / "iraq" / "r.yaml", "id: a\nkeywords: ['@ain-al-asad']\n")
    engine, problems = compile_rules(rule)
    assert problems == []
    assert [m.rule_id for m in engine.match_text("قاعدة عين الأسد")] == ["a"]


def test_missing_path(tmp_path: Path) -> None:
    engine, problems = compile_rules(tmp_path / "nope")
    assert engine.rules == ()
    assert [p.message for p in problems] == ["no such file or directory"]


def test_fingerprint_changes_on_edit_add_remove(tmp_path: Path) -> None:
    f = write(tmp_path / "a.yaml", "id: a\nkeywords: [x]\n")
    write(tmp_path / "entities" / "e.yaml", ENT)
    first = rules_fingerprint(tmp_path)
    assert rules_fingerprint(tmp_path) == first
    f.write_text("id: a\nkeywords: [xy]\n", encoding="utf-8")
    second = rules_fingerprint(tmp_path)
    assert second != first
    write(tmp_path / "b.yml", "id: b\nkeywords: [y]\n")
    third = rules_fingerprint(tmp_path)
    assert third != second
    (tmp_path / "b.yml").unlink()
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert rules_fingerprint(tmp_path) not in (first, second, third)
    assert rules_fingerprint(tmp_path / "missing")  # a string, no exception


def test_compile_restores_the_cyclic_gc_state(tmp_path: Path) -> None:
    import gc

    write(tmp_path / "a.yaml", "id: a\nkeywords: [x]\n")
    assert gc.isenabled()
    compile_rules(tmp_path)
    assert gc.isenabled()
    gc.disable()
    try:
        compile_rules(tmp_path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_terms_are_text_whatever_yaml_would_make_of_them(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "id: a\nkeywords: [no, yes, 2254, null, 1.5]\n")
    engine, problems = compile_rules(tmp_path)
    assert problems == []
    [m] = engine.match_text("no yes 2254 null 1.5")
    assert [h.term for h in m.hits] == ["no", "yes", "2254", "null", "1.5"]


def test_an_empty_list_item_is_an_empty_term(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "id: a\nkeywords:\n  - هدنة\n  -\n") == [
        "r.yaml:4: keywords[1]: empty term"
    ]
