"""Hit and RuleMatch build fast (plain slotted dataclasses, immutable by contract) and keep the
value semantics of the frozen dataclasses they were: fields, equality, hashing, replace,
codecs, pickling."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from monitor.model import Hit, Level, RuleMatch

HIT = Hit("text", 3, 9, "هدنة", "keywords", None)
MATCH = RuleMatch("iraq-truce", "هدنة", Level.HIGH, (HIT,), ("desk",), ("iraq",))


def test_fields_and_defaults_are_unchanged() -> None:
    assert [f.name for f in dataclasses.fields(Hit)] == [
        "field",
        "start",
        "end",
        "term",
        "group",
        "entity",
    ]
    assert [f.name for f in dataclasses.fields(RuleMatch)] == [
        "rule_id",
        "title",
        "level",
        "hits",
        "routes",
        "tags",
    ]
    assert Hit("title", 0, 1, "x") == Hit("title", 0, 1, "x", "keywords", None)
    assert RuleMatch("r", "t", Level.LOW) == RuleMatch("r", "t", Level.LOW, (), (), ())
    assert not hasattr(HIT, "__dict__") and not hasattr(MATCH, "__dict__")  # slotted


@pytest.mark.parametrize(
    ("value", "other"),
    [(HIT, dataclasses.replace(HIT, start=4)), (MATCH, dataclasses.replace(MATCH, title="x"))],
)
def test_equality_and_hash_are_those_of_a_frozen_dataclass(
    value: Hit | RuleMatch, other: Hit | RuleMatch
) -> None:
    fields = tuple(getattr(value, f.name) for f in dataclasses.fields(value))
    assert hash(value) == hash(fields)  # the frozen dataclass's formula
    twin = type(value)(*fields)
    assert twin == value and twin is not value and hash(twin) == hash(value)
    assert len({value, twin}) == 1
    assert value != other and value != fields
    assert repr(value).startswith(type(value).__name__ + "(")


def test_replace_codecs_and_pickle() -> None:
    changed = dataclasses.replace(MATCH, tags=("x",))
    assert changed.tags == ("x",) and MATCH.tags == ("iraq",)
    assert RuleMatch.from_dict(MATCH.to_dict()) == MATCH
    assert Hit.from_dict(HIT.to_dict()) == HIT
    assert pickle.loads(pickle.dumps(MATCH)) == MATCH
    assert dataclasses.asdict(MATCH)["hits"][0]["term"] == "هدنة"


def test_a_rule_match_subclass_compares_by_fields() -> None:
    class Sub(RuleMatch):
        __slots__ = ()

    sub = Sub(*(getattr(MATCH, f.name) for f in dataclasses.fields(MATCH)))
    assert sub == MATCH and MATCH.__eq__(sub) is True and hash(sub) == hash(MATCH)
    assert dataclasses.replace(sub, level=Level.LOW) != MATCH
