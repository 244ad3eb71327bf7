"""Chats where our bot is a member, read by long polling (getUpdates), and bot commands.

One loop per bot token. Each batch of updates goes: posts of configured chats -> the pipeline
(new items, match, outbox), commands -> the command handler, and only then the new offset -> the
store. Telegram forgets updates below the offset we send, so a crash before the offset is saved
re-delivers the batch (the seen-check drops what was already taken) and a restart neither loses
nor repeats. With several replicas, a lease in the store lets one of them poll at a time
(Telegram answers 409 Conflict to a second getUpdates consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from telegram import Bot, Message, Update
from telegram.error import Conflict, Forbidden, InvalidToken, RetryAfter, TelegramError

from monitor import identity
from monitor.bot import ADMIN_COMMANDS, PUBLIC_COMMANDS, Command, CommandHandler, parse_command
from monitor.config.schema import TelegramBotSourceConfig
from monitor.errors import StoreError
from monitor.logging import get_logger, redact_text
from monitor.model import Item, as_utc, utcnow
from monitor.sources.telegram_web import headline
from monitor.store import Store

log = get_logger("monitor.telegram_bot")

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post"]
LONG_POLL = 25
LEASE_SECONDS = 60.0

Ingest = Callable[[str, list[Item]], Awaitable[object]]


def chat_matches(config: TelegramBotSourceConfig, message: Message) -> bool:
    wanted = config.chat_id.strip()
    if wanted.startswith("@"):
        username = message.chat.username or ""
        return username.lower() == wanted[1:].lower()
    return wanted == str(message.chat.id)


def message_to_item(message: Message, source: TelegramBotSourceConfig, edited: bool) -> Item | None:
    text = message.text or message.caption or ""
    if not text.strip():
        return None
    key = f"{message.chat.id}/{message.message_id}"
    title = headline(text)
    when = message.edit_date if edited and message.edit_date else message.date
    return Item(
        source_id=source.id,
        key=key,
        title=title,
        text=text,
        url=message.link,
        published=as_utc(message.date) if message.date else None,
        fetched=utcnow(),
        guid=key,
        author=message.author_signature
        or (message.from_user.full_name if message.from_user else None),
        version=identity.version(title, text),
        tags=source.tags,
        source_title=message.chat.title or message.chat.username,
        edited=edited or (when is not None and when != message.date),
    )


class BotUpdates:
    def __init__(
        self,
        bot: Bot,
        bot_key: str,
        store: Store,
        ingest: Ingest,
        sources: Mapping[str, TelegramBotSourceConfig],
        commands: CommandHandler | None,
        instance: str,
    ) -> None:
        self.bot = bot
        self.bot_key = bot_key
        self.store = store
        self.ingest = ingest
        self.sources = dict(sources)
        self.commands = commands
        self.instance = instance
        self.offset_key = f"tg:offset:{bot_key}"
        self.lease_key = f"tg:poller:{bot_key}"

    async def register_commands(self, admins: tuple[int, ...]) -> None:
        """setMyCommands, so clients show the commands (admins see theirs too)."""
        from telegram import BotCommandScopeChat

        try:
            await self.bot.set_my_commands(PUBLIC_COMMANDS)
            for admin in admins:
                with contextlib.suppress(TelegramError):  # the admin never opened the bot
                    await self.bot.set_my_commands(
                        PUBLIC_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin)
                    )
        except TelegramError as exc:
            log.warning("bot.commands_not_registered", error=redact_text(str(exc)))

    async def run(self, stop: asyncio.Event) -> None:
        delay = 1.0
        while not stop.is_set():
            try:
                if not await self._hold_lease():
                    await _sleep(stop, LEASE_SECONDS / 3)
                    continue
                await self.poll_once()
                delay = 1.0
            except InvalidToken:
                log.error("bot.invalid_token", hint="check TELEGRAM_BOT_TOKEN; updates stop")
                return
            except RetryAfter as exc:
                await _sleep(stop, _seconds(exc.retry_after))
            except Conflict as exc:
                log.error(
                    "bot.conflict",
                    error=redact_text(str(exc)),
                    hint="another getUpdates consumer or a webhook is set (deleteWebhook)",
                )
                await _sleep(stop, 30)
            except (TelegramError, StoreError) as exc:
                log.warning("bot.updates_failed", error=redact_text(str(exc)), retry_in=delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 60.0)
        with contextlib.suppress(StoreError):
            await self.store.kv_delete(self.lease_key)

    async def _hold_lease(self) -> bool:
        if await self.store.kv_set_nx(self.lease_key, self.instance, LEASE_SECONDS):
            return True
        if await self.store.kv_get(self.lease_key) == self.instance:
            await self.store.kv_set(self.lease_key, self.instance, LEASE_SECONDS)
            return True
        return False

    async def poll_once(self, long_poll: int = LONG_POLL) -> int:
        """One getUpdates round; returns how many updates it handled."""
        raw = await self.store.kv_get(self.offset_key)
        offset = int(raw) if raw else None
        updates = await self.bot.get_updates(
            offset=offset,
            timeout=long_poll,
            allowed_updates=ALLOWED_UPDATES,
            read_timeout=long_poll + 10,
        )
        if not updates:
            return 0
        await self._handle(updates)
        await self.store.kv_set(self.offset_key, str(updates[-1].update_id + 1))
        return len(updates)

    async def _handle(self, updates: tuple[Update, ...]) -> None:
        batches: dict[str, list[Item]] = {}
        commands: list[Command] = []
        for update in updates:
            message = update.effective_message
            if message is None:
                continue
            edited = update.edited_message is not None or update.edited_channel_post is not None
            text = message.text or ""
            if text.startswith("/") and not edited and update.channel_post is None:
                user = message.from_user.id if message.from_user else None
                command = parse_command(text, str(message.chat.id), user)
                if command is not None:
                    commands.append(command)
                    continue
            for source in self.sources.values():
                if chat_matches(source, message):
                    item = message_to_item(message, source, edited)
                    if item is not None:
                        batches.setdefault(source.id, []).append(item)
        for source_id, items in batches.items():
            await self.ingest(source_id, items)  # StoreError: the offset stays, all comes again
        for command in commands:
            await self._answer(command)

    async def _answer(self, command: Command) -> None:
        if self.commands is None:
            return
        reply = await self.commands.handle(command)
        if reply is None:
            return
        try:
            await self.bot.send_message(command.chat_id, reply, parse_mode="HTML")
        except Forbidden:
            log.info("bot.reply_forbidden", chat=command.chat_id)
        except TelegramError as exc:
            log.warning("bot.reply_failed", chat=command.chat_id, error=redact_text(str(exc)))


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
