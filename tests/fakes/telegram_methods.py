"""The Bot API methods of the fake (telegram_api.py), with Telegram's validation and errors.

Each method takes (token, params) and returns the `result` or raises `ApiError`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from tests.fakes.telegram_html import EntityParseError, Parsed, parse_html, trim, utf16_len
from tests.fakes.telegram_model import (
    ApiError,
    FakeChat,
    FloodControl,
    FloodEvent,
    SentMessage,
    as_bool,
    as_int,
    chat_key,
    given_entities,
    preview_options,
    reply_markup,
    too_many_requests,
)

MAX_TEXT = 4096
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_BLOCKED = {
    "private": "Forbidden: bot was blocked by the user",
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}


class BotMethods:
    """Mixin: the state lives in FakeTelegramBotAPI."""

    _lock: threading.RLock
    _updates_cond: threading.Condition
    stopping: threading.Event
    chats: dict[int, FakeChat]
    strict_html: bool
    enforce_limits: bool
    flood: FloodControl
    rate_limited: list[FloodEvent]
    bot_username: str
    webhook_url: str
    allowed_updates: list[str] | None
    commands: dict[tuple[str, str], list[dict[str, Any]]]
    _history: dict[tuple[int, int], SentMessage]
    _sent: list[SentMessage]
    _updates: list[dict[str, Any]]
    _poll_generation: int

    def method_table(self) -> dict[str, Any]:
        return {
            "getme": self.get_me,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "deletemessage": self.delete_message,
            "getupdates": self.get_updates,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "getchat": self.get_chat,
        }

    # --- methods --------------------------------------------------------------------------

    def get_me(self, token: str, params: dict[str, Any]) -> Any:
        return self.bot_user(token) | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def send_message(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.find_chat(params, sending=True)
        parsed = self.parse_text(params)
        markup = reply_markup(params)
        reply_to, reply_parameters = self._reply_target(chat, params)
        now = time.monotonic()
        with self._lock:
            if self.enforce_limits:
                over = self.flood.check(token, chat, now)
                if over is not None:
                    scope, retry_after = over
                    self.rate_limited.append(
                        FloodEvent(now, "sendMessage", chat.id, scope, retry_after)
                    )
                    raise too_many_requests(retry_after)
            self.flood.count(token, chat, now)
            message = SentMessage(
                chat_id=chat.id,
                message_id=chat.take_message_id(),
                text=str(params["text"]),
                text_plain=parsed.text,
                entities=parsed.entities,
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                reply_to_message_id=reply_to,
                reply_parameters=reply_parameters,
                link_preview_options=preview_options(params),
                disable_notification=as_bool(params, "disable_notification"),
                time=now,
                date=int(time.time()),
                token=token,
            )
            self._history[(chat.id, message.message_id)] = message
            self._sent.append(message)
            return self.message_api(message, token)

    def edit_message_text(self, token: str, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self.find_chat(params, sending=True)
        message_id = as_int(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        parsed = self.parse_text(params)
        markup = reply_markup(params)
        with self._lock:
            message = self._history.get((chat.id, message_id))
            if message is None or message.deleted:
                raise ApiError(400, "Bad Request: message to edit not found")
            if not message.from_bot:
                raise ApiError(400, "Bad Request: message can't be edited")
            if (parsed.text, parsed.entities, markup) == (
                message.text_plain,
                message.entities,
                message.reply_markup,
            ):
                raise ApiError(400, NOT_MODIFIED)
            message.versions.append(message.text)
            message.text, message.text_plain = str(params["text"]), parsed.text
            message.entities, message.reply_markup = parsed.entities, markup
            message.parse_mode = params.get("parse_mode") or None
            message.edit_date = int(time.time())
            return self.message_api(message, token)

    def delete_message(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.find_chat(params, sending=True)
        message_id = as_int(params, "message_id")
        with self._lock:
            message = self._history.get((chat.id, message_id or 0))
            if message is None or message.deleted:
                raise ApiError(400, "Bad Request: message to delete not found")
            message.deleted = True
            return True

    def get_updates(self, token: str, params: dict[str, Any]) -> Any:
        offset = as_int(params, "offset", 0) or 0
        limit = min(max(as_int(params, "limit", 100) or 100, 1), 100)
        timeout = max(as_int(params, "timeout", 0) or 0, 0)
        allowed = params.get("allowed_updates")
        with self._updates_cond:
            if self.webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self.allowed_updates = [str(a) for a in allowed] or None
            self._poll_generation += 1
            generation = self._poll_generation
            self._updates_cond.notify_all()  # an earlier long poll ends with 409
            if offset < 0:
                del self._updates[: max(len(self._updates) + offset, 0)]
            elif offset > 0:
                self._updates[:] = [u for u in self._updates if u["update_id"] >= offset]
            deadline = time.monotonic() + timeout
            while True:
                if self._poll_generation != generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                found = [u for u in self._updates if self._wanted(u)][:limit]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0 or self.stopping.is_set():
                    return [json.loads(json.dumps(u)) for u in found]
                self._updates_cond.wait(remaining)

    def set_my_commands(self, token: str, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not _COMMAND.match(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self.commands[_scope_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def get_my_commands(self, token: str, params: dict[str, Any]) -> Any:
        with self._lock:
            return list(self.commands.get(_scope_key(params), []))

    def delete_my_commands(self, token: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self.commands.pop(_scope_key(params), None)
        return True

    def delete_webhook(self, token: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self.webhook_url = ""
            if as_bool(params, "drop_pending_updates"):
                self._updates.clear()
        return True

    def get_webhook_info(self, token: str, params: dict[str, Any]) -> Any:
        with self._lock:
            return {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def get_chat(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.find_chat(params, sending=False)
        return chat.to_api() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    # --- shared checks --------------------------------------------------------------------

    def bot_user(self, token: str) -> dict[str, Any]:
        head = token.split(":", 1)[0]
        return {
            "id": int(head) if head.isdigit() else 1,
            "is_bot": True,
            "first_name": "Monitor Test Bot",
            "username": self.bot_username,
        }

    def find_chat(self, params: dict[str, Any], *, sending: bool) -> FakeChat:
        key = chat_key(params.get("chat_id"))
        if key is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        with self._lock:
            if isinstance(key, str):
                name = key.lstrip("@").lower()
                found = [c for c in self.chats.values() if (c.username or "").lower() == name]
                chat = found[0] if found else None
            else:
                chat = self.chats.get(key)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.blocked and (sending or chat.type != "private"):
            raise ApiError(403, _BLOCKED[chat.type])
        return chat

    def parse_text(self, params: dict[str, Any]) -> Parsed:
        raw = params.get("text")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: message text is empty")
        raw = str(raw)
        mode = str(params.get("parse_mode") or "").lower()
        if not mode:
            parsed = Parsed(raw, given_entities(params, raw))
        elif mode == "html":
            try:
                parsed = parse_html(raw, strict=self.strict_html)
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif mode in ("markdown", "markdownv2"):
            raise ApiError(400, f"Bad Request: the fake Bot API does not model parse_mode {mode}")
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        parsed = trim(parsed)
        if not parsed.text:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(parsed.text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return parsed

    def message_api(self, message: SentMessage, token: str | None) -> dict[str, Any]:
        if message.source is not None:
            return message.source
        chat = self.chats[message.chat_id]
        out: dict[str, Any] = {"message_id": message.message_id, "date": message.date}
        if chat.type == "channel" or not message.from_bot:
            out["sender_chat"] = chat.to_api()
        else:
            out["from"] = self.bot_user(token or "")
        out["chat"] = chat.to_api()
        out["text"] = message.text_plain
        if message.entities:
            out["entities"] = message.entities
        if message.reply_markup:
            out["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        replied = self._history.get((message.chat_id, message.reply_to_message_id or 0))
        if replied is not None:
            out["reply_to_message"] = self.message_api(replied, replied.token)
        return out

    def _reply_target(
        self, chat: FakeChat, params: dict[str, Any]
    ) -> tuple[int | None, dict[str, Any] | None]:
        reply_parameters = params.get("reply_parameters")
        if reply_parameters is not None and not isinstance(reply_parameters, dict):
            raise ApiError(400, "Bad Request: can't parse reply parameters JSON object")
        target = as_int(reply_parameters or {}, "message_id") or as_int(
            params, "reply_to_message_id"
        )
        if target is None:
            return None, reply_parameters
        lenient = as_bool(reply_parameters or {}, "allow_sending_without_reply") or as_bool(
            params, "allow_sending_without_reply"
        )
        with self._lock:
            replied = self._history.get((chat.id, target))
        if replied is None or replied.deleted:
            if lenient:
                return None, reply_parameters
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target, reply_parameters

    def _wanted(self, update: dict[str, Any]) -> bool:
        if not self.allowed_updates:
            return True
        return any(kind in update for kind in self.allowed_updates)


def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
