"""Rule and entity files: their shape, read from YAML nodes so that every problem has a line.

Nothing here compiles terms; this module only turns YAML into checked specs (RuleSpec,
EntitySpec) and reports what is wrong as Problem(file, line, message). The full language is
described in rules/README.md.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

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

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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


@dataclass(frozen=True)
class Problem:
    """Something wrong in a rule or entity file; the rule (or file) it is in is skipped."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class RuleInfo:
    """What the rest of the daemon may know about a loaded rule."""

    id: str
    title: str
    level: Level
    tags: tuple[str, ...]
    routes: tuple[str, ...]
    sources: tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True)
class TermSpec:
    text: str  # the term as written, the "@entity" reference, or the regex pattern
    kind: str  # "term" | "entity" | "regex"
    line: int
    exact: bool = False
    substring: bool = False
    field: str | None = None  # "title" | "text" | None (both)


@dataclass(frozen=True)
class GroupSpec:
    name: str
    terms: tuple[TermSpec, ...]
    line: int


@dataclass(frozen=True)
class ExampleSpec:
    text: str
    line: int
    title: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    id: str
    title: str
    level: Level
    file: str
    line: int
    groups: tuple[GroupSpec, ...]
    condition: str | None = None
    condition_line: int = 0
    sources: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    fields: str = "any"
    enabled: bool = True
    examples_match: tuple[ExampleSpec, ...] = ()
    examples_no_match: tuple[ExampleSpec, ...] = ()
    check_only: bool = False  # has problems: compiled for more problems, never run

    @property
    def info(self) -> RuleInfo:
        return RuleInfo(
            self.id,
            self.title,
            self.level,
            self.tags,
            self.routes,
            self.sources,
            self.file,
            self.line,
        )


@dataclass(frozen=True)
class EntitySpec:
    id: str
    kind: str
    names: tuple[TermSpec, ...]
    file: str
    line: int


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


@dataclass
class _Reader:
    """Walks YAML nodes of one file, collecting problems with their lines."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, node: yaml.Node | int, message: str) -> None:
        line = node if isinstance(node, int) else _line(node)
        self.problems.append(Problem(self.file, line, message))

    def mapping(
        self, node: yaml.Node, what: str, allowed: frozenset[str] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.problem(key, f"{what}: keys must be plain strings")
                continue
            name = str(key.value)
            if name in out:
                self.problem(key, f"{what}: duplicate key '{name}'")
            elif allowed is not None and name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(key, f"{what}: unknown key '{name}'{hint}")
            else:
                out[name] = (key, value)
        return out

    def string(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.problem(node, f"{what} must be a string")
            return None
        return str(node.value)

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...] | None:
        """A list of strings; a single string is a list of one."""
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return (str(node.value),)
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list of strings")
            return None
        out: list[str] = []
        ok = True
        for item in node.value:
            s = self.string(item, f"{what} item")
            if s is None:
                ok = False
            else:
                out.append(s)
        return tuple(out) if ok else None

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return bool(yaml.constructor.SafeConstructor().construct_yaml_bool(node))
        self.problem(node, f"{what} must be true or false")
        return None

    # ------------------------------------------------------------------ terms

    def term(self, node: yaml.Node, what: str, *, allow_regex: bool = True) -> TermSpec | None:
        line = _line(node)
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
                _line(m["regex"][1]),
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
            return ExampleSpec(str(node.value), _line(node))
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
            _line(node),
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
        line = _line(node)
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
                groups.append(GroupSpec("keywords", terms, _line(m["keywords"][1])))
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
                        groups.append(GroupSpec(name, terms, _line(knode)))
        if "keywords" not in m and "match" not in m:
            self.problem(node, f"{what} has neither 'keywords' nor 'match'")
        condition, cline = None, 0
        if "condition" in m:
            condition = self.string(m["condition"][1], "'condition'")
            cline = _line(m["condition"][1])
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
        return EntitySpec(ent_id, kind or "", tuple(names), self.file, _line(node))


def _documents(path: Path, reader: _Reader) -> list[yaml.Node]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reader.problem(1, f"cannot read the file: {e}")
        return []
    docs: list[yaml.Node] = []
    try:
        for doc in yaml.compose_all(text, Loader=_Loader):
            if doc is not None:
                docs.append(doc)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        detail = " ".join(str(x) for x in (e.context, e.problem) if x)
        reader.problem(line, f"YAML syntax: {detail or e}")
        return []
    except yaml.YAMLError as e:
        reader.problem(1, f"YAML: {e}")
        return []
    return docs


def _items(doc: yaml.Node) -> list[yaml.Node]:
    """A document holds one mapping or a list of them."""
    return list(doc.value) if isinstance(doc, yaml.SequenceNode) else [doc]


def _read(
    path: Path, display: str, parse: Callable[[_Reader, yaml.Node], T | None]
) -> tuple[list[T], list[Problem]]:
    reader = _Reader(display)
    out: list[T] = []
    for doc in _documents(path, reader):
        for node in _items(doc):
            spec = parse(reader, node)
            if spec is not None:
                out.append(spec)
    return out, reader.problems


def read_rule_file(path: Path, display: str) -> tuple[list[RuleSpec], list[Problem]]:
    """The rules of one file (one rule, a list of rules, or several YAML documents)."""
    return _read(path, display, _Reader.rule)


def read_entity_file(path: Path, display: str) -> tuple[list[EntitySpec], list[Problem]]:
    """The entities of one file: a list of {id, kind, names}."""
    return _read(path, display, _Reader.entity)
