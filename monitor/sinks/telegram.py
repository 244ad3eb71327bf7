"""Telegram sink: python-telegram-bot's Bot (base URL configurable), HTML parse mode.

Rendering (escaping, splitting under 4096 UTF-16 units, isolates) is in render_telegram; this
module sends, maps python-telegram-bot's errors onto our tree, and names the pacing buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from monitor.config.schema import TelegramConfig, TelegramSinkConfig
from monitor.errors import DeliveryRateLimited, PermanentDeliveryError, TransientDeliveryError
from monitor.identity import digest
from monitor.logging import redact_text
from monitor.model import Alert
from monitor.sinks import render_telegram as render
from monitor.sinks.base import Limit
from monitor.telegram_client import BotPool

OPEN_LABEL = "فتح الخبر · Open"


class TelegramSink:
    kind = "telegram"

    def __init__(self, config: TelegramSinkConfig, telegram: TelegramConfig, bots: BotPool) -> None:
        self.id = config.id
        self.config = config
        self.telegram = telegram
        token = config.token or telegram.token
        self.bot: Bot = bots.get(token, telegram.api_base)
        self.bot_key = "tg:" + digest(token, 6)
        self.options = render.TelegramOptions(
            link_preview=config.link_preview, open_button=config.open_button
        )

    def destination_key(self, alert: Alert) -> str:
        return alert.destination.target or self.config.chat_id

    def limits(self, alert: Alert) -> tuple[Limit, ...]:
        if not self.telegram.pacing:
            return ()
        chat = self.destination_key(alert)
        out = [
            Limit(f"{self.bot_key}:chat:{chat}", self.telegram.chat_per_second, 1.0),
            Limit(self.bot_key, self.telegram.bot_per_second, 1.0),
        ]
        if chat.startswith(("-", "@")):  # groups, supergroups and channels
            out.append(Limit(f"{self.bot_key}:group:{chat}", self.telegram.group_per_minute, 60.0))
        return tuple(out)

    async def send(self, alert: Alert) -> str | None:
        chat = self.destination_key(alert)
        if alert.kind == "update":
            return await self._update(alert, chat)
        return await self._send_parts(chat, render.render_alert(alert, self.options))

    async def send_digest(self, alerts: Sequence[Alert]) -> str | None:
        chat = self.destination_key(alerts[0])
        return await self._send_parts(chat, render.render_digest(alerts, self.options))

    async def aclose(self) -> None:
        return None  # the BotPool owns the bots

    async def _update(self, alert: Alert, chat: str) -> str | None:
        mode = self.config.updates
        if mode == "silent":
            return alert.reply_to
        message_id = _message_id(alert.reply_to)
        if mode == "edit" and message_id is not None:
            (first, *_) = render.render_update(alert, self.options)
            try:
                await self._call_edit(chat, message_id, first)
                return alert.reply_to
            except PermanentDeliveryError:
                pass  # too old to edit, deleted, or unchanged: say it in a reply instead
        reply = render.render_update_reply(alert, self.options)
        return await self._send_parts(chat, [reply], reply_to=message_id)

    async def _send_parts(
        self, chat: str, parts: Sequence[render.TelegramMessage], reply_to: int | None = None
    ) -> str | None:
        first: Message | None = None
        for part in parts:
            sent = await self._call_send(chat, part, reply_to if first is None else None)
            first = first or sent
        return None if first is None else f"{first.chat_id}:{first.message_id}"

    async def _call_send(
        self, chat: str, part: render.TelegramMessage, reply_to: int | None
    ) -> Message:
        try:
            return await self.bot.send_message(
                chat_id=chat,
                text=part.html,
                parse_mode="HTML",
                link_preview_options=LinkPreviewOptions(is_disabled=part.disable_preview),
                reply_markup=_button(part.button_url),
                reply_to_message_id=reply_to,
                allow_sending_without_reply=True,
            )
        except TelegramError as exc:
            raise _mapped(exc, self.id) from exc

    async def _call_edit(self, chat: str, message_id: int, part: render.TelegramMessage) -> None:
        try:
            await self.bot.edit_message_text(
                chat_id=chat,
                message_id=message_id,
                text=part.html,
                parse_mode="HTML",
                link_preview_options=LinkPreviewOptions(is_disabled=part.disable_preview),
                reply_markup=_button(part.button_url),
            )
        except TelegramError as exc:
            raise _mapped(exc, self.id) from exc


def _button(url: str | None) -> InlineKeyboardMarkup | None:
    if not url:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(OPEN_LABEL, url=url)]])


def _message_id(receipt: str | None) -> int | None:
    if not receipt or ":" not in receipt:
        return None
    tail = receipt.rsplit(":", 1)[1]
    return int(tail) if tail.lstrip("-").isdigit() else None


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _mapped(exc: TelegramError, where: str) -> Exception:
    """python-telegram-bot's error types onto ours (by type; BadRequest and TimedOut are both
    NetworkError subclasses there, so the order of the checks matters)."""
    message = redact_text(f"{type(exc).__name__}: {exc.message}")
    if isinstance(exc, RetryAfter):
        return DeliveryRateLimited(message, retry_after=_seconds(exc.retry_after), where=where)
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | ChatMigrated):
        return PermanentDeliveryError(message, where=where)
    return TransientDeliveryError(message, where=where)
