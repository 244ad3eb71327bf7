"""What rule and entity files turn into once checked: plain frozen dataclasses.

monitor.matching.schema builds them from YAML; the loader compiles them and the engine keeps
the parts it needs (RuleInfo, ExampleSpec). They live apart from the YAML reading so that code
that only uses specs does not depend on how files are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model import Level

__all__ = ["EntitySpec", "ExampleSpec", "GroupSpec", "RuleInfo", "RuleSpec", "TermSpec"]


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
