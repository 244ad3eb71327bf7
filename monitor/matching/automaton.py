"""The Aho-Corasick automaton over every literal key of every rule, and what each key holds.

The engine's scan (monitor.matching.engine) walks the automaton's hits and reads, for each,
the checks of its key in the layout below. Building it is separate from the scan: it runs once
per Engine, and its layout (interned checks, the usual left context of a key, merged values) is
a memory and speed trade-off that the scan only reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ahocorasick

from monitor.matching.compiled import ANY_FIELD, TermRef
from monitor.matching.terms import (
    ART_L_PREFIXES,
    ART_ONLY_PREFIXES,
    ART_PREFIXES,
    L_ART,
    L_ART_L,
    L_NONE,
    L_PRO,
    L_WORD,
    PRO_PREFIXES,
    R_AFFIX,
    Check,
)

__all__ = ["ScanCheck", "build_automaton"]

# What the scan needs of a Check, interned: (left, prefixes, right, bare, plain, pron, single):
# `prefixes` (proclitic checks): every accepted prefix -> whether it holds the article;
# `bare`: the hit stands when a space follows it. A key's value holds, for each of its checks,
# (key length, usual, before, back, bare, scan check, terms): `usual`, the most common text
# right before such a key (a space, or a space and the article; nothing for a key that may
# start anywhere), `before` its length, `back` how much of it belongs to the word.
ScanCheck = tuple[int, "dict[str, bool] | None", int, bool, frozenset[str], frozenset[str], bool]
_Value = tuple[tuple[int, str, int, int, bool, ScanCheck, tuple[TermRef, ...]], ...]
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
_SCAN_CHECKS: dict[Check, ScanCheck] = {}


def _scan_check(check: Check) -> ScanCheck:
    out = _SCAN_CHECKS.get(check)
    if out is None:
        left, right, plain, pron, single = check
        bare = right != R_AFFIX or "" in plain
        out = _SCAN_CHECKS[check] = (left, _PREFIXES.get(left), right, bare, plain, pron, single)
    return out


def build_automaton(
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
            if ref.fields != ANY_FIELD:
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
