"""One alert per story: the same story from two feeds makes one alert and one "also reported
by" edit; two different attacks on the same base make two alerts; a changed GUID makes nothing;
a recurrence after the window alerts again. Shipped rules, real stores, a fake Telegram."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from monitor.config.schema import DeliveryConfig, TelegramConfig, TelegramSinkConfig
from monitor.delivery import Delivery
from monitor.matching import compile_rules
from monitor.model import Level
from monitor.pipeline import Pipeline
from monitor.routing import Router
from monitor.sinks.telegram import TelegramSink
from monitor.store import Store, Ttls
from monitor.store.redis import RedisStore
from monitor.store.sqlite import SqliteStore
from monitor.telegram_client import BotPool
from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.support.sources import ListSource, news_item

CHAT = -1009
PAIRS = {
    json.loads(line)["id"]: json.loads(line)
    for line in (ROOT / "tests/data/stories/pairs.jsonl").read_text(encoding="utf-8").splitlines()
}
ENGINE, PROBLEMS = compile_rules(ROOT / "rules")


def story(pair: str, side: str, source: str, guid: str) -> Any:
    entry = PAIRS[pair][side]
    return news_item(source, guid, entry["title"], entry["text"], tags=("iraq",))


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(CHAT, "channel")
        yield srv


@pytest.fixture(params=["sqlite", "redis"])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, namespace: str
) -> AsyncIterator[Any]:
    opened: list[Store] = []

    async def make(ttls: Ttls | None = None) -> Store:
        impl: Store
        if request.param == "sqlite":
            impl = SqliteStore(tmp_path / f"s{len(opened)}.db", ttls)
        else:
            impl = RedisStore(redis_url, namespace=f"{namespace}{len(opened)}", ttls=ttls)
        await impl.open()
        opened.append(impl)
        return impl

    yield make
    for impl in opened:
        await impl.close()


class Desk:
    """Pipeline + delivery to one Telegram channel, as the daemon wires them."""

    def __init__(self, store: Store, tg: FakeTelegramBotAPI, bots: BotPool) -> None:
        router = Router([], {"desk": Level.INFO})
        self.pipeline = Pipeline(store, matcher=lambda: ENGINE, router=lambda: router)
        sink = TelegramSink(
            TelegramSinkConfig(id="desk", type="telegram", chat_id=str(CHAT)),
            TelegramConfig(token=tg.token, api_base=tg.base_url, pacing=False),
            bots,
        )
        self.delivery = Delivery(store, {"desk": sink}, DeliveryConfig())

    async def poll(self, source: ListSource) -> None:
        await self.pipeline.poll(source, force=True)
        assert await self.delivery.drain(time.monotonic() + 20) == 0


async def test_same_story_two_feeds_one_alert_one_update(
    make_store: Any, tg: FakeTelegramBotAPI
) -> None:
    assert not PROBLEMS
    bots = BotPool()
    desk = Desk(await make_store(), tg, bots)
    ina = ListSource("ina", items=[story("ar-p01", "a", "ina", "ina-1")])
    await desk.poll(ina)
    (first,) = tg.messages(CHAT)
    copy = ListSource("shafaq", items=[story("ar-p01", "b", "shafaq", "sh-77")])
    await desk.poll(copy)
    (edited,) = tg.messages(CHAT)  # still one message ...
    assert edited.message_id == first.message_id and len(edited.versions) == 1  # ... edited once
    assert "https://shafaq.example/sh-77" in [url for _, url in edited.links]

    # two different attacks on the same base, on different days: two more alerts
    await desk.poll(ListSource("ina", items=[story("ar-n01", "a", "ina", "ina-2")]))
    await desk.poll(ListSource("ina", items=[story("ar-n01", "b", "ina", "ina-3")]))
    assert len(tg.messages(CHAT)) == 3

    # the first report again under a new GUID (same URL): nothing new
    moved = replace(
        story("ar-p01", "a", "ina", "ina-1-v2"), url="https://ina.example/ina-1?utm_source=rss"
    )
    await desk.poll(ListSource("ina", items=[moved]))
    assert len(tg.messages(CHAT)) == 3
    assert len(tg.calls("editMessageText")) == 1
    await bots.aclose()


async def test_a_recurrence_after_the_window_alerts_again(
    make_store: Any, tg: FakeTelegramBotAPI
) -> None:
    bots = BotPool()
    desk = Desk(await make_store(Ttls(claim=1)), tg, bots)
    await desk.poll(ListSource("ina", items=[story("ar-p01", "a", "ina", "ina-1")]))
    await asyncio.sleep(1.2)
    await desk.poll(ListSource("shafaq", items=[story("ar-p01", "b", "shafaq", "sh-77")]))
    assert len(tg.messages(CHAT)) == 2  # the window (1 s here) had passed: a new alert
    assert tg.calls("editMessageText") == []
    await bots.aclose()
