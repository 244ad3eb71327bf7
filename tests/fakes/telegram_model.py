"""Records, request parameters and flood control of the fake Bot API (telegram_api.py)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.http_base import Incoming
from tests.fakes.telegram_html import utf16_len, utf16_slice

CHAT_TYPES = ("private", "group", "supergroup", "channel")
# parameters that travel as JSON strings in form-encoded and multipart requests
JSON_PARAMS = frozenset(
    [
        "reply_markup",
        "entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
    ]
)
_INT = re.compile(r"^-?\d+$")
_BUTTON_URL = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass
class FakeChat:
    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    blocked: bool = False  # the user blocked the bot / the bot was kicked or is not a member
    migrated_to: int | None = None  # a group upgraded to this supergroup
    next_message_id: int = 1

    def to_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or "User"
        else:
            chat["title"] = self.title or f"Chat {self.id}"
        if self.username:
            chat["username"] = self.username
        return chat

    def take_message_id(self) -> int:
        value = self.next_message_id
        self.next_message_id += 1
        return value


@dataclass
class SentMessage:
    """A message in a chat: sent by the bot (`from_bot`) or pushed as an update by a test."""

    chat_id: int
    message_id: int
    text: str  # as sent (markup included)
    text_plain: str  # after entity parsing: what a reader sees
    entities: list[dict[str, Any]]
    parse_mode: str | None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    reply_parameters: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    disable_notification: bool = False
    time: float = 0.0  # time.monotonic() when accepted
    date: int = 0  # unix time, as in the API
    from_bot: bool = True
    token: str | None = None
    edit_date: int | None = None
    versions: list[str] = field(default_factory=list)  # earlier raw texts, oldest first
    deleted: bool = False
    source: dict[str, Any] | None = None  # the Message object of a pushed update

    def spans(self, entity_type: str) -> list[str]:
        """The plain text under every entity of `entity_type`, in order."""
        return [
            utf16_slice(self.text_plain, e["offset"], e["length"])
            for e in self.entities
            if e["type"] == entity_type
        ]

    @property
    def bold_spans(self) -> list[str]:
        return self.spans("bold")

    @property
    def links(self) -> list[tuple[str, str]]:
        """(text, url) of every text_link."""
        return [
            (utf16_slice(self.text_plain, e["offset"], e["length"]), e["url"])
            for e in self.entities
            if e["type"] == "text_link"
        ]


@dataclass
class TgRequest:
    method: str  # as written in the URL
    params: dict[str, Any]
    time: float  # time.monotonic() at arrival
    token: str
    http_method: str
    status: int | None = None  # None until answered; stays None when the connection was dropped
    description: str | None = None  # of an error answer

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class FloodEvent:
    time: float
    method: str
    chat_id: int | str | None
    scope: str  # "chat" (private), "group" (per minute), "global" (per second), "injected"
    retry_after: int


@dataclass
class FloodLimits:
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


class FloodControl:
    """Per bot token: a token bucket per private chat, 60 s windows per group/channel, 1 s
    window over all chats. Only accepted messages count."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}  # (tokens, at)
        self._groups: dict[tuple[str, int], deque[float]] = {}
        self._global: dict[str, deque[float]] = {}

    def check(self, token: str, chat: FakeChat, now: float) -> tuple[str, int] | None:
        """(scope, retry_after) when one more message to `chat` now is over a limit."""
        lim = self.limits
        window = self._trim(self._global.setdefault(token, deque()), now - 1.0)
        if len(window) >= lim.global_per_second:
            return "global", max(1, math.ceil(window[0] + 1.0 - now))
        key = (token, chat.id)
        if chat.type == "private":
            tokens = self._tokens(key, now)
            if tokens < 1.0:
                return "chat", max(1, math.ceil((1.0 - tokens) / lim.private_per_second))
        else:
            group = self._trim(self._groups.setdefault(key, deque()), now - 60.0)
            if len(group) >= lim.group_per_minute:
                return "group", max(1, math.ceil(group[0] + 60.0 - now))
        return None

    def count(self, token: str, chat: FakeChat, now: float) -> None:
        """One accepted message."""
        key = (token, chat.id)
        self._global.setdefault(token, deque()).append(now)
        if chat.type == "private":
            self._buckets[key] = (self._tokens(key, now) - 1.0, now)
        else:
            self._groups.setdefault(key, deque()).append(now)

    def _tokens(self, key: tuple[str, int], now: float) -> float:
        lim = self.limits
        tokens, at = self._buckets.get(key, (float(lim.private_burst), now))
        return min(float(lim.private_burst), tokens + (now - at) * lim.private_per_second)

    @staticmethod
    def _trim(window: deque[float], horizon: float) -> deque[float]:
        while window and window[0] <= horizon:
            window.popleft()
        return window


def parse_params(request: Incoming) -> dict[str, Any]:
    """Query string and body (JSON, form-urlencoded or multipart) merged, JSON fields decoded."""
    params: dict[str, Any] = dict(request.query_params())
    ctype = request.headers.get("content-type", "").lower()
    body = request.body
    if body:
        if ctype.startswith("application/json"):
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            params.update(decoded)
        elif ctype.startswith("multipart/form-data"):
            params.update(_multipart(request.headers["content-type"], body))
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for name in JSON_PARAMS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except ValueError as exc:
                what = "reply keyboard markup" if name == "reply_markup" else name
                raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from exc
    return params


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        if part.get_filename():
            fields[name] = payload
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[name] = payload.decode(charset, "replace")
    return fields


def as_int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value)
    raise ApiError(400, f"Bad Request: invalid {name} specified")


def as_bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def chat_key(value: Any) -> int | str | None:
    """A chat_id parameter as an int, or "@username"."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if _INT.match(text) else text


def given_entities(params: dict[str, Any], text: str) -> list[dict[str, Any]]:
    entities = params.get("entities")
    if entities is None:
        return []
    total = utf16_len(text)
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise ApiError(400, "Bad Request: can't parse entities JSON object")
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or "type" not in entity:
            raise ApiError(400, "Bad Request: can't parse entities JSON object")
        if offset < 0 or length < 1 or offset + length > total:
            raise ApiError(400, "Bad Request: entity beginning/end is out of the text")
    return [dict(e) for e in entities]


def reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard JSON object")
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not str(button.get("text", "")).strip():
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text is empty")
        if "url" in button and not _BUTTON_URL.match(str(button["url"])):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if len(button) == 1:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )
    return markup


def preview_options(params: dict[str, Any]) -> dict[str, Any] | None:
    options = params.get("link_preview_options")
    if isinstance(options, dict):
        return options
    if as_bool(params, "disable_web_page_preview"):
        return {"is_disabled": True}
    return None
