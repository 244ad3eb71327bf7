"""Slack's checks of a message payload, and what Slack would interpret in it.

`validate_blocks(blocks)` raises `BlockError` with messages in Slack's format
("[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"); Slack answers
them as `invalid_blocks` (a list that is not a list of objects: `invalid_blocks_format`).
Limits: 50 blocks, section text 3000, section fields 10 of 2000, header text 150 (plain_text),
context 1..10 elements, actions 1..25 elements, block_id 255 and unique.

`mrkdwn_strings(payload)` lists every string Slack parses as mrkdwn (top-level text,
attachments' text, mrkdwn text objects in blocks); `special_tokens(payload)` lists every
control sequence in them that Slack would turn into a mention, a channel link or a link with
other text: `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`, `<http://x|click>`, rich_text
broadcast/user/channel/link elements, and, with `link_names`/`parse=full`, bare `@here`.
"""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BLOCK_ID = 255
MARKDOWN_BLOCK_TEXT = 12000
MAX_TEXT = 40000  # longer top-level text is truncated by Slack
BLOCK_TYPES = frozenset(
    {"section", "header", "context", "divider", "actions", "image", "rich_text", "input"}
    | {"file", "video", "markdown"}
)
_CONTROL = re.compile(r"<[^<>\n]*>")
_BARE_MENTION = re.compile(r"(?<![\w<])@(channel|here|everyone|[\w.-]+)")
_ENTITY = re.compile(r"&(amp|lt|gt);")


class BlockError(ValueError):
    def __init__(self, messages: list[str], error: str = "invalid_blocks") -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.error = error


def validate_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise BlockError(
            ["[ERROR] expected an array of objects [json-pointer:/blocks]"], "invalid_blocks_format"
        )
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(_err(f"no more than {MAX_BLOCKS} items allowed", "/blocks"))
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 1 <= len(block_id) <= BLOCK_ID:
                errors.append(
                    _err(f"must be less than {BLOCK_ID + 1} characters", where + "/block_id")
                )
            elif block_id in seen:
                errors.append(_err("duplicate block_id", where + "/block_id"))
            else:
                seen.add(block_id)
        errors.extend(_check_block(block, where))
    if errors:
        raise BlockError(errors)


def _check_block(block: dict[str, Any], where: str) -> list[str]:
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [_err(f"unsupported type: {kind}", where + "/type")]
    errors: list[str] = []
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(_err("must provide either text or fields", where))
        if "text" in block:
            errors.extend(_text_object(block["text"], where + "/text", SECTION_TEXT))
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
                errors.append(_err(f"must have 1 to {MAX_FIELDS} items", where + "/fields"))
            else:
                for i, field in enumerate(fields):
                    errors.extend(_text_object(field, f"{where}/fields/{i}", FIELD_TEXT))
    elif kind == "header":
        errors.extend(
            _text_object(block.get("text"), where + "/text", HEADER_TEXT, plain_only=True)
        )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= CONTEXT_ELEMENTS:
            errors.append(_err(f"must have 1 to {CONTEXT_ELEMENTS} items", where + "/elements"))
        else:
            for i, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") == "image":
                    if not element.get("image_url") or not element.get("alt_text"):
                        errors.append(
                            _err("image needs image_url and alt_text", f"{where}/elements/{i}")
                        )
                else:
                    errors.extend(_text_object(element, f"{where}/elements/{i}", SECTION_TEXT))
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= ACTIONS_ELEMENTS:
            errors.append(_err(f"must have 1 to {ACTIONS_ELEMENTS} items", where + "/elements"))
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            errors.append(_err("missing required field: image_url", where))
        if not block.get("alt_text"):
            errors.append(_err("missing required field: alt_text", where))
    elif kind == "rich_text":
        if not isinstance(block.get("elements"), list):
            errors.append(_err("missing required field: elements", where))
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MARKDOWN_BLOCK_TEXT:
            errors.append(_err(f"must be 1 to {MARKDOWN_BLOCK_TEXT} characters", where + "/text"))
    return errors


def _text_object(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [_err("must be an object", where)]
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        return [_err(f"must be one of {', '.join(kinds)}", where + "/type")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", where + "/text")]
    if len(text) > limit:
        return [_err(f"must be less than {limit + 1} characters", where + "/text")]
    return []


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


# --- what Slack interprets -----------------------------------------------------------------


def mrkdwn_strings(payload: dict[str, Any]) -> list[str]:
    """Every string of the payload that Slack parses for control sequences."""
    found: list[str] = []
    if isinstance(payload.get("text"), str):
        found.append(payload["text"])
    for attachment in payload.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        for key in ("pretext", "text", "fallback", "title", "footer"):
            if isinstance(attachment.get(key), str):
                found.append(attachment[key])
        for field in attachment.get("fields") or []:
            if isinstance(field, dict) and isinstance(field.get("value"), str):
                found.append(field["value"])
        _walk_mrkdwn(attachment.get("blocks"), found)
    _walk_mrkdwn(payload.get("blocks"), found)
    return found


def _walk_mrkdwn(node: Any, found: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_mrkdwn(item, found)
    elif isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "markdown") and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            if isinstance(value, list | dict):
                _walk_mrkdwn(value, found)


def special_tokens(payload: dict[str, Any]) -> list[str]:
    """Every control sequence Slack would interpret, as written (or as `<!here>`-style for
    rich_text elements)."""
    tokens: list[str] = []
    bare = payload.get("link_names") in (True, 1, "1", "true") or payload.get("parse") == "full"
    for text in mrkdwn_strings(payload):
        tokens.extend(_CONTROL.findall(text))
        if bare:
            tokens.extend(f"@{m}" for m in _BARE_MENTION.findall(_ENTITY.sub(" ", text)))
    _walk_rich(payload.get("blocks"), tokens)
    return tokens


def _walk_rich(node: Any, tokens: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_rich(item, tokens)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind == "broadcast":
            tokens.append(f"<!{node.get('range', '')}>")
        elif kind == "user":
            tokens.append(f"<@{node.get('user_id', '')}>")
        elif kind == "channel":
            tokens.append(f"<#{node.get('channel_id', '')}>")
        elif kind == "usergroup":
            tokens.append(f"<!subteam^{node.get('usergroup_id', '')}>")
        elif kind == "link" and node.get("text"):
            tokens.append(f"<{node.get('url', '')}|{node['text']}>")
        for value in node.values():
            if isinstance(value, list | dict):
                _walk_rich(value, tokens)


def unescaped(payload: dict[str, Any]) -> list[str]:
    """The mrkdwn strings that still hold a raw `<`, `>` or an `&` that starts no entity."""
    return [t for t in mrkdwn_strings(payload) if re.search(r"[<>]|&(?!amp;|lt;|gt;)", t)]
