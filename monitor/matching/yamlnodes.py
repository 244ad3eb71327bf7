"""Rule and entity files as YAML nodes, read so that every problem names its file:line.

PyYAML's composed nodes keep the line where each value starts. `NodeReader` offers typed
accessors on them (a mapping with its allowed keys, a string, a list of strings, a boolean) that
report what is wrong as Problem(file, line, message) instead of raising, so that one pass over a
file reports all of its problems. Nothing here knows what a rule looks like (that is
monitor.matching.schema), so the shape of the rule language and the mechanics of reading YAML
change apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["NodeReader", "Problem", "documents", "entries", "line_of"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """Something wrong in a rule or entity file; the rule (or file) it is in is skipped."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def line_of(node: yaml.Node) -> int:
    """The node's line as editors number it (PyYAML counts from 0)."""
    return int(node.start_mark.line) + 1


@dataclass
class NodeReader:
    """Walks YAML nodes of one file, collecting problems with their lines."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, node: yaml.Node | int, message: str) -> None:
        line = node if isinstance(node, int) else line_of(node)
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


def documents(path: Path, reader: NodeReader) -> list[yaml.Node]:
    """The file's non-empty YAML documents; none, and a problem, when it cannot be read or
    parsed."""
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


def entries(doc: yaml.Node) -> list[yaml.Node]:
    """A document holds one mapping or a list of them."""
    return list(doc.value) if isinstance(doc, yaml.SequenceNode) else [doc]
