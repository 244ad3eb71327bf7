"""The `condition:` of a rule: named term groups combined with and / or / not / parentheses and
`N of group` (also `any of group`, `all of group`).

    expr := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;  not := "not" not | atom
    atom := "(" expr ")" | NUMBER "of" NAME | ("any" | "all") "of" NAME | NAME

A group counts as present when at least one of its terms hit; `N of g` needs N different terms
of g (an entity counts as one term, whichever of its names hit). Evaluation gets, for each
group index, how many different terms of it hit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Condition", "ConditionError", "parse_condition"]

_TOKEN = re.compile(r"[()]|[^\s()]+")
_KEYWORDS = frozenset(["and", "or", "not", "of", "any", "all"])


class ConditionError(ValueError):
    """The condition does not parse or names an unknown group; `column` is 1-based."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


class Condition:
    """A parsed condition; `evaluate(counts)` with counts[i] = distinct terms hit in group i."""

    def evaluate(self, counts: Sequence[int]) -> bool:
        raise NotImplementedError

    def groups(self) -> set[int]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Group(Condition):
    index: int
    at_least: int = 1

    def evaluate(self, counts: Sequence[int]) -> bool:
        return counts[self.index] >= self.at_least

    def groups(self) -> set[int]:
        return {self.index}


@dataclass(frozen=True, slots=True)
class _Not(Condition):
    arg: Condition

    def evaluate(self, counts: Sequence[int]) -> bool:
        return not self.arg.evaluate(counts)

    def groups(self) -> set[int]:
        return self.arg.groups()


@dataclass(frozen=True, slots=True)
class _And(Condition):
    args: tuple[Condition, ...]

    def evaluate(self, counts: Sequence[int]) -> bool:
        return all(a.evaluate(counts) for a in self.args)

    def groups(self) -> set[int]:
        return set().union(*(a.groups() for a in self.args))


@dataclass(frozen=True, slots=True)
class _Or(Condition):
    args: tuple[Condition, ...]

    def evaluate(self, counts: Sequence[int]) -> bool:
        return any(a.evaluate(counts) for a in self.args)

    def groups(self) -> set[int]:
        return set().union(*(a.groups() for a in self.args))


class _Parser:
    def __init__(self, text: str, groups: Mapping[str, int], sizes: Sequence[int]) -> None:
        self.groups = groups
        self.sizes = sizes
        # (token, 1-based column)
        self.tokens = [(m.group(), m.start() + 1) for m in _TOKEN.finditer(text)]
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def column(self) -> int | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.i][0]
        self.i += 1
        return tok

    def fail(self, message: str) -> ConditionError:
        tok = self.peek()
        where = f"'{tok}'" if tok is not None else "end of condition"
        return ConditionError(f"{message} at {where}", self.column())

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError("condition is empty")
        cond = self.or_()
        if self.peek() is not None:
            raise self.fail("expected 'and', 'or' or the end")
        return cond

    def or_(self) -> Condition:
        args = [self.and_()]
        while self.peek() == "or":
            self.take()
            args.append(self.and_())
        return args[0] if len(args) == 1 else _Or(tuple(args))

    def and_(self) -> Condition:
        args = [self.not_()]
        while self.peek() == "and":
            self.take()
            args.append(self.not_())
        return args[0] if len(args) == 1 else _And(tuple(args))

    def not_(self) -> Condition:
        if self.peek() == "not":
            self.take()
            return _Not(self.not_())
        return self.atom()

    def group(self) -> int:
        tok = self.peek()
        if tok is None or tok in _KEYWORDS or tok in "()":
            raise self.fail("expected a group name")
        if tok not in self.groups:
            known = ", ".join(self.groups) or "none"
            raise ConditionError(f"unknown group '{tok}' (groups: {known})", self.column())
        self.take()
        return self.groups[tok]

    def atom(self) -> Condition:
        tok = self.peek()
        if tok == "(":
            self.take()
            cond = self.or_()
            if self.peek() != ")":
                raise self.fail("expected ')'")
            self.take()
            return cond
        if tok is not None and (tok.isdigit() or tok in ("any", "all")):
            self.take()
            if self.peek() != "of":
                raise self.fail(f"expected 'of' after '{tok}'")
            self.take()
            index = self.group()
            if tok == "any":
                return _Group(index, 1)
            if tok == "all":
                return _Group(index, self.sizes[index])
            n = int(tok)
            if n < 1 or n > self.sizes[index]:
                raise ConditionError(
                    f"'{n} of' needs between 1 and {self.sizes[index]} (the group's terms)"
                )
            return _Group(index, n)
        return _Group(self.group())


def parse_condition(text: str, groups: Mapping[str, int], sizes: Sequence[int]) -> Condition:
    """Parse `text` against the rule's groups (name -> index, and each group's term count).

    Raises ConditionError; a condition that holds when no group hit is rejected too (the
    engine evaluates a rule only after one of its terms hit, so it would never fire)."""
    cond = _Parser(text, groups, sizes).parse()
    if cond.evaluate([0] * len(sizes)):
        raise ConditionError(
            "condition holds when nothing matched (only 'not' groups?); "
            "it needs a group that must be present"
        )
    return cond
