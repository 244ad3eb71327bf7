"""Fixtures of the fakes' own tests: the Bot API fake with a few chats, and a real PTB Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import telegram
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import FakeTelegramBotAPI

PRIVATE = 4242
GROUP = -4001
SUPERGROUP = -1001000000001
CHANNEL = -1001000000002


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(PRIVATE, "private", first_name="Operator", username="operator")
        srv.add_chat(GROUP, "group", title="Desk")
        srv.add_chat(SUPERGROUP, "supergroup", title="Newsroom")
        srv.add_chat(CHANNEL, "channel", title="تنبيهات", username="alerts_test")
        yield srv
    assert srv.internal_errors == []


@pytest.fixture
async def bot(tg: FakeTelegramBotAPI) -> AsyncIterator[telegram.Bot]:
    request = HTTPXRequest(connect_timeout=2.0, read_timeout=5.0)
    updates_request = HTTPXRequest(connect_timeout=2.0, read_timeout=5.0)
    client = telegram.Bot(
        tg.token,
        base_url=tg.base_url + "/bot",
        request=request,
        get_updates_request=updates_request,
    )
    async with client:
        yield client
