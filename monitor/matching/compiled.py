"""The compiled form of rules and terms, shared by the loader that builds it and the engine.

A CompiledRule is a rule ready to run (its groups, condition, scope and examples); a TermRef
says where a literal or regex term belongs (rule, group, unit) and in which fields it may hit,
as bits (TITLE, TEXT). The engine's modules (engine, automaton, hits) all read these; keeping
them here lets those modules import them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from monitor.matching.condition import Condition
from monitor.matching.specs import ExampleSpec, RuleInfo

__all__ = [
    "ANY_FIELD",
    "FIELD_BITS",
    "FIELD_NAME",
    "TEXT",
    "TITLE",
    "CompiledRule",
    "TermRef",
]

TITLE, TEXT = 1, 2  # field bits
FIELD_BITS = {"title": TITLE, "text": TEXT, "any": TITLE | TEXT}
FIELD_NAME = {TITLE: "title", TEXT: "text"}
ANY_FIELD = TITLE | TEXT


class TermRef(NamedTuple):
    """Where a literal or regex term belongs: which rule, group and term (unit)."""

    rule: int  # index into Engine._rules
    group: int  # index into the rule's groups
    unit: int  # the term's index in its group (all names of one entity share it)
    term: str  # the term as written, or the entity name that hit
    entity: str | None
    fields: int  # TITLE | TEXT bits where this term may hit


@dataclass(frozen=True)
class CompiledRule:
    info: RuleInfo
    groups: tuple[str, ...]
    condition: Condition | None  # None: any hit is a match
    source_ids: frozenset[str]
    source_tags: frozenset[str]
    examples_match: tuple[ExampleSpec, ...] = ()
    examples_no_match: tuple[ExampleSpec, ...] = ()

    def in_scope(self, source_id: str, tags: Iterable[str]) -> bool:
        if not self.source_ids and not self.source_tags:
            return True
        return source_id in self.source_ids or not self.source_tags.isdisjoint(tags)
