"""The matching engine: one Aho-Corasick automaton over every literal term of every rule.

An item's title and text are normalized (monitor.text.normalize) and scanned once each. Every
automaton hit is checked against the letters around it (monitor.matching.terms: proclitics,
suffixes, whole words); the hits that pass are grouped by rule, and only those rules evaluate
their condition. Offsets go back to the original text only for the rules that matched.

An Engine never changes after construction: the daemon builds a new one off the event loop
when rules change and swaps the reference; `match` is pure and safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    L_PRO,
    L_WORD,
    MAX_PREFIX,
    MAX_SUFFIX,
    PRO_PREFIXES,
    R_AFFIX,
    R_WORD,
    Check,
)
from monitor.model import Hit, Item, RuleMatch
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


_Found = dict[int, list[tuple[TermRef, int, int, int]]]  # rule -> (ref, field, start, end)


class Engine:
    """Compiled rules. Build with `compile_rules`; then `match` items."""

    __slots__ = ("_ac", "_regex_set", "_regexes", "_rules", "rules", "term_count")

    rules: tuple[RuleInfo, ...]
    term_count: int  # distinct automaton keys and regexes
    _rules: tuple[CompiledRule, ...]
    _ac: Any
    _regexes: tuple[_Regex, ...]
    _regex_set: Any

    def __init__(
        self,
        rules: Sequence[CompiledRule] = (),
        literals: Iterable[tuple[str, Check, TermRef]] = (),
        regexes: Iterable[tuple[str, Any, bool, TermRef]] = (),
    ) -> None:
        ac, keys = _automaton(literals)
        by_pattern: dict[tuple[str, bool], tuple[Any, list[TermRef]]] = {}
        for pattern, rx, substring, ref in regexes:
            by_pattern.setdefault((pattern, substring), (rx, []))[1].append(ref)
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
        """The rules whose condition holds for `item` (title and text), in rule order."""
        return self._match(item.title, item.text, item.source_id, item.tags)

    def match_text(
        self, text: str, *, title: str = "", source_id: str = "", tags: tuple[str, ...] = ()
    ) -> list[RuleMatch]:
        return self._match(title, text, source_id, tags)

    def explain(self, text: str, *, title: str = "") -> dict[str, RuleMatch]:
        """Every rule with at least one hit, whatever its condition and scope say: for
        `rules test` and debugging ("which groups of my rule hit?")."""
        found, norms = self._collect(title, text)
        return {
            self._rules[i].info.id: self._rule_match(self._rules[i], found[i], norms)
            for i in sorted(found)
        }

    @property
    def compiled_rules(self) -> tuple[CompiledRule, ...]:
        """The rules with their groups, condition and examples (for the tools)."""
        return self._rules

    # ------------------------------------------------------------------ internals

    def _collect(self, title: str, text: str) -> tuple[_Found, dict[int, Normalized]]:
        found: _Found = {}
        norms: dict[int, Normalized] = {}
        for bit, value in ((TITLE, title), (TEXT, text)):
            if value:
                norm = normalize(value)
                norms[bit] = norm
                self._scan(norm.text, bit, found)
        return found, norms

    def _match(self, title: str, text: str, source_id: str, tags: Sequence[str]) -> list[RuleMatch]:
        found, norms = self._collect(title, text)
        if not found:
            return []
        out: list[RuleMatch] = []
        spans: dict[tuple[int, int, int], tuple[int, int]] = {}  # offsets mapped once per call
        for index in sorted(found):
            rule = self._rules[index]
            if (rule.source_ids or rule.source_tags) and not rule.in_scope(source_id, tags):
                continue
            raw = found[index]
            if rule.condition is not None:
                units: list[set[int]] = [set() for _ in rule.groups]
                for ref, _bit, _s, _e in raw:
                    units[ref.group].add(ref.unit)
                if not rule.condition.evaluate([len(u) for u in units]):
                    continue
            out.append(self._rule_match(rule, raw, norms, spans))
        return out

    @staticmethod
    def _rule_match(
        rule: CompiledRule,
        raw: list[tuple[TermRef, int, int, int]],
        norms: dict[int, Normalized],
        spans: dict[tuple[int, int, int], tuple[int, int]] | None = None,
    ) -> RuleMatch:
        if spans is None:
            spans = {}
        if len(raw) > 1:
            raw = sorted(set(raw), key=lambda r: (r[1], r[2], r[3], r[0].group, r[0].term))
        hits: list[Hit] = []
        for ref, bit, s, e in raw:
            span = spans.get((bit, s, e))
            if span is None:
                span = spans[bit, s, e] = norms[bit].to_original(s, e)
            hits.append(
                Hit(
                    _FIELD_NAME[bit], span[0], span[1], ref.term, rule.groups[ref.group], ref.entity
                )
            )
        if len(hits) > 1:
            hits = list(dict.fromkeys(hits))  # a term listed twice in a group hits once
        info = rule.info
        return RuleMatch(info.id, info.title, info.level, tuple(hits), info.routes, info.tags)

    def _scan(self, t: str, bit: int, found: _Found) -> None:
        """Every accepted hit in the normalized text `t`, appended to `found` by rule.

        The hot loop of the engine: one pass per automaton hit, with the common case (nothing
        attached to the word on either side) decided by two character tests."""
        ac = self._ac
        if ac is not None:
            n = len(t)
            pro, art, art_only, art_l = (
                PRO_PREFIXES,
                ART_PREFIXES,
                ART_ONLY_PREFIXES,
                ART_L_PREFIXES,
            )
            get = found.get
            for end, checks in ac.iter(t):
                e = end + 1
                after = t[e] if e < n else " "
                for klen, left, right, plain, pron, single, refs in checks:
                    s = e - klen
                    before = t[s - 1] if s else " "
                    ws = s
                    article = False
                    if left >= L_PRO:
                        if before.isalpha():
                            j = s - 1
                            while j and t[j - 1].isalpha() and s - j <= MAX_PREFIX:
                                j -= 1
                            prefix = t[j:s]
                            if left == L_PRO:
                                if prefix not in pro:
                                    continue
                                article = prefix in art
                            elif prefix not in (art_only if left == L_ART else art_l):
                                continue
                            ws = j
                        elif left != L_PRO:
                            continue  # the term's article is missing
                    elif left == L_WORD and s and _joined(before, t[s]):
                        continue
                    we = e
                    if right == R_AFFIX:
                        if after.isalpha():
                            j = e + 1
                            while j < n and t[j].isalpha() and j - e <= MAX_SUFFIX:
                                j += 1
                            suffix = t[e:j]
                            if suffix not in plain and (suffix not in pron or (single and article)):
                                continue
                            we = j
                        elif "" not in plain:
                            continue
                    elif right == R_WORD and e < n and _joined(t[end], after):
                        continue
                    for ref in refs:
                        if ref[5] & bit:  # the term may hit in this field
                            hits = get(ref[0])
                            if hits is None:
                                found[ref[0]] = [(ref, bit, ws, we)]
                            else:
                                hits.append((ref, bit, ws, we))
        if self._regexes:
            self._scan_regexes(t, bit, found)

    def _scan_regexes(self, t: str, bit: int, found: _Found) -> None:
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
                for ref in regex.refs:
                    if ref.fields & bit:
                        found.setdefault(ref.rule, []).append((ref, bit, s, e))


def _automaton(literals: Iterable[tuple[str, Check, TermRef]]) -> tuple[Any, int]:
    """One automaton over every key; a key's value is its checks, each with the terms behind it:
    ((key length, left, right, plain, pron, single, terms), ...).

    Values are kept small (100,000 terms must fit in well under 150 MB): checks are interned,
    the keys of one term share its terms tuple, and no other index is built on the way."""
    ac = ahocorasick.Automaton()
    last_ref: TermRef | None = None
    refs: tuple[TermRef, ...] = ()
    for key, check, ref in literals:
        if ref is not last_ref:
            last_ref, refs = ref, (ref,)
        value = (len(key), *check, refs)
        old = ac.get(key, None)
        if old is not None:  # the same key from another term or rule: merge by check
            merged: dict[tuple[Any, ...], dict[TermRef, None]] = {}
            for v in (*old, value):
                merged.setdefault(v[:-1], {}).update(dict.fromkeys(v[-1]))
            ac.add_word(key, tuple((*c, tuple(r)) for c, r in merged.items()))
        else:
            ac.add_word(key, (value,))
    if not len(ac):
        return None, 0
    ac.make_automaton()
    return ac, len(ac)


def _joined(a: str, b: str) -> bool:
    """True when a and b belong to one token (both letters or both digits)."""
    return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())
