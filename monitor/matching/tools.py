"""The bodies of `monitor rules check`, `monitor rules test` and `monitor match`.

Each returns the exit code: 0 ok, 1 a check failed, 2 bad usage. Results go to `out`;
diagnostics that are not the result (rule problems while matching, usage errors) go to
standard error so that `--json` output stays parseable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from monitor.matching.engine import CompiledRule, Engine
from monitor.matching.loader import compile_rules
from monitor.matching.schema import ExampleSpec, Problem
from monitor.model import Hit, RuleMatch

__all__ = ["format_spans", "match_command", "rules_check", "rules_test"]

_CONTEXT = 30


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _missing(path: Path) -> bool:
    if path.exists():
        return False
    _err(f"{path}: no such file or directory")
    return True


def format_spans(text: str, spans: Iterable[tuple[int, int]], *, context: int | None = None) -> str:
    """`text` with the spans in [brackets] (overlapping spans merged); with `context`, only
    that many characters around the spans, on one line."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    if not merged:
        return " ".join(text.split())
    lo, hi = 0, len(text)
    if context is not None:
        lo = max(0, merged[0][0] - context)
        hi = min(len(text), merged[-1][1] + context)
    parts: list[str] = ["…" if lo > 0 else ""]
    pos = lo
    for s, e in merged:
        parts += [text[pos:s], "[", text[s:e], "]"]
        pos = e
    parts += [text[pos:hi], "…" if hi < len(text) else ""]
    return " ".join("".join(parts).split())


def _field_spans(hits: Iterable[Hit], name: str) -> list[tuple[int, int]]:
    return [(h.start, h.end) for h in hits if h.field == name]


# --------------------------------------------------------------------------- rules check


def _compile_and_report(path: Path, out: TextIO) -> tuple[Engine, list[Problem]] | None:
    """compile_rules, with every problem printed to `out`; None when `path` is missing."""
    if _missing(path):
        return None
    engine, problems = compile_rules(path)
    for p in problems:
        print(p, file=out)
    return engine, problems


def rules_check(path: Path, out: TextIO) -> int:
    """Validate every rule and entity file; print every problem as `file:line: message`."""
    loaded = _compile_and_report(path, out)
    if loaded is None:
        return 2
    engine, problems = loaded
    if problems:
        print(f"{len(problems)} problem(s); {len(engine.rules)} rule(s) usable", file=out)
        return 1
    print(f"ok: {len(engine.rules)} rule(s), {engine.term_count} key(s)", file=out)
    return 0


# --------------------------------------------------------------------------- rules test


def _example_scope(rule: CompiledRule, ex: ExampleSpec) -> tuple[str, tuple[str, ...]]:
    """The source id and tags an example runs with: its own, else ones in the rule's scope."""
    source = ex.source or min(rule.source_ids, default="")
    tags = ex.tags or tuple(sorted(rule.source_tags))
    return source, tags


def _describe(title: str, text: str, m: RuleMatch | None) -> str:
    hits = m.hits if m is not None else ()
    parts = []
    if title:
        parts.append("title: " + format_spans(title, _field_spans(hits, "title")))
    if text:
        parts.append(format_spans(text, _field_spans(hits, "text")))
    return " | ".join(parts)


def _groups_hit(m: RuleMatch | None, rule: CompiledRule) -> str:
    if m is None:
        return "no term of the rule hit"
    terms: dict[str, list[str]] = {g: [] for g in rule.groups}
    for h in m.hits:
        if h.term not in terms[h.group]:
            terms[h.group].append(h.term)
    return "; ".join(f"{g}: {', '.join(t) if t else '-'}" for g, t in terms.items())


def rules_test(path: Path, out: TextIO) -> int:
    """Run every rule's examples; print each failure with the spans that matched."""
    loaded = _compile_and_report(path, out)
    if loaded is None:
        return 2
    engine, problems = loaded
    total = failed = 0
    without: list[str] = []
    for rule in engine.compiled_rules:
        info = rule.info
        if not rule.examples_match and not rule.examples_no_match:
            without.append(info.id)
        for expected, examples in ((True, rule.examples_match), (False, rule.examples_no_match)):
            for ex in examples:
                total += 1
                source, tags = _example_scope(rule, ex)
                got = {
                    m.rule_id: m
                    for m in engine.match_text(ex.text, title=ex.title, source_id=source, tags=tags)
                }
                if (info.id in got) == expected:
                    continue
                failed += 1
                where = f"{info.file}:{ex.line}: rule '{info.id}'"
                if expected:
                    partial = engine.explain(ex.text, title=ex.title).get(info.id)
                    print(
                        f"{where}: should match but did not: "
                        f"{_describe(ex.title, ex.text, partial)}",
                        file=out,
                    )
                    print(f"    groups hit: {_groups_hit(partial, rule)}", file=out)
                else:
                    m = got[info.id]
                    print(
                        f"{where}: should not match but did: {_describe(ex.title, ex.text, m)}",
                        file=out,
                    )
                    print(f"    groups hit: {_groups_hit(m, rule)}", file=out)
    for rule_id in without:
        print(f"note: rule '{rule_id}' has no examples", file=out)
    print(
        f"{total} example(s), {failed} failed, {len(engine.rules)} rule(s)"
        + (f", {len(problems)} problem(s)" if problems else ""),
        file=out,
    )
    return 1 if failed or problems else 0


# --------------------------------------------------------------------------- match


def _hit_json(h: Hit, title: str, text: str) -> dict[str, Any]:
    source = title if h.field == "title" else text
    return {**h.to_dict(), "text": source[h.start : h.end]}


def _matches_json(matches: list[RuleMatch], title: str, text: str) -> list[dict[str, Any]]:
    return [
        {"rule": m.rule_id, "hits": [_hit_json(h, title, text) for h in m.hits]} for m in matches
    ]


def _print_human(matches: list[RuleMatch], title: str, text: str, out: TextIO) -> None:
    if not matches:
        print("no rule matched", file=out)
        return
    for m in matches:
        print(f"{m.rule_id} ({m.level.value}): {m.title}", file=out)
        for h in m.hits:
            source = title if h.field == "title" else text
            entity = f" @{h.entity}" if h.entity else ""
            print(
                f"  {h.field} {h.start}-{h.end} {source[h.start : h.end]!r} "
                f"<- {h.term!r} ({h.group}{entity})",
                file=out,
            )
            print("    " + format_spans(source, [(h.start, h.end)], context=_CONTEXT), file=out)


def _read_lines(path: Path) -> Iterator[str]:
    if str(path) == "-":
        yield from sys.stdin
        return
    with path.open(encoding="utf-8", errors="replace") as f:
        yield from f


def _batch(engine: Engine, jsonl: Path, out: TextIO) -> int:
    bad = 0
    for number, line in enumerate(_read_lines(jsonl), 1):
        if not line.strip():
            continue
        item_id: Any = None
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("a line must hold a JSON object")
            item_id = data.get("id")
            text, title = data.get("text", ""), data.get("title", "")
            tags = data.get("tags", [])
            if not isinstance(text, str) or not isinstance(title, str):
                raise ValueError("'text' and 'title' must be strings")
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise ValueError("'tags' must be a list of strings")
            matches = engine.match_text(
                text, title=title, source_id=str(data.get("source", "")), tags=tuple(tags)
            )
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            bad += 1
            _err(f"{jsonl}:{number}: {e}")
            print(json.dumps({"id": item_id, "error": str(e)}, ensure_ascii=False), file=out)
            continue
        record = {"id": item_id, "matches": _matches_json(matches, title, text)}
        print(json.dumps(record, ensure_ascii=False), file=out)
    return 2 if bad else 0


def match_command(
    rules: Path,
    *,
    text: str | None,
    file: Path | None,
    jsonl: Path | None,
    as_json: bool,
    out: TextIO,
) -> int:
    """Which rules match a text (TEXT, --file F, `-` for stdin) or a JSON-lines batch, and where.

    Batch lines are {"id":..,"text":..[,"title":..,"source":..,"tags":[..]]}; each output line
    is {"id":..,"matches":[{"rule":..,"hits":[{field,start,end,term,group,entity,text}]}]},
    offsets in the original text. A single text with --json gives the same object."""
    if sum(x is not None for x in (text, file, jsonl)) != 1:
        _err("give exactly one of TEXT, --file F or --jsonl F")
        return 2
    if _missing(rules):
        return 2
    for p in (file, jsonl):
        if p is not None and str(p) != "-" and _missing(p):
            return 2
    engine, problems = compile_rules(rules)
    for problem in problems:
        _err(f"warning: {problem} (rule skipped)")
    if jsonl is not None:
        return _batch(engine, jsonl, out)
    if file is not None:
        content = (
            sys.stdin.read()
            if str(file) == "-"
            else file.read_text(encoding="utf-8", errors="replace")
        )
        item_id: str | None = str(file)
    else:
        content, item_id = text or "", None
    matches = engine.match_text(content)
    if as_json:
        record = {"id": item_id, "matches": _matches_json(matches, "", content)}
        print(json.dumps(record, ensure_ascii=False), file=out)
    else:
        _print_human(matches, "", content, out)
    return 0
