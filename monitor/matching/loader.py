"""Load a rules directory into an Engine: every problem reported with file:line, broken rules
skipped, the others compiled.

    rules/
      entities/*.yaml      entities: [{id, kind, names: [...]}]
      **/*.yaml, **/*.yml  rules (one per document, or a list of rules)

Files and directories whose name starts with "." are ignored.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from monitor.matching.condition import ConditionError, parse_condition
from monitor.matching.engine import FIELD_BITS, CompiledRule, Engine, TermRef
from monitor.matching.regex import RegexError, compile_regex
from monitor.matching.schema import (
    EntitySpec,
    Problem,
    RuleSpec,
    read_entity_file,
    read_rule_file,
)
from monitor.matching.terms import Check, KeySpec, TermError, term_keys

__all__ = ["build_engine", "compile_rules", "discover", "rules_fingerprint"]

_SUFFIXES = (".yaml", ".yml")


def _yaml_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(
            Path(dirpath) / f
            for f in sorted(filenames)
            if f.endswith(_SUFFIXES) and not f.startswith(".")
        )
    return out


def discover(path: Path) -> tuple[list[Path], list[Path]]:
    """(rule files, entity files) for a rules directory or a single rule file.

    For a single file the entities come from the nearest `entities/` directory beside it or
    above it."""
    if path.is_dir():
        entities_dir = path / "entities"
        entity_files = _yaml_files(entities_dir) if entities_dir.is_dir() else []
        skip = set(entity_files)
        return [p for p in _yaml_files(path) if p not in skip], entity_files
    for parent in [path.parent, *path.parent.parents]:
        if (parent / "entities").is_dir():
            return [path], _yaml_files(parent / "entities")
    return [path], []


def rules_fingerprint(path: Path) -> str:
    """Changes whenever a rule or entity file is added, removed, touched or resized. Cheap:
    one stat per file, no reading."""
    h = hashlib.sha256()
    try:
        rule_files, entity_files = discover(path)
    except OSError as e:
        h.update(repr(e).encode())
        return h.hexdigest()
    for f in [*rule_files, *entity_files]:
        try:
            st = f.stat()
        except OSError:
            h.update(f"{f}\0missing\n".encode())
            continue
        h.update(f"{f}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()


def _unknown(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Builder:
    """Compiles specs into the engine's tables; each rule all or nothing."""

    def __init__(
        self,
        entities: Mapping[str, EntitySpec],
        broken: Mapping[str, EntitySpec],
        problems: list[Problem],
    ) -> None:
        self.entities = entities
        self.broken = broken  # entities whose names do not compile (already reported)
        self.problems = problems
        self.rules: list[CompiledRule] = []
        self.literals: list[tuple[str, Check, TermRef]] = []
        self.regexes: list[tuple[str, Any, bool, TermRef]] = []
        self._entity_keys: dict[tuple[str, bool, bool], list[tuple[str, list[KeySpec]]]] = {}

    def entity_keys(
        self, ent: EntitySpec, exact: bool, substring: bool
    ) -> list[tuple[str, list[KeySpec]]]:
        """The keys of every name of `ent`; the options of the reference override the names'."""
        cache_key = (ent.id, exact, substring)
        out = self._entity_keys.get(cache_key)
        if out is None:
            out = [
                (
                    name.text,
                    term_keys(
                        name.text,
                        exact=exact or (name.exact and not substring),
                        substring=substring or (name.substring and not exact),
                        name=True,
                    ),
                )
                for name in ent.names
            ]
            self._entity_keys[cache_key] = out
        return out

    def add(self, spec: RuleSpec) -> None:
        index = len(self.rules)
        problems: list[Problem] = []
        literals: list[tuple[str, Check, TermRef]] = []
        regexes: list[tuple[str, Any, bool, TermRef]] = []
        rule_bits = FIELD_BITS[spec.fields]

        def problem(line: int, message: str) -> None:
            problems.append(Problem(spec.file, line, f"rule '{spec.id}': {message}"))

        for gi, group in enumerate(spec.groups):
            for ui, term in enumerate(group.terms):
                bits = rule_bits & FIELD_BITS[term.field or "any"]
                if not bits:
                    problem(
                        term.line,
                        f"term {term.text!r} is limited to the {term.field}, "
                        f"outside the rule's fields ({spec.fields})",
                    )
                    continue
                if term.kind == "entity":
                    ent_id = term.text[1:]
                    ent = self.entities.get(ent_id)
                    if ent is None:
                        bad = self.broken.get(ent_id)
                        problem(
                            term.line,
                            f"entity '{term.text}' has problems (see {bad.file}:{bad.line})"
                            if bad
                            else f"unknown entity '{term.text}'" + _unknown(ent_id, self.entities),
                        )
                        continue
                    for alias, keys in self.entity_keys(ent, term.exact, term.substring):
                        ref = TermRef(index, gi, ui, alias, ent.id, bits)
                        literals.extend((k.key, k.check, ref) for k in keys)
                elif term.kind == "regex":
                    try:
                        pattern, rx = compile_regex(term.text)
                    except RegexError as e:
                        problem(term.line, f"{e}: {term.text!r}")
                        continue
                    regexes.append(
                        (pattern, rx, term.substring, TermRef(index, gi, ui, term.text, None, bits))
                    )
                else:
                    try:
                        keys = term_keys(term.text, exact=term.exact, substring=term.substring)
                    except TermError as e:
                        problem(term.line, str(e))
                        continue
                    ref = TermRef(index, gi, ui, term.text, None, bits)
                    literals.extend((k.key, k.check, ref) for k in keys)

        names = {g.name: i for i, g in enumerate(spec.groups)}
        sizes = [len(g.terms) for g in spec.groups]
        condition = None
        if spec.condition is not None:
            try:
                condition = parse_condition(spec.condition, names, sizes)
            except ConditionError as e:
                col = f" (column {e.column})" if e.column else ""
                problem(spec.condition_line, f"condition: {e}{col}")
            else:
                unused = [g.name for i, g in enumerate(spec.groups) if i not in condition.groups()]
                if unused:
                    problem(
                        spec.condition_line,
                        "condition does not use the group(s) " + ", ".join(repr(u) for u in unused),
                    )
        elif len(spec.groups) > 1:
            problem(spec.line, "several term groups need a 'condition'")

        self.problems.extend(problems)
        if problems or spec.check_only or not spec.enabled:
            return
        ids = frozenset(s for s in spec.sources if not s.startswith("tag:"))
        tags = frozenset(s[4:] for s in spec.sources if s.startswith("tag:"))
        self.rules.append(
            CompiledRule(
                spec.info,
                tuple(g.name for g in spec.groups),
                condition,
                ids,
                tags,
                spec.examples_match,
                spec.examples_no_match,
            )
        )
        self.literals.extend(literals)
        self.regexes.extend(regexes)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Building allocates hundreds of thousands of tuples and nothing cyclic; the cyclic
    collector would rescan the growing heap again and again (100,000 terms: 1.6 s instead of
    1.0 s). Reference counting still frees everything; the previous state is restored."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_engine(
    rules: Sequence[RuleSpec], entities: Sequence[EntitySpec] = ()
) -> tuple[Engine, list[Problem]]:
    """Compile already read specs (what compile_rules does after reading the files)."""
    with _no_cyclic_gc():
        return _build_engine(rules, entities)


def _build_engine(
    rules: Sequence[RuleSpec], entities: Sequence[EntitySpec]
) -> tuple[Engine, list[Problem]]:
    problems: list[Problem] = []
    by_id: dict[str, EntitySpec] = {}
    broken: dict[str, EntitySpec] = {}
    for ent in entities:
        first = by_id.get(ent.id) or broken.get(ent.id)
        if first is not None:
            problems.append(
                Problem(
                    ent.file,
                    ent.line,
                    f"duplicate entity id '{ent.id}' (first at {first.file}:{first.line})",
                )
            )
            continue
        by_id[ent.id] = ent
        for name in ent.names:
            try:
                term_keys(name.text, exact=name.exact, substring=name.substring, name=True)
            except TermError as e:
                problems.append(Problem(ent.file, name.line, f"entity '{ent.id}': {e}"))
                broken[ent.id] = by_id.pop(ent.id)
                break
    builder = _Builder(by_id, broken, problems)
    seen: dict[str, RuleSpec] = {}
    for spec in rules:
        first_rule = seen.get(spec.id)
        if first_rule is not None:
            problems.append(
                Problem(
                    spec.file,
                    spec.line,
                    f"duplicate rule id '{spec.id}' (first at {first_rule.file}:{first_rule.line})",
                )
            )
            continue
        seen[spec.id] = spec
        builder.add(spec)
    engine = Engine(builder.rules, builder.literals, builder.regexes)
    return engine, problems


def compile_rules(path: Path) -> tuple[Engine, list[Problem]]:
    """Load every rule file under `path` (and the entities in path/entities/).

    A broken file or rule is reported and skipped; the others are compiled. Problems come
    sorted by file and line."""
    path = Path(path)
    if not path.exists():
        return Engine(), [Problem(str(path), 1, "no such file or directory")]
    with _no_cyclic_gc():
        return _compile(path)


def _compile(path: Path) -> tuple[Engine, list[Problem]]:
    rule_files, entity_files = discover(path)
    problems: list[Problem] = []
    entities: list[EntitySpec] = []
    for f in entity_files:
        ents, probs = read_entity_file(f, str(f))
        entities.extend(ents)
        problems.extend(probs)
    specs: list[RuleSpec] = []
    for f in rule_files:
        rules, probs = read_rule_file(f, str(f))
        specs.extend(rules)
        problems.extend(probs)
    engine, build_problems = _build_engine(specs, entities)
    problems.extend(build_problems)
    problems.sort(key=lambda p: (p.file, p.line))
    return engine, problems
