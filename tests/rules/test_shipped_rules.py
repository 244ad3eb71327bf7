"""Every shipped rule compiles, carries examples, and every example holds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from monitor.matching import Engine, compile_rules
from monitor.matching.engine import CompiledRule
from monitor.matching.schema import ExampleSpec
from monitor.matching.tools import rules_check, rules_test

RULES = Path(__file__).resolve().parents[2] / "rules"
# The sample demo feeds rely on these ids.
REQUIRED = {"iraq-truce", "strike-on-bases", "armed-factions", "unsc", "coalition-withdrawal"}

_engine, _problems = compile_rules(RULES)


def _cases() -> list[tuple[CompiledRule, ExampleSpec, bool]]:
    return [
        (rule, ex, expected)
        for rule in _engine.compiled_rules
        for expected, examples in ((True, rule.examples_match), (False, rule.examples_no_match))
        for ex in examples
    ]


def test_shipped_rules_have_no_problems() -> None:
    assert [str(p) for p in _problems] == []


def test_required_rule_ids_are_shipped() -> None:
    assert {r.id for r in _engine.rules} >= REQUIRED


@pytest.mark.parametrize("rule", _engine.compiled_rules, ids=lambda r: r.info.id)
def test_every_rule_has_examples_both_ways(rule: CompiledRule) -> None:
    assert rule.examples_match, "a rule needs examples that it matches"
    assert rule.examples_no_match, "a rule needs examples that it must not match"


@pytest.mark.parametrize(
    ("rule", "example", "expected"),
    _cases(),
    ids=[f"{r.info.id}:{ex.line}:{'match' if e else 'no_match'}" for r, ex, e in _cases()],
)
def test_example(rule: CompiledRule, example: ExampleSpec, expected: bool) -> None:
    source = example.source or min(rule.source_ids, default="")
    tags = example.tags or tuple(sorted(rule.source_tags))
    matched = [
        m.rule_id
        for m in _engine.match_text(example.text, title=example.title, source_id=source, tags=tags)
    ]
    assert (rule.info.id in matched) is expected, _engine.explain(example.text, title=example.title)


def test_rules_check_and_rules_test_commands_pass() -> None:
    out = io.StringIO()
    assert rules_check(RULES, out) == 0, out.getvalue()
    out = io.StringIO()
    assert rules_test(RULES, out) == 0, out.getvalue()
    assert "note:" not in out.getvalue()


def test_engine_type() -> None:
    assert isinstance(_engine, Engine)
