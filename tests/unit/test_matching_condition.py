"""The condition language: and / or / not / parentheses / N of / any of / all of."""

from __future__ import annotations

import pytest

from monitor.matching.condition import ConditionError, parse_condition

GROUPS = {"a": 0, "b": 1, "c": 2, "noise-x": 3}
SIZES = [1, 3, 2, 1]

# (condition, counts per group, expected)
TRUTH = [
    ("a", [1, 0, 0, 0], True),
    ("a", [0, 1, 0, 0], False),
    ("a and b", [1, 1, 0, 0], True),
    ("a and b", [1, 0, 0, 0], False),
    ("a or b", [0, 1, 0, 0], True),
    ("a and not b", [1, 0, 0, 0], True),
    ("a and not b", [1, 1, 0, 0], False),
    ("a and not noise-x", [1, 0, 0, 1], False),
    ("not not a", [1, 0, 0, 0], True),
    ("a or b and c", [1, 0, 0, 0], True),  # and binds tighter than or
    ("(a or b) and c", [1, 0, 0, 0], False),
    ("(a or b) and c", [0, 1, 1, 0], True),
    ("2 of b", [0, 1, 0, 0], False),
    ("2 of b", [0, 2, 0, 0], True),
    ("all of b", [0, 2, 0, 0], False),
    ("all of b", [0, 3, 0, 0], True),
    ("any of c", [0, 0, 1, 0], True),
    ("a and (2 of b or all of c) and not noise-x", [1, 0, 2, 0], True),
    ("a AND b".replace("AND", "and"), [1, 1, 0, 0], True),
]


@pytest.mark.parametrize(("text", "counts", "expected"), TRUTH)
def test_truth(text: str, counts: list[int], expected: bool) -> None:
    assert parse_condition(text, GROUPS, SIZES).evaluate(counts) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "condition is empty"),
        ("a and", "expected a group name at end of condition"),
        ("a b", "expected 'and', 'or' or the end at 'b'"),
        ("(a or b", "expected ')' at end of condition"),
        ("a)", "expected 'and', 'or' or the end at ')'"),
        ("x", "unknown group 'x' (groups: a, b, c, noise-x)"),
        ("2 b", "expected 'of' after '2' at 'b'"),
        ("4 of b", "'4 of' needs between 1 and 3"),
        ("0 of b", "'0 of' needs between 1 and 3"),
        ("not a", "condition holds when nothing matched"),
        ("a or not b", "condition holds when nothing matched"),
        ("and", "expected a group name at 'and'"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text, GROUPS, SIZES)
    assert message in str(info.value)


def test_error_column() -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition("a and   zz", GROUPS, SIZES)
    assert info.value.column == 9


def test_groups_used() -> None:
    assert parse_condition("a and not (b or 2 of b)", GROUPS, SIZES).groups() == {0, 1}
