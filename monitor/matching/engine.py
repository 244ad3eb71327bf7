"""The matching engine: one Aho-Corasick automaton over every literal term of every rule.

An item's title and text are normalized (monitor.text.normalize) and scanned once each. Every
automaton hit is checked against the letters around it (monitor.matching.terms: proclitics,
suffixes, whole words); the rules with a hit that passed evaluate their condition, the others
cost nothing. A RuleMatch from `match` builds its hits (grouping, sorting, mapping offsets back
to the original text) only when they are first read: deciding which rules match does not need
them, and many matches are never rendered.

An Engine never changes after construction: the daemon builds a new one off the event loop
when rules change and swaps the reference; `match` is pure and safe to call from any thread.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import ahocorasick
import re2

from monitor.matching.condition import Condition
from monitor.matching.regex import regex_options
from monitor.matching.schema import ExampleSpec, RuleInfo
from monitor.matching.terms import (
    ART_L_PREFIXES,
    ART_ONLY_PREFIXES,
    ART_PREFIXES,
    L_ART,
    L_ART_L,
    L_NONE,
    L_PRO,
    L_WORD,
    MAX_PREFIX,
    MAX_SUFFIX,
    PRO_PREFIXES,
    R_AFFIX,
    R_WORD,
    Check,
)
from monitor.model import Hit, Item, Level, RuleMatch
from monitor.text.normalize import Normalized, normalize

__all__ = ["FIELD_BITS", "TEXT", "TITLE", "CompiledRule", "Engine", "TermRef"]

TITLE, TEXT = 1, 2  # field bits
FIELD_BITS = {"title": TITLE, "text": TEXT, "any": TITLE | TEXT}
_FIELD_NAME = {TITLE: "title", TEXT: "text"}


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


@dataclass(frozen=True)
class _Regex:
    rx: Any
    substring: bool
    refs: tuple[TermRef, ...]


_Accepted = list[tuple[tuple[TermRef, ...], int, int, int]]  # (refs, field, start, end)
_Raw = tuple[TermRef, int, int, int]  # (ref, field, start, end) in the normalized text
_Found = dict[int, list[_Raw]]  # rule -> its accepted hits


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
        ac, keys = _automaton(literals, limited)
        by_pattern: dict[tuple[str, bool], tuple[Any, list[TermRef]]] = {}
        for pattern, rx, substring, ref in regexes:
            by_pattern.setdefault((pattern, substring), (rx, []))[1].append(ref)
            if ref.fields != _ANY_FIELD:
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

        Each RuleMatch builds its `hits` when they are first read (see _LazyRuleMatch); it is
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
            self._rules[i].info.id: _rule_match(self._rules[i], found[i], call.spans)
            for i in sorted(found)
        }

    @property
    def compiled_rules(self) -> tuple[CompiledRule, ...]:
        """The rules with their groups, condition and examples (for the tools)."""
        return self._rules

    # ------------------------------------------------------------------ internals

    def _collect(self, title: str, text: str) -> _Call:
        call = _Call(self._rules)
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
            match: Any = _new_lazy(_LazyRuleMatch)  # (Any: its fields are set here, once)
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

    def _scan(self, t: str, bit: int, accepted: _Accepted) -> None:
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

    def _scan_regexes(self, t: str, bit: int, accepted: _Accepted) -> None:
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
_ANY_FIELD = TITLE | TEXT


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


class _Call:
    """What one `match` found: the accepted hits, the normalized texts; grouped by rule and
    turned into Hits only when asked."""

    __slots__ = ("_built", "_found", "accepted", "matched", "rules", "spans")

    def __init__(self, rules: tuple[CompiledRule, ...]) -> None:
        self.rules = rules
        self.accepted: _Accepted = []
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
                built[index] = (Hit(_FIELD_NAME[bit], s, e, ref.term, group, ref.entity),)
            else:
                built[index] = _hits(rules[index], raw, spans)
        return built


_HITS: Any = RuleMatch.__dict__["hits"]  # the slot that holds a RuleMatch's hits


class _LazyRuleMatch(RuleMatch):
    """A RuleMatch from `Engine.match` whose hits are built from the call's accepted hits when
    first read, then kept. Equal to, hashed, printed and serialized as the plain RuleMatch;
    pickles and copies are plain RuleMatches; safe to read from several threads (each would
    build the same tuple)."""

    __slots__ = ("_call", "_index")

    _call: _Call | None
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


_new_lazy = object.__new__


def _rule_match(rule: CompiledRule, raw: list[_Raw], spans: _Spans) -> RuleMatch:
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
        return (Hit(_FIELD_NAME[bit], a, b, ref.term, groups[ref.group], ref.entity),)
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
            hits.append(Hit(_FIELD_NAME[bit], a, b, term, groups[group], ref.entity))
    return tuple(hits)


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


def _right(t: str, e: int, after: str, scan: _ScanCheck, article: bool) -> int:
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


# What the scan needs of a Check, interned: (left, prefixes, right, bare, plain, pron, single):
# `prefixes` (proclitic checks): every accepted prefix -> whether it holds the article;
# `bare`: the hit stands when a space follows it. A key's value holds, for each of its checks,
# (key length, usual, before, back, bare, scan check, terms): `usual`, the most common text
# right before such a key (a space, or a space and the article; nothing for a key that may
# start anywhere), `before` its length, `back` how much of it belongs to the word.
_ScanCheck = tuple[int, "dict[str, bool] | None", int, bool, frozenset[str], frozenset[str], bool]
_Value = tuple[tuple[int, str, int, int, bool, _ScanCheck, tuple[TermRef, ...]], ...]
_REACH = MAX_PREFIX + 2  # a prefix and the space before it lie within this many characters
_PREFIXES: dict[int, dict[str, bool]] = {
    L_PRO: {p: p in ART_PREFIXES for p in PRO_PREFIXES},
    L_ART: dict.fromkeys(ART_ONLY_PREFIXES, False),
    L_ART_L: dict.fromkeys(ART_L_PREFIXES, False),
}
_USUAL = {
    L_NONE: ("", 0),
    L_WORD: (" ", 0),
    L_PRO: (" ", 0),
    L_ART: (" ال", 2),
    L_ART_L: (" ال", 2),
}
_SCAN_CHECKS: dict[Check, _ScanCheck] = {}


def _scan_check(check: Check) -> _ScanCheck:
    out = _SCAN_CHECKS.get(check)
    if out is None:
        left, right, plain, pron, single = check
        bare = right != R_AFFIX or "" in plain
        out = _SCAN_CHECKS[check] = (left, _PREFIXES.get(left), right, bare, plain, pron, single)
    return out


def _automaton(
    literals: Iterable[tuple[str, Check, TermRef]], limited: set[int]
) -> tuple[Any, int]:
    """One automaton over every key; a key's value is its checks, each with the terms behind it
    (see _Value).

    Values are kept small (100,000 terms must fit in well under 150 MB): checks are interned,
    the keys of one term share its terms tuple, and no other index is built on the way.
    The rules with a term limited to one field are added to `limited`."""
    ac = ahocorasick.Automaton()
    last_ref: TermRef | None = None
    refs: tuple[TermRef, ...] = ()
    for key, check, ref in literals:
        if ref is not last_ref:
            last_ref, refs = ref, (ref,)
            if ref.fields != _ANY_FIELD:
                limited.add(ref.rule)
        scan = _scan_check(check)
        usual, back = _USUAL[scan[0]]
        value = (len(key), usual, len(usual), back, scan[3], scan, refs)
        old: _Value | None = ac.get(key, None)
        if old is not None:  # the same key from another term or rule: merge by check
            # (scan checks are interned: one object per check)
            merged: dict[int, tuple[Any, ...]] = {}
            for v in (*old, value):
                merged.setdefault(id(v[5]), (*v[:-1], {}))[-1].update(dict.fromkeys(v[-1]))
            ac.add_word(key, tuple((*c[:-1], tuple(c[-1])) for c in merged.values()))
        else:
            ac.add_word(key, (value,))
    if not len(ac):
        return None, 0
    ac.make_automaton()
    return ac, len(ac)


def _joined(a: str, b: str) -> bool:
    """True when a and b belong to one token (both letters or both digits)."""
    return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())
