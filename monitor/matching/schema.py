"""Rule and entity files: their shape, read from YAML nodes so that every problem has a line.

Nothing here compiles terms; this module only turns YAML into checked specs (RuleSpec,
EntitySpec) and reports what is wrong as Problem(file, line, message). The full language is
described in rules/README.md.

Here are the language's shape (the keys each mapping may hold) and the checks that turn nodes
into specs. The specs themselves are defined in monitor.matching.specs, and the YAML reading
with its file:line problems in monitor.matching.yamlnodes; the names other modules import from
here (the specs, Problem) are re-exported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from monitor.matching.specs import (
    EntitySpec,
    ExampleSpec,
    GroupSpec,
    RuleInfo,
    RuleSpec,
    TermSpec,
)
from monitor.matching.yamlnodes import NodeReader, Problem, documents, entries, line_of
from monitor.model import Level

__all__ = [
    "EntitySpec",
    "ExampleSpec",
    "GroupSpec",
    "Problem",
    "RuleInfo",
    "RuleSpec",
    "TermSpec",
    "read_entity_file",
    "read_rule_file",
]

T = TypeVar("T")

RULE_KEYS = frozenset(
    [
        "id",
        "title",
        "level",
        "description",
        "keywords",
        "match",
        "condition",
        "sources",
        "route",
        "tags",
        "fields",
        "enabled",
        "examples",
        "author",
        "references",
        "status",
        "date",
        "modified",
        "falsepositives",
        "notes",
    ]
)
TERM_KEYS = frozenset(["term", "regex", "exact", "substring", "field"])
ENTITY_KEYS = frozenset(["id", "kind", "names", "aliases", "description", "notes", "wikidata"])
EXAMPLE_KEYS = frozenset(["text", "title", "source", "tags"])
FIELDS = ("title", "text", "any")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_GROUP = re.compile(r"[^\W\d][\w-]*")
_RESERVED_GROUPS = frozenset(["and", "or", "not", "of", "any", "all"])


class _SpecReader(NodeReader):
    """The checks of rule and entity files on top of the node accessors: each method turns a
    node into a spec, or reports why not and returns None."""

    # ------------------------------------------------------------------ terms

    def term(self, node: yaml.Node, what: str, *, allow_regex: bool = True) -> TermSpec | None:
        line = line_of(node)
        if isinstance(node, yaml.ScalarNode):  # a term is text, even `no`, `2254` or `null`
            text = str(node.value)
            kind = "entity" if text.startswith("@") else "term"
            if not text.strip():
                self.problem(node, f"{what}: empty term")
                return None
            return TermSpec(text, kind, line)
        m = self.mapping(node, what, TERM_KEYS)
        if m is None:
            return None
        if ("term" in m) == ("regex" in m):
            self.problem(node, f"{what}: give exactly one of 'term' or 'regex'")
            return None
        opts: dict[str, Any] = {}
        for name in ("exact", "substring"):
            if name in m:
                value = self.boolean(m[name][1], f"{what}: '{name}'")
                if value is None:
                    return None
                opts[name] = value
        if opts.get("exact") and opts.get("substring"):
            self.problem(node, f"{what}: 'exact' and 'substring' exclude each other")
            return None
        fld: str | None = None
        if "field" in m:
            fld = self.string(m["field"][1], f"{what}: 'field'")
            if fld is None:
                return None
            if fld not in FIELDS:
                self.problem(m["field"][1], f"{what}: 'field' must be title, text or any")
                return None
            fld = None if fld == "any" else fld
        if "regex" in m:
            if not allow_regex:
                self.problem(node, f"{what}: regex is not allowed here")
                return None
            if opts.get("exact"):
                self.problem(node, f"{what}: 'exact' does not apply to a regex")
                return None
            pattern = self.string(m["regex"][1], f"{what}: 'regex'")
            if pattern is None:
                return None
            return TermSpec(
                pattern,
                "regex",
                line_of(m["regex"][1]),
                substring=opts.get("substring", False),
                field=fld,
            )
        term_text = self.string(m["term"][1], f"{what}: 'term'")
        if term_text is None:
            return None
        if not term_text.strip():
            self.problem(node, f"{what}: empty term")
            return None
        kind = "entity" if term_text.startswith("@") else "term"
        return TermSpec(
            term_text,
            kind,
            line,
            exact=opts.get("exact", False),
            substring=opts.get("substring", False),
            field=fld,
        )

    def terms(self, node: yaml.Node, what: str) -> tuple[TermSpec, ...] | None:
        items = [node] if isinstance(node, yaml.ScalarNode) else None
        if items is None:
            if not isinstance(node, yaml.SequenceNode):
                self.problem(node, f"{what} must be a list of terms")
                return None
            items = list(node.value)
        if not items:
            self.problem(node, f"{what} is empty")
            return None
        out = [self.term(item, f"{what}[{i}]") for i, item in enumerate(items)]
        return tuple(t for t in out if t is not None)  # broken terms are reported and left out

    # ------------------------------------------------------------------ examples

    def examples(self, node: yaml.Node) -> tuple[tuple[ExampleSpec, ...], ...] | None:
        m = self.mapping(node, "examples", frozenset(["match", "no_match"]))
        if m is None:
            return None
        result: list[tuple[ExampleSpec, ...]] = []
        for name in ("match", "no_match"):
            if name not in m:
                result.append(())
                continue
            seq = m[name][1]
            if not isinstance(seq, yaml.SequenceNode):
                self.problem(seq, f"examples.{name} must be a list")
                return None
            out: list[ExampleSpec] = []
            for item in seq.value:
                ex = self.example(item, f"examples.{name}")
                if ex is None:
                    return None
                out.append(ex)
            result.append(tuple(out))
        return result[0], result[1]

    def example(self, node: yaml.Node, what: str) -> ExampleSpec | None:
        if isinstance(node, yaml.ScalarNode):
            return ExampleSpec(str(node.value), line_of(node))
        m = self.mapping(node, what, EXAMPLE_KEYS)
        if m is None:
            return None
        values: dict[str, str] = {}
        for name in ("text", "title", "source"):
            if name in m:
                s = self.string(m[name][1], f"{what}: '{name}'")
                if s is None:
                    return None
                values[name] = s
        if not values.get("text") and not values.get("title"):
            self.problem(node, f"{what}: give a 'text' or a 'title'")
            return None
        tags: tuple[str, ...] = ()
        if "tags" in m:
            t = self.strings(m["tags"][1], f"{what}: 'tags'")
            if t is None:
                return None
            tags = t
        return ExampleSpec(
            values.get("text", ""),
            line_of(node),
            values.get("title", ""),
            values.get("source", ""),
            tags,
        )

    # ------------------------------------------------------------------ rules

    def rule(self, node: yaml.Node) -> RuleSpec | None:
        before = len(self.problems)
        m = self.mapping(node, "rule", RULE_KEYS)
        if m is None:
            return None
        line = line_of(node)
        rule_id = None
        if "id" not in m:
            self.problem(node, "rule has no 'id'")
        else:
            rule_id = self.string(m["id"][1], "'id'")
            if rule_id is not None and not _ID.fullmatch(rule_id):
                self.problem(m["id"][1], f"'id' {rule_id!r}: use letters, digits, '.', '_', '-'")
        what = f"rule '{rule_id}'" if rule_id else "rule"
        title = self.string(m["title"][1], "'title'") if "title" in m else None
        level = Level.MEDIUM
        if "level" in m:
            lv = self.string(m["level"][1], "'level'")
            if lv is not None:
                try:
                    level = Level(lv.lower())
                except ValueError:
                    self.problem(
                        m["level"][1],
                        f"'level' {lv!r} is not one of " + " | ".join(x.value for x in Level),
                    )
        groups: list[GroupSpec] = []
        if "keywords" in m:
            terms = self.terms(m["keywords"][1], "keywords")
            if terms is not None:
                groups.append(GroupSpec("keywords", terms, line_of(m["keywords"][1])))
        if "match" in m:
            gm = self.mapping(m["match"][1], "match")
            if gm is not None:
                if not gm:
                    self.problem(m["match"][1], "'match' has no groups")
                for name, (knode, vnode) in gm.items():
                    if not _GROUP.fullmatch(name) or name in _RESERVED_GROUPS:
                        self.problem(
                            knode,
                            f"group name {name!r}: use a word (letters, digits, "
                            "'_', '-'), not and/or/not/of/any/all",
                        )
                        continue
                    if name == "keywords" and "keywords" in m:
                        self.problem(knode, "group 'keywords' is also given as 'keywords:'")
                        continue
                    terms = self.terms(vnode, f"match.{name}")
                    if terms is not None:
                        groups.append(GroupSpec(name, terms, line_of(knode)))
        if "keywords" not in m and "match" not in m:
            self.problem(node, f"{what} has neither 'keywords' nor 'match'")
        condition, cline = None, 0
        if "condition" in m:
            condition = self.string(m["condition"][1], "'condition'")
            cline = line_of(m["condition"][1])
        sources = self.strings(m["sources"][1], "'sources'") if "sources" in m else ()
        for s in sources or ():
            if s.startswith("tag:") and not s[4:]:
                self.problem(m["sources"][1], "'sources': 'tag:' needs a tag name")
        routes = self.strings(m["route"][1], "'route'") if "route" in m else ()
        tags = self.strings(m["tags"][1], "'tags'") if "tags" in m else ()
        fields = "any"
        if "fields" in m:
            f = self.string(m["fields"][1], "'fields'")
            if f is not None and f not in FIELDS:
                self.problem(m["fields"][1], "'fields' must be title, text or any")
            elif f is not None:
                fields = f
        enabled = True
        if "enabled" in m:
            enabled = bool(self.boolean(m["enabled"][1], "'enabled'"))
        examples: tuple[tuple[ExampleSpec, ...], ...] | None = ((), ())
        if "examples" in m:
            examples = self.examples(m["examples"][1])
        if "description" in m:
            self.string(m["description"][1], "'description'")
        if rule_id is None or not _ID.fullmatch(rule_id):
            return None
        # A rule with problems is still compiled (check_only) so that its terms and condition
        # are checked too: every problem at once.
        return RuleSpec(
            id=rule_id,
            title=title or rule_id,
            level=level,
            file=self.file,
            line=line,
            groups=tuple(groups),
            condition=condition,
            condition_line=cline,
            sources=sources or (),
            routes=routes or (),
            tags=tags or (),
            fields=fields,
            enabled=enabled,
            examples_match=examples[0] if examples else (),
            examples_no_match=examples[1] if examples else (),
            check_only=len(self.problems) != before,
        )

    def entity(self, node: yaml.Node) -> EntitySpec | None:
        before = len(self.problems)
        m = self.mapping(node, "entity", ENTITY_KEYS)
        if m is None:
            return None
        ent_id = kind = None
        if "id" not in m:
            self.problem(node, "entity has no 'id'")
        else:
            ent_id = self.string(m["id"][1], "entity 'id'")
            if ent_id is not None and not _ID.fullmatch(ent_id):
                self.problem(
                    m["id"][1], f"entity 'id' {ent_id!r}: use letters, digits, '.', '_', '-'"
                )
        if "kind" in m:
            kind = self.string(m["kind"][1], "entity 'kind'")
        names: list[TermSpec] = []
        for key in ("names", "aliases"):
            if key in m:
                seq = m[key][1]
                if not isinstance(seq, yaml.SequenceNode):
                    self.problem(seq, f"entity '{key}' must be a list")
                    continue
                for i, item in enumerate(seq.value):
                    t = self.term(item, f"entity {key}[{i}]", allow_regex=False)
                    if t is not None and t.kind == "entity":
                        self.problem(item, "an entity name cannot refer to another entity")
                    elif t is not None:
                        names.append(t)
        if not names and "names" not in m:
            self.problem(node, "entity has no 'names'")
        if len(self.problems) != before or ent_id is None:
            return None
        return EntitySpec(ent_id, kind or "", tuple(names), self.file, line_of(node))


def _read(
    path: Path, display: str, parse: Callable[[_SpecReader, yaml.Node], T | None]
) -> tuple[list[T], list[Problem]]:
    reader = _SpecReader(display)
    out: list[T] = []
    for doc in documents(path, reader):
        for node in entries(doc):
            spec = parse(reader, node)
            if spec is not None:
                out.append(spec)
    return out, reader.problems


def read_rule_file(path: Path, display: str) -> tuple[list[RuleSpec], list[Problem]]:
    """The rules of one file (one rule, a list of rules, or several YAML documents)."""
    return _read(path, display, _SpecReader.rule)


def read_entity_file(path: Path, display: str) -> tuple[list[EntitySpec], list[Problem]]:
    """The entities of one file: a list of {id, kind, names}."""
    return _read(path, display, _SpecReader.entity)
