"""HTML fragments from feeds to plain text (pure).

Block elements become line breaks (phrase matching must not run across paragraphs), scripts and
styles are dropped, entities decoded once (the matcher decodes a second, escaped layer itself).
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser

_BLOCK_END = re.compile(
    r"<\s*(?:br|hr)\b[^>]*>|<\s*/\s*(?:p|div|li|h[1-6]|tr|blockquote|pre|table|ul|ol|section|"
    r"article|header|footer|figcaption)\s*>",
    re.IGNORECASE,
)
_TAGLIKE = re.compile(r"<[A-Za-z!/?]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


def html_to_text(fragment: str) -> str:
    if not fragment:
        return ""
    if not _TAGLIKE.search(fragment):
        return tidy(html.unescape(fragment))
    marked = _BLOCK_END.sub("\n", fragment)
    tree = LexborHTMLParser(marked)
    tree.strip_tags(["script", "style", "noscript", "template", "iframe", "object"])
    root = tree.body or tree.root
    text = root.text(deep=True, separator="", strip=False) if root is not None else ""
    return tidy(text)


def tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    joined = "\n".join(lines).strip()
    return _BLANKS.sub("\n\n", joined)
