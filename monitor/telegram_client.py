"""One python-telegram-bot `Bot` per (token, API base), shared by sinks, sources and the bot.

Base URLs are configurable (self-hosted Bot API servers, proxies, local fakes in tests).
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

# python-telegram-bot 22 gives RetryAfter.retry_after as an int with a deprecation warning unless
# this opt-in makes it a timedelta (the future default); our code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "true")

if TYPE_CHECKING:
    from telegram import Bot

SEND_TIMEOUT = 20.0
LONG_POLL_TIMEOUT = 30.0


class BotPool:
    def __init__(self) -> None:
        self._bots: dict[tuple[str, str], Bot] = {}

    def get(self, token: str, api_base: str) -> Bot:
        # imported here: python-telegram-bot costs ~0.1 s of start-up that a deployment
        # without Telegram should not pay
        from telegram import Bot
        from telegram.request import HTTPXRequest

        key = (token, api_base.rstrip("/"))
        bot = self._bots.get(key)
        if bot is None:
            bot = Bot(
                token,
                base_url=f"{key[1]}/bot",
                base_file_url=f"{key[1]}/file/bot",
                request=HTTPXRequest(
                    connection_pool_size=64,  # never queue behind the pool: pacing times the send
                    connect_timeout=SEND_TIMEOUT,
                    read_timeout=SEND_TIMEOUT,
                    write_timeout=SEND_TIMEOUT,
                    pool_timeout=SEND_TIMEOUT,
                ),
                get_updates_request=HTTPXRequest(
                    connection_pool_size=2,
                    read_timeout=LONG_POLL_TIMEOUT + 10,
                    connect_timeout=SEND_TIMEOUT,
                ),
            )
            self._bots[key] = bot
        return bot

    async def aclose(self) -> None:
        for bot in self._bots.values():
            with contextlib.suppress(Exception):
                await bot.shutdown()
        self._bots.clear()
