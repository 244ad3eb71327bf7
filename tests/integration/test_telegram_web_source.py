"""The web-preview source against a local fake of t.me/s: gaps backfilled, deletions recorded,
edits matched again, private channels reported, nothing missed between two polls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from monitor.config.schema import TelegramWebSourceConfig
from monitor.errors import SourceRateLimited, SourceUnavailable
from monitor.model import Item, Level, RuleMatch
from monitor.pipeline import Pipeline
from monitor.routing import Router
from monitor.sources.http import FeedClient, HttpLimits, build_client
from monitor.sources.telegram_web import TelegramWebSource
from monitor.store import Cursor
from monitor.store.sqlite import SqliteStore
from tests.fakes.telegram_web import FakeTelegramWeb

CHANNEL = "sabereen_news"


@pytest.fixture
def web() -> Iterator[FakeTelegramWeb]:
    with FakeTelegramWeb() as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[FeedClient]:
    http = build_client(connect_timeout=5, read_timeout=5, user_agent="test")
    yield http
    await http.aclose()


def source(web: FakeTelegramWeb, client: FeedClient, max_pages: int = 5) -> TelegramWebSource:
    config = TelegramWebSourceConfig(
        id="tg-sabereen", type="telegram_web", channel=CHANNEL, max_pages=max_pages, tags=("iraq",)
    )
    return TelegramWebSource(config, client=client, limits=HttpLimits(), web_base=web.base_url)


async def poll(src: TelegramWebSource, cursor: Cursor) -> tuple[list[Item], Cursor]:
    result = await src.fetch(cursor)
    return result.items, Cursor(src.id, state=result.state or {})


async def test_posts_become_items(web: FakeTelegramWeb, client: FeedClient) -> None:
    first = web.post(CHANNEL, "قصف صاروخي على قاعدة عين الأسد\nتفاصيل لاحقاً")
    album = web.post(CHANNEL, "بالصور: آثار القصف", media="photo", album=3)
    items, cursor = await poll(source(web, client), Cursor("tg-sabereen"))
    assert [i.key for i in items] == [f"{CHANNEL}/{first}", f"{CHANNEL}/{album}"]
    item = items[0]
    assert item.url == f"https://t.me/{CHANNEL}/{first}"
    assert item.title == "قصف صاروخي على قاعدة عين الأسد"
    assert item.text.startswith("قصف صاروخي") and "تفاصيل لاحقاً" in item.text
    assert item.tags == ("iraq",) and item.published is not None
    assert items[1].text == "بالصور: آثار القصف"  # the caption once, not twice
    assert cursor.state["last_id"] == album + 2  # an album of 3 takes 3 ids


async def test_a_gap_of_fifty_posts_is_filled(web: FakeTelegramWeb, client: FeedClient) -> None:
    src = source(web, client)
    for n in range(30):
        web.post(CHANNEL, f"خبر قديم {n}")
    _, cursor = await poll(src, Cursor(src.id))
    before = len(web.requests)
    new_ids = [web.post(CHANNEL, f"خبر جديد {n}") for n in range(50)]
    items, cursor = await poll(src, cursor)
    assert {i.key for i in items} >= {f"{CHANNEL}/{i}" for i in new_ids}
    assert len(web.requests) - before == 3  # the latest page and two ?before= pages
    assert not cursor.state["pending"]


async def test_a_huge_gap_is_finished_on_later_polls(
    web: FakeTelegramWeb, client: FeedClient
) -> None:
    src = source(web, client, max_pages=2)
    web.post(CHANNEL, "البداية")
    _, cursor = await poll(src, Cursor(src.id))
    new_ids = {web.post(CHANNEL, f"خبر {n}") for n in range(95)}
    seen: set[str] = set()
    for _ in range(6):
        items, cursor = await poll(src, cursor)
        seen |= {i.key for i in items}
    assert {f"{CHANNEL}/{i}" for i in new_ids} <= seen
    assert cursor.state["pending"] == []


async def test_deleted_ids_are_recorded_not_retried(
    web: FakeTelegramWeb, client: FeedClient
) -> None:
    src = source(web, client)
    web.post(CHANNEL, "أول")
    _, cursor = await poll(src, Cursor(src.id))
    ids = [web.post(CHANNEL, f"خبر {n}") for n in range(5)]
    web.delete(CHANNEL, ids[1])
    web.delete(CHANNEL, ids[3])
    _, cursor = await poll(src, cursor)
    assert cursor.state["deleted_total"] == 2
    assert cursor.state["deleted_recent"] == [ids[1], ids[3]]
    requests = len(web.requests)
    _, cursor = await poll(src, cursor)
    assert len(web.requests) - requests == 1  # nothing asked for again
    assert cursor.state["deleted_total"] == 2


async def test_private_or_restricted_channel_is_a_clear_error(
    web: FakeTelegramWeb, client: FeedClient
) -> None:
    web.post(CHANNEL, "x")
    web.restrict(CHANNEL)
    with pytest.raises(SourceUnavailable, match="private, restricted or missing"):
        await poll(source(web, client), Cursor("tg-sabereen"))
    with pytest.raises(SourceUnavailable):
        config = TelegramWebSourceConfig(id="other", type="telegram_web", channel="no_such_channel")
        await TelegramWebSource(
            config, client=client, limits=HttpLimits(), web_base=web.base_url
        ).fetch(Cursor("other"))


async def test_429_carries_retry_after(web: FakeTelegramWeb, client: FeedClient) -> None:
    web.post(CHANNEL, "x")
    web.fail_next(429, retry_after=7)
    with pytest.raises(SourceRateLimited) as info:
        await poll(source(web, client), Cursor("tg-sabereen"))
    assert info.value.retry_after == 7


class Contains:
    def __init__(self, word: str) -> None:
        self.word = word

    def match(self, item: Item) -> list[RuleMatch]:
        return [RuleMatch("r", "r", Level.HIGH)] if self.word in item.text else []


async def test_edits_alert_when_newly_matching_and_gaps_lose_nothing(
    web: FakeTelegramWeb, client: FeedClient, tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    router = Router([], {"desk": Level.INFO})
    pipe = Pipeline(store, matcher=lambda: Contains("هدنة"), router=lambda: router)
    src = source(web, client)
    try:
        quiet = web.post(CHANNEL, "لا جديد")
        loud = web.post(CHANNEL, "إعلان هدنة")
        assert len((await pipe.poll(src, force=True)).enqueued) == 1
        web.edit(CHANNEL, quiet, "تحديث: إعلان هدنة شاملة")  # newly matching
        web.edit(CHANNEL, loud, "إعلان هدنة لمدة أسبوع")  # matched before
        burst = [web.post(CHANNEL, f"هدنة رقم {n}") for n in range(50)]
        out = await pipe.poll(src, force=True)
        assert len(out.enqueued) == 1 + len(burst)
        keys = {e.alert.item.key for e in await store.lease(200, 60)}
        assert f"{CHANNEL}/{quiet}" in keys and len(keys) == 2 + len(burst)
    finally:
        await store.close()
