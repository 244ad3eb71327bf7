"""The hits of a match, built only when first read.

`Engine.match` decides which rules match from the accepted automaton and regex hits alone; a
MatchCall keeps those hits and the normalized texts, and a LazyRuleMatch turns them into Hits
(grouped by rule, sorted, offsets mapped back to the original text) the first time its `hits`
is read. Many matches are never rendered, so that work is often never done. Separate from the
engine because none of it runs while deciding what matches.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from monitor.matching.compiled import FIELD_NAME, CompiledRule, TermRef
from monitor.model import Hit, RuleMatch
from monitor.text.normalize import Normalized

__all__ = ["Accepted", "LazyRuleMatch", "MatchCall", "eager_rule_match"]

Accepted = list[tuple[tuple[TermRef, ...], int, int, int]]  # (refs, field, start, end)
_Raw = tuple[TermRef, int, int, int]  # (ref, field, start, end) in the normalized text
_Found = dict[int, list[_Raw]]  # rule -> its accepted hits


class _Spans:
    """Normalized offsets back to the original text, for the hits of one call: the plain
    shift tables of each field when its normalization only removed characters (see
    `Normalized.shift_tables`), `to_original` otherwise."""

    __slots__ = ("norms", "tables")

    def __init__(self) -> None:
        self.norms: dict[int, Normalized] = {}
        self.tables: dict[int, list[tuple[list[int], list[int]]] | None] = {}

    def get(self, bit: int, s: int, e: int) -> tuple[int, int]:
        if bit in self.tables:
            tables = self.tables[bit]
        else:
            tables = self.tables[bit] = self.norms[bit].shift_tables()
        if tables is None:
            return self.norms[bit].to_original(s, e)
        for breaks, shifts in tables:
            s += shifts[bisect_right(breaks, s)]
            e += shifts[bisect_right(breaks, e)]
        return s, e


class MatchCall:
    """What one `match` found: the accepted hits, the normalized texts; grouped by rule and
    turned into Hits only when asked."""

    __slots__ = ("_built", "_found", "accepted", "matched", "rules", "spans")

    def __init__(self, rules: tuple[CompiledRule, ...]) -> None:
        self.rules = rules
        self.accepted: Accepted = []
        self.spans = _Spans()
        self.matched: list[int] = []  # the rules that matched, by index
        self._found: _Found | None = None
        self._built: dict[int, tuple[Hit, ...]] | None = None

    def found(self) -> _Found:
        """The accepted hits by rule, each hit with the one term it stands for."""
        found = self._found
        if found is None:
            found = {}
            for refs, bit, s, e in self.accepted:
                for ref in refs:
                    if ref[5] & bit:  # the term may hit in this field
                        hits = found.get(ref[0])
                        if hits is None:
                            found[ref[0]] = [(ref, bit, s, e)]
                        else:
                            hits.append((ref, bit, s, e))
            self._found = found
        return found

    def hits(self, index: int) -> tuple[Hit, ...]:
        """The hits of the matched rule `index`. The first call builds those of every matched
        rule (an alert reads them all), in one pass; the call holds no match (no cycle)."""
        built = self._built
        if built is None:
            built = self._built = self._build()
        return built[index]

    def _build(self) -> dict[int, tuple[Hit, ...]]:
        found = self.found()
        rules = self.rules
        spans = self.spans
        for bit in spans.norms:
            spans.get(bit, 0, 0)  # the field's tables, once
        tables = spans.tables
        built: dict[int, tuple[Hit, ...]] = {}
        for index in self.matched:
            raw = found[index]
            if len(raw) == 1:  # the common case, inline
                ref, bit, s, e = raw[0]
                shifts = tables[bit]
                if shifts is None:
                    s, e = spans.norms[bit].to_original(s, e)
                else:
                    for breaks, by in shifts:
                        s += by[bisect_right(breaks, s)]
                        e += by[bisect_right(breaks, e)]
                group = rules[index].groups[ref.group]
                built[index] = (Hit(FIELD_NAME[bit], s, e, ref.term, group, ref.entity),)
            else:
                built[index] = _hits(rules[index], raw, spans)
        return built


_HITS: Any = RuleMatch.__dict__["hits"]  # the slot that holds a RuleMatch's hits


class LazyRuleMatch(RuleMatch):
    """A RuleMatch from `Engine.match` whose hits are built from the call's accepted hits when
    first read, then kept. Equal to, hashed, printed and serialized as the plain RuleMatch;
    pickles and copies are plain RuleMatches; safe to read from several threads (each would
    build the same tuple)."""

    __slots__ = ("_call", "_index")

    _call: MatchCall | None
    _index: int

    @property
    def hits(self) -> tuple[Hit, ...]:
        call = self._call
        if call is None:  # built (by this thread or another), or given
            return _HITS.__get__(self, RuleMatch)  # type: ignore[no-any-return]
        hits = call.hits(self._index)
        _HITS.__set__(self, hits)
        self._call = None  # after the hits are set; the call's texts and hits may go
        return hits

    @hits.setter
    def hits(self, value: tuple[Hit, ...]) -> None:
        _HITS.__set__(self, value)
        self._call = None

    def _fields(self) -> tuple[Any, ...]:
        return (self.rule_id, self.title, self.level, self.hits, self.routes, self.tags)

    def __repr__(self) -> str:
        return repr(RuleMatch(*self._fields()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (RuleMatch, self._fields())  # pickles and copies are plain RuleMatches


def eager_rule_match(rule: CompiledRule, raw: list[_Raw], spans: _Spans) -> RuleMatch:
    """A plain RuleMatch of `rule` with its hits built now (for `Engine.explain`)."""
    info = rule.info
    return RuleMatch(
        info.id, info.title, info.level, _hits(rule, raw, spans), info.routes, info.tags
    )


def _hits(rule: CompiledRule, raw: list[_Raw], spans: _Spans) -> tuple[Hit, ...]:
    """The Hits of `rule` from its accepted hits: sorted by field, start, end, group and term;
    a hit found twice (a term listed twice in a group, a key of two checks) kept once."""
    groups = rule.groups
    if len(raw) == 1:
        ref, bit, s, e = raw[0]
        a, b = spans.get(bit, s, e)
        return (Hit(FIELD_NAME[bit], a, b, ref.term, groups[ref.group], ref.entity),)
    hits: list[Hit] = []
    seen: set[tuple[Any, ...]] = set()
    # (a tie, the same term twice in a group, is broken by the term's index in the group)
    for bit, s, e, group, term, ref in sorted(
        [(r[1], r[2], r[3], r[0].group, r[0].term, r[0]) for r in raw]
    ):
        a, b = spans.get(bit, s, e)
        key = (bit, a, b, group, term, ref.entity)
        if key not in seen:
            seen.add(key)
            hits.append(Hit(FIELD_NAME[bit], a, b, term, groups[group], ref.entity))
    return tuple(hits)
