"""YAML with line numbers and `${VAR}` interpolation, for configuration files.

`load_yaml_with_lines` returns the data and a map from key paths to line numbers, so that a
validation error can name `file:line` and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

Path_ = tuple[str | int, ...]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str], where: str) -> str:
    """Replace `${VAR}`, `${VAR:-default}` (default when unset or empty) and `${VAR-default}`
    (default when unset). `$${` escapes a literal `${`."""

    def one(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3)
        current = env.get(name)
        if op == ":-" and not current:
            return default or ""
        if op == "-" and current is None:
            return default or ""
        if current is None:
            raise ConfigError(
                f"environment variable {name} is not set (write ${{{name}:-default}} "
                "for an optional value)",
                where=where,
            )
        return current

    parts = value.split("$${")
    return "${".join(_VAR.sub(one, part) for part in parts)


class _LineLoader(yaml.SafeLoader):
    pass


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), lines)


def _interpolate_nodes(node: yaml.Node, env: Mapping[str, str], file: str) -> None:
    if isinstance(node, yaml.ScalarNode):
        if isinstance(node.value, str) and "${" in node.value:
            node.value = interpolate(node.value, env, f"{file}:{node.start_mark.line + 1}")
    elif isinstance(node, yaml.MappingNode):
        for _, value_node in node.value:
            _interpolate_nodes(value_node, env, file)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _interpolate_nodes(child, env, file)


def load_yaml_with_lines(
    path: Path, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; interpolate `${VAR}` in scalars when `env` is given."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", where=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8: {exc}", where=str(path)) from exc
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        if env is not None:
            _interpolate_nodes(node, env, str(path))
        lines: dict[Path_, int] = {}
        _walk(node, (), lines)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError(f"YAML: {exc.problem or exc}", where=f"{path}:{line}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML: {exc}", where=str(path)) from exc
    finally:
        loader.dispose()


def line_of(lines: Mapping[Path_, int], loc: Path_) -> int | None:
    """The line of the longest prefix of `loc` that the file has (pydantic adds union tags)."""
    best: int | None = None
    current: Path_ = ()
    for part in loc:
        candidate = (*current, part)
        if candidate in lines:
            current = candidate
            best = lines[candidate]
    return best if best is not None else lines.get(())


def dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
