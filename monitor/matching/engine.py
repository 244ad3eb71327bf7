"""The matching engine: one Aho-Corasick automaton over every literal term of every rule.

An item's title and text are normalized (monitor.text.normalize) and scanned once each. Every
automaton hit is checked against the letters around it (monitor.matching.terms: proclitics,
suffixes, whole words); the rules with a hit that passed evaluate their condition, the others
cost nothing. A RuleMatch from `match` builds its hits (grouping, sorting, mapping offsets back
to the original text) only when they are first read: deciding which rules match does not need
them, and many matches are never rendered.

An Engine never changes after construction: the daemon builds a new one off the event loop
when rules change and swaps the reference; `match` is pure and safe to call from any thread.

This module holds the Engine and its scan: the hot loop and the left and right checks of each
automaton hit, kept together because the loop inlines their common cases. The compiled rule
and term types are in monitor.matching.compiled (CompiledRule, TermRef and the field bits are
re-exported here), building the automaton in monitor.matching.automaton, and turning accepted
hits into Hits in monitor.matching.hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import re2

from monitor.matching.automaton import ScanCheck, build_automaton
from monitor.matching.compiled import (
    ANY_FIELD,
    FIELD_BITS,
    TEXT,
    TITLE,
    CompiledRule,
    TermRef,
)
from monitor.matching.condition import Condition
from monitor.matching.hits import Accepted, LazyRuleMatch, MatchCall, eager_rule_match
from monitor.matching.regex import regex_options
from monitor.matching.specs import RuleInfo
from monitor.matching.terms import (
    ART_L_PREFIXES,
    ART_ONLY_PREFIXES,
    ART_PREFIXES,
    L_ART,
    L_PRO,
    L_WORD,
    MAX_PREFIX,
    MAX_SUFFIX,
    PRO_PREFIXES,
    R_AFFIX,
    R_WORD,
    Check,
)
from monitor.model import Item, Level, RuleMatch
from monitor.text.normalize import normalize

__all__ = ["FIELD_BITS", "TEXT", "TITLE", "CompiledRule", "Engine", "TermRef"]


@dataclass(frozen=True)
class _Regex:
    rx: Any
    substring: bool
    refs: tuple[TermRef, ...]


class Engine:
    """Compiled rules. Build with `compile_rules`; then `match` items."""

    __slots__ = ("_ac", "_heads", "_regex_set", "_regexes", "_rules", "rules", "term_count")

    rules: tuple[RuleInfo, ...]
    term_count: int  # distinct automaton keys and regexes
    _rules: tuple[CompiledRule, ...]
    _heads: tuple[_Head, ...]  # by rule: what `match` needs of it, at hand
    _ac: Any
    _regexes: tuple[_Regex, ...]
    _regex_set: Any

    def __init__(
        self,
        rules: Sequence[CompiledRule] = (),
        literals: Iterable[tuple[str, Check, TermRef]] = (),
        regexes: Iterable[tuple[str, Any, bool, TermRef]] = (),
    ) -> None:
        limited: set[int] = set()  # rules with a term limited to the title or the text
        ac, keys = build_automaton(literals, limited)
        by_pattern: dict[tuple[str, bool], tuple[Any, list[TermRef]]] = {}
        for pattern, rx, substring, ref in regexes:
            by_pattern.setdefault((pattern, substring), (rx, []))[1].append(ref)
            if ref.fields != ANY_FIELD:
                limited.add(ref.rule)
        compiled = tuple(
            _Regex(rx, sub, tuple(refs)) for (_, sub), (rx, refs) in by_pattern.items()
        )
        regex_set: Any = None
        if len(compiled) > 1:
            regex_set = re2.Set.SearchSet(regex_options())
            for pattern, _sub in by_pattern:
                regex_set.Add(pattern)
            regex_set.Compile()
        _set = object.__setattr__
        _set(self, "_rules", tuple(rules))
        _set(self, "rules", tuple(r.info for r in rules))
        _set(
            self,
            "_heads",
            tuple(
                _Head(
                    bool(r.source_ids or r.source_tags),
                    i in limited,
                    r.condition,
                    r.info.id,
                    r.info.title,
                    r.info.level,
                    r.info.routes,
                    r.info.tags,
                )
                for i, r in enumerate(rules)
            ),
        )
        _set(self, "_ac", ac)
        _set(self, "_regexes", compiled)
        _set(self, "_regex_set", regex_set)
        _set(self, "term_count", keys + len(compiled))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("an Engine is immutable; compile a new one")

    def __repr__(self) -> str:
        return f"<Engine rules={len(self.rules)} keys={self.term_count}>"

    # ------------------------------------------------------------------ public

    def match(self, item: Item) -> list[RuleMatch]:
        """The rules whose condition holds for `item` (title and text), in rule order.

        Each RuleMatch builds its `hits` when they are first read (see LazyRuleMatch); it is
        equal to, and behaves as, the RuleMatch with those hits."""
        return self._match(item.title, item.text, item.source_id, item.tags)

    def match_text(
        self, text: str, *, title: str = "", source_id: str = "", tags: tuple[str, ...] = ()
    ) -> list[RuleMatch]:
        return self._match(title, text, source_id, tags)

    def explain(self, text: str, *, title: str = "") -> dict[str, RuleMatch]:
        """Every rule with at least one hit, whatever its condition and scope say: for
        `rules test` and debugging ("which groups of my rule hit?")."""
        call = self._collect(title, text)
        found = call.found()
        return {
            self._rules[i].info.id: eager_rule_match(self._rules[i], found[i], call.spans)
            for i in sorted(found)
        }

    @property
    def compiled_rules(self) -> tuple[CompiledRule, ...]:
        """The rules with their groups, condition and examples (for the tools)."""
        return self._rules

    # ------------------------------------------------------------------ internals

    def _collect(self, title: str, text: str) -> MatchCall:
        call = MatchCall(self._rules)
        for bit, value in ((TITLE, title), (TEXT, text)):
            if value:
                norm = normalize(value)
                call.spans.norms[bit] = norm
                self._scan(norm.text, bit, call.accepted)
        return call

    def _match(self, title: str, text: str, source_id: str, tags: Sequence[str]) -> list[RuleMatch]:
        call = self._collect(title, text)
        accepted = call.accepted
        if not accepted:
            return []
        out: list[RuleMatch] = []
        matched = call.matched
        heads = self._heads
        # the rules behind the accepted hits, whatever field each term is limited to (those
        # rules are checked below): refs[i][0] is the rule of a term
        hit_rules = set(map(_first, chain.from_iterable(map(_first, accepted))))
        for index in sorted(hit_rules):
            scoped, limited, condition, rule_id, title_, level, routes, rule_tags = heads[index]
            if scoped and not self._rules[index].in_scope(source_id, tags):
                continue
            if limited and index not in call.found():
                continue  # its hits were in a field where its terms do not count
            if condition is not None:
                units: list[set[int]] = [set() for _ in self._rules[index].groups]
                for ref, _bit, _s, _e in call.found()[index]:
                    units[ref.group].add(ref.unit)
                if not condition.evaluate([len(u) for u in units]):
                    continue
            match: Any = _new_lazy(LazyRuleMatch)  # (Any: its fields are set here, once)
            match.rule_id = rule_id
            match.title = title_
            match.level = level
            match.routes = routes
            match.tags = rule_tags
            match._call = call
            match._index = index
            out.append(match)
            matched.append(index)
        return out

    def _scan(self, t: str, bit: int, accepted: Accepted) -> None:
        """Every accepted hit in the normalized text `t`, appended to `accepted` with the terms
        behind it (not yet filtered by field).

        The hot loop of the engine, one pass per automaton hit. The common case is decided by
        one string comparison on each side: the usual left context of the key (a space, or a
        space and the article, or nothing for a substring) and a space on the right. The
        other cases go to `_left` and `_right`."""
        ac = self._ac
        if ac is not None:
            n = len(t)
            add = accepted.append
            for end, checks in ac.iter(t):
                e = end + 1
                after = t[e] if e < n else " "
                for klen, usual, before, back, bare, scan, refs in checks:
                    s = e - klen
                    if t[s - before : s] == usual:
                        ws = s - back
                        article = False
                    else:
                        word = _left(t, s, scan[0], scan[1])
                        if word is None:
                            continue
                        ws, article = word
                    if after == " ":
                        if not bare:
                            continue
                        we = e
                    else:
                        we = _right(t, e, after, scan, article)
                        if we < 0:
                            continue
                    add((refs, bit, ws, we))
        if self._regexes:
            self._scan_regexes(t, bit, accepted)

    def _scan_regexes(self, t: str, bit: int, accepted: Accepted) -> None:
        if self._regex_set is not None:
            indexes = self._regex_set.Match(t)
            if not indexes:
                return
            candidates = [self._regexes[i] for i in indexes]
        else:
            candidates = list(self._regexes)
        n = len(t)
        for regex in candidates:
            for m in regex.rx.finditer(t):
                s, e = m.span()
                if s == e:
                    continue
                if not regex.substring and (
                    (s and _joined(t[s - 1], t[s])) or (e < n and _joined(t[e - 1], t[e]))
                ):
                    continue
                accepted.append((regex.refs, bit, s, e))


class _Head(NamedTuple):
    scoped: bool  # limited to some sources
    limited: bool  # a term of it counts in one field only
    condition: Condition | None
    rule_id: str
    title: str
    level: Level
    routes: tuple[str, ...]
    tags: tuple[str, ...]


_first = itemgetter(0)
_new_lazy = object.__new__  # a LazyRuleMatch without __init__: `_match` sets its fields
_REACH = MAX_PREFIX + 2  # a prefix and the space before it lie within this many characters


def _left(t: str, s: int, left: int, prefixes: dict[str, bool] | None) -> tuple[int, bool] | None:
    """The left check of a key starting at `s`: (where the word starts, whether its prefix
    holds the article), or None when the hit is refused. A proclitic key first tries the
    last space within reach: if what lies between it and the key is an accepted prefix (then
    it is all letters), the word starts there; else `_left_reference` decides."""
    if prefixes is not None:
        p = t.rfind(" ", s - _REACH if s > _REACH else 0, s) + 1
        if p:
            article = prefixes.get(t[p:s])
            if article is not None:
                return p, article
    return _left_reference(t, s, left)


def _left_reference(t: str, s: int, left: int) -> tuple[int, bool] | None:
    """The left check as rules/README.md says it (`_left` and the scan's usual case are
    shortcuts that a test compares with this)."""
    if left < L_PRO:
        if left == L_WORD and s and _joined(t[s - 1], t[s]):
            return None
        return s, False
    if s and t[s - 1].isalpha():
        j = s - 1
        while j and t[j - 1].isalpha() and s - j <= MAX_PREFIX:
            j -= 1
        prefix = t[j:s]
        if left == L_PRO:
            if prefix not in PRO_PREFIXES:
                return None
            return j, prefix in ART_PREFIXES
        if prefix not in (ART_ONLY_PREFIXES if left == L_ART else ART_L_PREFIXES):
            return None
        return j, False
    if left != L_PRO:
        return None  # the term's article is missing
    return s, False


def _right(t: str, e: int, after: str, scan: ScanCheck, article: bool) -> int:
    """The right check of a key ending at `e` (`after` = t[e], or a space at the end): where
    the word ends, or -1 when the hit is refused. (The scan's shortcut: a space after the key
    is decided by `bare`.)"""
    _, _, right, _, plain, pron, single = scan
    if right == R_AFFIX:
        if after.isalpha():
            n = len(t)
            j = e + 1
            while j < n and t[j].isalpha() and j - e <= MAX_SUFFIX:
                j += 1
            suffix = t[e:j]
            if suffix not in plain and (suffix not in pron or (single and article)):
                return -1
            return j
        return e if "" in plain else -1
    if right == R_WORD and e < len(t) and _joined(t[e - 1], after):
        return -1
    return e


def _joined(a: str, b: str) -> bool:
    """True when a and b belong to one token (both letters or both digits)."""
    return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())
