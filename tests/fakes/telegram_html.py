"""Telegram's `parse_mode=HTML`, as the Bot API server (tdlib's parse_html) applies it.

`parse_html(text)` returns the plain text and the entities a client would receive, or raises
`EntityParseError` with tdlib's wording ("Unsupported start tag \"div\" at byte offset 0",
"Can't find end tag corresponding to start tag \"b\"", ...); the Bot API prefixes it with
"Bad Request: can't parse entities: ". Offsets and lengths are in UTF-16 code units.

`strict=True` (the default of the fake) is stricter than the real server in three places, so
that a sender that forgets to escape is caught by the tests:

- a bare `&` or an unknown `&name;` is an error (the real server keeps it as literal text);
- an `<a href>` that is not an http, https or tg URL is an error (the real server quietly
  drops the link and keeps the text);
- a numeric entity must name a valid code point.

With `strict=False` those three behave like the real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
ALLOWED_TAGS = frozenset({*_SIMPLE, "a", "code", "pre", "tg-emoji", "blockquote"})
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_LAX_SCHEMES = ("http://", "https://", "tg://", "ton://", "tonsite://")
_STRICT_SCHEMES = ("http://", "https://", "tg://")
_HOSTLIKE = re.compile(r"^[\w.-]+\.[a-z]{2,}(?:[/:?#].*)?$", re.IGNORECASE)


class EntityParseError(ValueError):
    """The text after "Bad Request: can't parse entities: "."""


@dataclass(frozen=True)
class Parsed:
    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def _is_space(ch: str) -> bool:
    return ch in " \t\n\r\x0b\x0c"


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output
    start: int  # index in the output list


def parse_html(text: str, *, strict: bool = True) -> Parsed:
    out: list[str] = []
    pos16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    n = len(text)
    i = 0

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, end = _entity(text, i, strict, byte_offset)
            if decoded is not None:
                out.append(decoded)
                pos16 += utf16_len(decoded)
                i = end
                continue
        if ch != "<":
            out.append(ch)
            pos16 += utf16_len(ch)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            i += 2
            while i < n and not _is_space(text[i]) and text[i] != ">":
                i += 1
            end_name = text[begin + 2 : i].lower()
            while i < n and _is_space(text[i]):
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            top = stack.pop()
            if end_name and end_name != top.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{top.tag}>", found "</{end_name}>"'
                )
            if pos16 > top.offset:
                _close(top, pos16 - top.offset, "".join(out[top.start :]), entities, strict)
            continue
        i += 1
        while i < n and not _is_space(text[i]) and text[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = text[begin + 1 : i].lower()
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
            )
        argument, i = _attributes(text, i, tag, begin, strict, byte_offset)
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        stack.append(_Open(tag, argument, pos16, len(out)))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return Parsed("".join(out), entities)


def _entity(
    text: str, i: int, strict: bool, byte_offset: Callable[[int], int]
) -> tuple[str | None, int]:
    """Decode the character reference at text[i] == "&"; (None, i) when there is none."""
    n = len(text)
    end = i + 1
    value: str | None = None
    if end < n and text[end] == "#":
        end += 1
        base, digits = 10, "0123456789"
        if end < n and text[end] in "xX":
            base, digits, end = 16, "0123456789abcdefABCDEF", end + 1
        start = end
        while end < n and text[end] in digits:
            end += 1
        code = int(text[start:end], base) if end > start else -1
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            value = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        value = _NAMED.get(text[i + 1 : end])
    if value is None:
        if strict:
            raise EntityParseError(
                f'Unescaped "&" or unsupported entity "{text[i : end + 1]}" '
                f"at byte offset {byte_offset(i)}"
            )
        return None, i
    if end < n and text[end] == ";":
        end += 1
    return value, end


def _attributes(
    text: str, i: int, tag: str, begin: int, strict: bool, byte_offset: Callable[[int], int]
) -> tuple[str, int]:
    n = len(text)
    argument = ""
    where = f'the tag "{tag}" at byte offset {byte_offset(begin)}'
    while i < n and text[i] != ">":
        while i < n and _is_space(text[i]):
            i += 1
        if i < n and text[i] == ">":
            break
        name_start = i
        while i < n and not _is_space(text[i]) and text[i] != "=":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise EntityParseError(f"Empty attribute name in {where}")
        while i < n and _is_space(text[i]):
            i += 1
        if i >= n or text[i] != "=":
            raise EntityParseError(f"Expected equal sign in declaration of an attribute of {where}")
        i += 1
        while i < n and _is_space(text[i]):
            i += 1
        if i >= n:
            raise EntityParseError(
                f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
            )
        if text[i] not in "'\"":
            token_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i >= n or (not _is_space(text[i]) and text[i] != ">"):
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {byte_offset(token_start)}"
                )
        else:
            quote = text[i]
            i += 1
            parts: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded, end = _entity(text, i, strict, byte_offset)
                    if decoded is not None:
                        parts.append(decoded)
                        i = end
                        continue
                parts.append(text[i])
                i += 1
            value = "".join(parts)
            if i < n:
                i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return argument, i + 1


def _close(
    top: _Open, length: int, inner: str, entities: list[dict[str, Any]], strict: bool
) -> None:
    entity: dict[str, Any] = {"offset": top.offset, "length": length}
    if top.tag in _SIMPLE:
        entity["type"] = _SIMPLE[top.tag]
    elif top.tag == "a":
        url = _check_link(top.argument or inner, strict)
        if url is None:
            return
        entity.update(type="text_link", url=url)
    elif top.tag == "code":
        entity["type"] = "code"
        if top.argument:
            entity["language"] = top.argument
    elif top.tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == top.offset
            and last["length"] == length
            and "language" in last
        ):
            last["type"] = "pre"  # <pre><code class="language-x"> is one pre entity
            return
        entity["type"] = "pre"
    elif top.tag == "blockquote":
        entity["type"] = "expandable_blockquote" if top.argument else "blockquote"
    elif top.tag == "tg-emoji":
        if not top.argument.isdigit():
            raise EntityParseError(
                "Custom emoji entity must contain a valid custom emoji identifier"
            )
        entity.update(type="custom_emoji", custom_emoji_id=top.argument)
    entities.append(entity)


def _check_link(url: str, strict: bool) -> str | None:
    """The URL of a text_link, None when the real server would drop it."""
    lowered = url.strip().lower()
    if strict:
        if not lowered.startswith(_STRICT_SCHEMES) or len(lowered) <= lowered.index("//") + 2:
            raise EntityParseError(f'Wrong URL "{url}" in a text link: only http(s) and tg links')
        return url.strip()
    if lowered.startswith(_LAX_SCHEMES):
        return url.strip()
    if "://" not in lowered and _HOSTLIKE.match(lowered):
        return "http://" + url.strip() + ("" if "/" in url else "/")
    return None


def trim(parsed: Parsed) -> Parsed:
    """Leading and trailing whitespace removed, entities moved and clipped, as Telegram does."""
    text = parsed.text
    stripped = text.lstrip("".join(chr(c) for c in range(33)))
    lead = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip("".join(chr(c) for c in range(33)))
    total = utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return Parsed(stripped, entities)
