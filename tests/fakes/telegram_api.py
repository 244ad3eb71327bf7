"""A local fake of the Telegram Bot API (https://api.telegram.org), for tests.

    with FakeTelegramBotAPI() as srv:
        srv.add_chat(42, "private")
        srv.add_chat(-1001234, "channel", title="Alerts", username="alerts")
        bot = telegram.Bot(srv.token, base_url=srv.base_url + "/bot")
        await bot.send_message(42, "<b>عاجل</b>", parse_mode="HTML")
        srv.messages(42)[0].bold_spans                        # ["عاجل"]
        srv.fail_next("sendMessage", status=429, retry_after=3)  # -> telegram.error.RetryAfter
        srv.channel_post(-1001234, "قصف على قاعدة عين الأسد")    # an update for getUpdates

Requests go to `{base_url}/bot<token>/<method>` (GET or POST; JSON, form-urlencoded or
multipart bodies, as python-telegram-bot sends them) and are answered like Telegram:
`{"ok":true,"result":...}` or `{"ok":false,"error_code":N,"description":"..."}` with the same
HTTP status, 429 with `parameters.retry_after`, 401 for a token not in `tokens`, 404 for an
unknown method. Methods: getMe, sendMessage, editMessageText, deleteMessage, getUpdates,
setMyCommands, getMyCommands, deleteMyCommands, deleteWebhook, getWebhookInfo, getChat
(validation in telegram_methods.py, HTML in telegram_html.py).

Flood control (`enforce_limits = True`, limits in `srv.flood.limits`): about 1 message/s per
private chat with a burst of 3, 20 per minute per group/supergroup/channel, 30 per second per
bot; each 429 is recorded in `srv.rate_limited`. Only sendMessage is limited.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from tests.fakes.faults import Fault, Faults
from tests.fakes.http_base import FakeServer, Incoming, Reply
from tests.fakes.telegram_html import parse_html, utf16_len
from tests.fakes.telegram_methods import BotMethods
from tests.fakes.telegram_model import (
    CHAT_TYPES,
    ApiError,
    FakeChat,
    FloodControl,
    FloodEvent,
    FloodLimits,
    SentMessage,
    TgRequest,
    chat_key,
    parse_params,
    too_many_requests,
)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests_0123456789abcdef"
_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z_]+)/?$")
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class FakeTelegramBotAPI(BotMethods, FakeServer):
    server_header = "nginx/1.18.0"

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        chats: Iterable[FakeChat] = (),
        bot_username: str = "monitor_test_bot",
        strict_html: bool = True,
        enforce_limits: bool = False,
        limits: FloodLimits | None = None,
        first_update_id: int = 700_000_001,
    ) -> None:
        super().__init__()
        accepted = list(tokens)
        self.token = accepted[0]
        self.tokens = set(accepted)
        self.bot_username = bot_username
        self.strict_html = strict_html
        self.enforce_limits = enforce_limits
        self.flood = FloodControl(limits or FloodLimits())
        self.chats = {c.id: c for c in chats}
        self.requests: list[TgRequest] = []
        self.rate_limited: list[FloodEvent] = []
        self.faults = Faults()
        self.webhook_url = ""
        self.allowed_updates = None
        self.commands = {}
        self._history = {}
        self._sent = []
        self._updates = []
        self._next_update_id = first_update_id
        self._updates_cond = threading.Condition(self._lock)
        self._poll_generation = 0
        self._methods = self.method_table()

    # --- chats ----------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        blocked: bool = False,
    ) -> FakeChat:
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}")
        with self._lock:
            chat = FakeChat(chat_id, type, title, username, first_name, blocked)
            self.chats[chat_id] = chat
            return chat

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The user blocks the bot (private), or the bot is kicked (group) / removed (channel)."""
        with self._lock:
            self.chats[chat_id].blocked = blocked

    def migrate(self, group_id: int, supergroup_id: int) -> FakeChat:
        """Upgrade a group: sends to it answer 400 with `migrate_to_chat_id`."""
        with self._lock:
            old = self.chats[group_id]
            old.migrated_to = supergroup_id
            return self.add_chat(supergroup_id, "supergroup", title=old.title)

    # --- faults ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = "sendMessage",
        status: int = 429,
        retry_after: int = 2,
        times: int = 1,
        chat_id: int | str | None = None,
        *,
        description: str | None = None,
        deliver: bool = False,
    ) -> None:
        """The next `times` calls of `method` (None: any) answer `status`; 429 carries
        `retry_after`. `deliver=True`: the message is sent anyway, only the answer fails."""
        self.faults.add(
            Fault(
                "fail",
                method,
                _target(chat_id),
                status,
                retry_after,
                description,
                remaining=times,
                deliver=deliver,
            )
        )

    def fail_every(
        self,
        n: int,
        status: int = 429,
        retry_after: int | tuple[int, ...] = 1,
        *,
        method: str = "sendMessage",
        description: str | None = None,
    ) -> None:
        """Every n-th call of `method` (counted from now) fails with `status`; a tuple of
        retry_after values is used in turn (1, 2, 3, 1, ...)."""
        self.faults.every(n, method, status, retry_after, description)

    def delay_next(
        self, seconds: float, method: str | None = None, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next call(s) `seconds` late. The work is done first (a slow Telegram
        still delivers the message: a client that timed out and retries makes a duplicate)."""
        self.faults.add(Fault("delay", method, _target(chat_id), seconds=seconds, remaining=times))

    def drop_connection_next(
        self, method: str | None = None, times: int = 1, *, deliver: bool = False
    ) -> None:
        """Close the connection without answering (`deliver=True`: after sending)."""
        self.faults.add(Fault("drop", method, None, remaining=times, deliver=deliver))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- updates --------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for getUpdates; an `update_id` is given when missing."""
        with self._updates_cond:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
            self._updates.append(update)
            self._updates_cond.notify_all()
            return int(update["update_id"])

    def channel_post(
        self,
        chat_id: int,
        text: str,
        message_id: int | None = None,
        edit: bool = False,
        *,
        html: bool = False,
        title: str | None = None,
    ) -> dict[str, Any]:
        """A post in a channel (created when unknown) as channel_post / edited_channel_post.
        `html=True` reads `text` as Telegram HTML and sends the plain text with entities.
        In a channel where the bot is not a member (`blocked`), no update is queued: the
        returned update has no update_id (a bot sees channel posts only where it is a member)."""
        with self._lock:
            chat = self.chats.get(chat_id) or self.add_chat(
                chat_id, "channel", title=title or f"قناة {chat_id}"
            )
            body = self._message_body(chat, text, message_id, edit, html)
            body["sender_chat"] = chat.to_api()
            self._remember(chat, body)
            update: dict[str, Any] = {"edited_channel_post" if edit else "channel_post": body}
            if not chat.blocked:
                update["update_id"] = self.push_update(update)
            return update

    def user_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        first_name: str = "Test",
        username: str | None = None,
        message_id: int | None = None,
        edit: bool = False,
        html: bool = False,
    ) -> dict[str, Any]:
        """A user's message (a command such as "/subscribe x" gets its bot_command entity)
        in a private chat (chat_id == user_id) or a group; unknown chats are created."""
        with self._lock:
            chat = self.chats.get(chat_id)
            if chat is None:
                kind = "private" if chat_id == user_id else "supergroup"
                chat = self.add_chat(chat_id, kind, first_name=first_name, username=username)
            body = self._message_body(chat, text, message_id, edit, html)
            sender = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                sender["username"] = username
            body["from"] = sender | {"language_code": "ar"}
            self._remember(chat, body)
            update: dict[str, Any] = {"edited_message" if edit else "message": body}
            update["update_id"] = self.push_update(update)
            return update

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by an offset."""
        with self._lock:
            return [dict(u) for u in self._updates]

    # --- what arrived ---------------------------------------------------------------------

    def messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (edits applied, deleted ones flagged), in order."""
        with self._lock:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        with self._lock:
            return self._history[(chat_id, message_id)]

    def sent_times(self, chat_id: int | None = None) -> list[float]:
        """time.monotonic() of every accepted sendMessage (to `chat_id`)."""
        return [m.time for m in self.messages(chat_id)]

    def calls(self, method: str) -> list[TgRequest]:
        with self._lock:
            return [r for r in self.requests if r.method.lower() == method.lower()]

    # --- HTTP -----------------------------------------------------------------------------

    def on_stop(self) -> None:
        with self._updates_cond:
            self._updates_cond.notify_all()

    def handle(self, request: Incoming) -> Reply:
        match = _PATH.match(request.path)
        if match is None:
            return _json(404, ApiError(404, "Not Found").payload())
        token, method = match.groups()
        error: ApiError | None = None
        try:
            params = parse_params(request)
        except ApiError as exc:
            params, error = {}, exc
        record = TgRequest(method, params, time.monotonic(), token, request.method)
        with self._lock:
            self.requests.append(record)
        if token not in self.tokens:
            return self._answer(record, ApiError(401, "Unauthorized"))
        impl = self._methods.get(method.lower())
        if impl is None:
            return self._answer(record, ApiError(404, "Not Found"))
        key = chat_key(params.get("chat_id"))
        if isinstance(key, str):  # "@username": faults are keyed by the chat id
            with self._lock:
                name = key.lstrip("@").lower()
                key = next(
                    (c.id for c in self.chats.values() if (c.username or "").lower() == name), key
                )
        delay, failure = self.faults.take(method, None if key is None else str(key))
        seconds = delay.seconds if delay is not None else 0.0
        if failure is not None and not failure.deliver:
            return self._fault(record, failure, seconds)
        if error is None:
            try:
                result = impl(token, params)
            except ApiError as exc:
                error = exc
        if failure is not None:
            return self._fault(record, failure, seconds)
        if error is not None:
            return self._answer(record, error, seconds)
        return self._answer(record, {"ok": True, "result": result}, seconds)

    def _fault(self, record: TgRequest, fault: Fault, delay: float) -> Reply:
        if fault.kind == "drop":
            return Reply(drop=True, delay=delay)
        if fault.status == 429:
            retry_after = int(fault.retry_after or 1)
            with self._lock:
                self.rate_limited.append(
                    FloodEvent(record.time, record.method, record.chat_id, "injected", retry_after)
                )
            return self._answer(record, too_many_requests(retry_after), delay)
        text = _STATUS_TEXT.get(fault.status, "Error")
        description = fault.description or text
        if fault.status == 400 and not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return self._answer(record, ApiError(fault.status, description), delay)

    def _answer(self, record: TgRequest, outcome: Any, delay: float = 0.0) -> Reply:
        if isinstance(outcome, ApiError):
            status, payload = outcome.code, outcome.payload()
            record.description = outcome.description
        else:
            status, payload = 200, outcome
        record.status = status
        reply = _json(status, payload)
        reply.delay = delay
        return reply

    # --- internals ------------------------------------------------------------------------

    def _message_body(
        self, chat: FakeChat, text: str, message_id: int | None, edit: bool, html: bool
    ) -> dict[str, Any]:
        if message_id is None:
            message_id = chat.next_message_id - 1 if edit else chat.take_message_id()
        else:
            chat.next_message_id = max(chat.next_message_id, message_id + 1)
        plain, entities = text, _commands(text)
        if html:
            parsed = parse_html(text, strict=False)
            plain, entities = parsed.text, parsed.entities
        now = int(time.time())
        body: dict[str, Any] = {"message_id": message_id, "date": now, "chat": chat.to_api()}
        body["text"] = plain
        if entities:
            body["entities"] = entities
        if edit:
            body["edit_date"] = now
        return body

    def _remember(self, chat: FakeChat, body: dict[str, Any]) -> None:
        self._history[(chat.id, body["message_id"])] = SentMessage(
            chat_id=chat.id,
            message_id=body["message_id"],
            text=body["text"],
            text_plain=body["text"],
            entities=body.get("entities", []),
            parse_mode=None,
            time=time.monotonic(),
            date=body["date"],
            from_bot=False,
            source=body,
        )


def _commands(text: str) -> list[dict[str, Any]]:
    """bot_command entities, as Telegram marks them in a user's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


def _target(chat_id: int | str | None) -> str | None:
    return None if chat_id is None else str(chat_key(chat_id))


def _json(status: int, payload: Any) -> Reply:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, content_type="application/json")
