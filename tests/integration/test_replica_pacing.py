"""Two replicas sharing one Redis deliver to one Telegram chat: together they keep the
chat's limit (the windows live in Redis), and every alert goes out once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from monitor.config.schema import DeliveryConfig, TelegramConfig, TelegramSinkConfig
from monitor.delivery import Delivery
from monitor.model import Alert, Destination, Item, Level, RuleMatch
from monitor.pacing import Pacer
from monitor.sinks.telegram import TelegramSink
from monitor.store.redis import RedisStore
from monitor.telegram_client import BotPool
from tests.fakes.telegram_api import FakeTelegramBotAPI

CHAT = 5150
RATE = 4.0  # messages a second for this chat, over both replicas


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(CHAT, "private")
        yield srv


def alert(n: int) -> Alert:
    item = Item(
        source_id="s", key=f"k{n}", title=f"خبر {n}", text="نص", url=f"https://x.example/{n}"
    )
    return Alert(f"a{n}", Destination("desk"), f"s{n}", item, (RuleMatch("r", "r", Level.HIGH),))


async def test_two_replicas_keep_one_chat_limit(
    tg: FakeTelegramBotAPI, redis_url: str, namespace: str
) -> None:
    replicas = []
    for _ in range(2):
        store = RedisStore(redis_url, namespace=namespace)
        await store.open()
        sink = TelegramSink(
            TelegramSinkConfig(id="desk", type="telegram", chat_id=str(CHAT)),
            TelegramConfig(token=tg.token, api_base=tg.base_url, chat_per_second=RATE),
            BotPool(),
        )
        delivery = Delivery(
            store, {"desk": sink}, DeliveryConfig(batch=5), pacer=Pacer(shared=store.pace)
        )
        replicas.append((store, delivery))
    await replicas[0][0].enqueue([alert(n) for n in range(24)])
    deadline = time.monotonic() + 60
    await asyncio.gather(*(d.drain(deadline) for _, d in replicas))
    for store, _ in replicas:
        await store.close()
    times = tg.sent_times(CHAT)
    assert len({m.text_plain for m in tg.messages(CHAT)}) == len(times) == 24
    assert all(r[1].stats.sent > 0 for r in replicas)  # both replicas did send
    window = int(RATE)
    for i in range(len(times) - window):
        # any RATE + 1 consecutive arrivals span at least a second (less network jitter)
        assert times[i + window] - times[i] >= 1.0 - 0.15, (i, times[i : i + window + 1])
