"""Regex terms on RE2: linear time in the text, whatever the pattern; compiled once, at load.

A regex runs on the normalized text (lower case, no tashkeel, one alef, ه for ة, spaces for
hyphens/underscores/quotes), case-insensitively. Its non-ASCII characters are normalized the
same way (so هدنة in a pattern means هدنه); ASCII is left alone so escapes keep their meaning.

Rejected at load, with the rule's file:line:
- what RE2 cannot run in linear time (backreferences, look-around) or cannot parse;
- patterns whose compiled program is too big (huge counted repetitions: `(x{100}){100}`);
- patterns that can match the empty text (they would hit everywhere);
- patterns longer than MAX_PATTERN characters.
"""

from __future__ import annotations

from typing import Any

import re2

from monitor.text.normalize import fold_char

__all__ = ["MAX_PATTERN", "MAX_PROGRAM", "RegexError", "compile_regex", "regex_options"]

MAX_PATTERN = 1000
MAX_PROGRAM = 10_000
_MAX_MEM = 4 << 20
_EMPTY_PROBES = ("", "a", " ", "ا", "1", ".")


class RegexError(ValueError):
    """The pattern cannot be used."""


def regex_options() -> Any:
    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False
    opts.max_mem = _MAX_MEM
    return opts


def normalize_pattern(pattern: str) -> str:
    return "".join(c if c < "\x80" else fold_char(c) for c in pattern)


def compile_regex(pattern: str) -> tuple[str, Any]:
    """The normalized pattern and its compiled RE2 object. Raises RegexError."""
    if not pattern:
        raise RegexError("regex is empty")
    if len(pattern) > MAX_PATTERN:
        raise RegexError(f"regex is longer than {MAX_PATTERN} characters")
    norm = normalize_pattern(pattern)
    try:
        rx = re2.compile(norm, regex_options())
    except re2.error as e:
        detail = str(e).strip("b'\"")
        raise RegexError(
            f"regex rejected by the linear-time engine (RE2): {detail} "
            "(backreferences and look-around are not supported)"
        ) from None
    if rx.programsize > MAX_PROGRAM:
        raise RegexError(
            f"regex is too complex (program size {rx.programsize} > {MAX_PROGRAM}); "
            "use smaller counted repetitions"
        )
    for probe in _EMPTY_PROBES:
        m = rx.search(probe)
        if m is not None and m.start() == m.end():
            raise RegexError("regex can match an empty text, so it would hit everywhere")
    return norm, rx
