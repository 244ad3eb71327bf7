"""The orchestrator: new items only, edits re-matched, claims once, cursors only after commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor import identity
from monitor.errors import FetchError, SourceRateLimited, StoreError
from monitor.model import Item, Level, RuleMatch, utcnow
from monitor.pipeline import Pipeline, PollSettings
from monitor.routing import Router
from monitor.sources.base import FetchResult
from monitor.store import Batch, Cursor
from monitor.store.sqlite import SqliteStore
from tests.support.sources import ListSource


class WordMatcher:
    """A stand-in for the rule engine: a rule per word, matching it as a substring."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def match(self, item: Item) -> list[RuleMatch]:
        return [
            RuleMatch(f"rule-{w}", w, Level.HIGH)
            for w in self.words
            if w in item.title or w in item.text
        ]


def make_item(n: int, text: str, *, source_id: str = "feed-a", url: str | None = None) -> Item:
    title = f"خبر {n}"
    return Item(
        source_id=source_id,
        key=f"k{n}",
        guid=f"g{n}",
        title=title,
        text=text,
        url=url or f"https://example.com/{source_id}/{n}",
        version=identity.version(title, text),
    )


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteStore(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


def pipeline(store: SqliteStore, *words: str, **settings: float) -> Pipeline:
    router = Router([], {"desk": Level.INFO})
    return Pipeline(
        store,
        matcher=lambda: WordMatcher(*words),
        router=lambda: router,
        settings=PollSettings(**settings),
    )


async def test_new_matching_items_alert_once(store: SqliteStore) -> None:
    source = ListSource(items=[make_item(1, "هدنة"), make_item(2, "طقس"), make_item(3, "هدنة")])
    pipe = pipeline(store, "هدنة")
    first = await pipe.poll(source)
    assert (first.items, first.new, first.matched, len(first.enqueued)) == (3, 3, 2, 2)
    second = await pipe.poll(source)
    assert (second.new, second.enqueued) == (0, [])
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and cursor.etag == "e2" and cursor.items_total == 3


async def test_an_edit_is_matched_again_and_alerts_only_when_newly_matching(
    store: SqliteStore,
) -> None:
    pipe = pipeline(store, "هدنة", "قصف")
    source = ListSource(items=[make_item(1, "هدنة"), make_item(2, "طقس")])
    assert len((await pipe.poll(source)).enqueued) == 1
    edited = [make_item(1, "هدنة معلنة"), make_item(2, "طقس ثم قصف")]
    source.items = edited
    outcome = await pipe.poll(source)
    assert outcome.new == 2  # both changed
    assert len(outcome.enqueued) == 1  # only item 2 newly matches; item 1 already alerted
    leased = await store.lease(10, 60)
    assert {e.alert.item.key for e in leased} == {"k1", "k2"}
    assert next(e for e in leased if e.alert.item.key == "k2").alert.item.edited


async def test_a_changed_guid_is_not_a_new_item(store: SqliteStore) -> None:
    pipe = pipeline(store, "هدنة")
    source = ListSource(items=[make_item(1, "هدنة")])
    await pipe.poll(source)
    source.items = [replace(make_item(1, "هدنة"), guid="new-guid", key="new")]
    assert (await pipe.poll(source)).new == 0


async def test_duplicates_within_one_fetch_count_once(store: SqliteStore) -> None:
    item = make_item(1, "هدنة")
    outcome = await pipeline(store, "هدنة").poll(ListSource(items=[item, item]))
    assert (outcome.new, len(outcome.enqueued)) == (1, 1)


async def test_same_story_from_two_sources_alerts_once(store: SqliteStore) -> None:
    pipe = pipeline(store, "هدنة")
    url = "https://news.example/story?utm_source=a"
    a = ListSource("feed-a", items=[make_item(1, "هدنة", source_id="feed-a", url=url)])
    b = ListSource(
        "feed-b",
        items=[
            make_item(9, "هدنة اليوم", source_id="feed-b", url="https://www.news.example/story/")
        ],
    )
    assert len((await pipe.poll(a)).enqueued) == 1
    assert (await pipe.poll(b)).enqueued == []


async def test_failures_back_off_and_recover(store: SqliteStore) -> None:
    pipe = pipeline(store, "هدنة", backoff_base=60, backoff_max=600)
    source = ListSource(error=FetchError("HTTP 500", where="feed-a"))
    out = await pipe.poll(source)
    assert out.status == "fetch" and out.error == "feed-a: HTTP 500"
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and cursor.error_count == 1
    assert cursor.not_before is not None
    assert 50 < (cursor.not_before - utcnow()).total_seconds() < 70
    assert (await pipe.poll(source)).status == "skipped"  # not before the backoff ends
    assert source.calls == 1
    await pipe.poll(source, force=True)
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and cursor.error_count == 2
    assert (cursor.not_before - utcnow()).total_seconds() > 100  # type: ignore[operator]

    source.error, source.items = None, [make_item(1, "هدنة")]
    out = await pipe.poll(source, force=True)
    assert out.status == "200" and len(out.enqueued) == 1
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and (cursor.error_count, cursor.last_error) == (0, None)


async def test_retry_after_is_respected(store: SqliteStore) -> None:
    pipe = pipeline(store, backoff_base=1)
    await pipe.poll(ListSource(error=SourceRateLimited("429", retry_after=900, where="feed-a")))
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and cursor.not_before is not None
    assert (cursor.not_before - utcnow()).total_seconds() > 890


class FailingCommit(SqliteStore):
    fail = True

    async def commit(self, batch: Batch) -> list[str]:
        if self.fail:
            raise StoreError("down", where="store")
        return await super().commit(batch)


async def test_store_failure_advances_nothing(tmp_path: Path) -> None:
    store = FailingCommit(tmp_path / "s.db")
    await store.open()
    try:
        pipe = pipeline(store, "هدنة")
        source = ListSource(items=[make_item(1, "هدنة")])
        out = await pipe.poll(source)
        assert out.status == "store" and not pipe.store_ok
        assert await store.get_cursor("feed-a") is None  # nothing advanced
        store.fail = False
        out = await pipe.poll(source)  # fetched again, nothing lost
        assert len(out.enqueued) == 1 and pipe.store_ok
    finally:
        await store.close()


async def test_old_items_are_marked_seen_without_alerts(store: SqliteStore) -> None:
    pipe = pipeline(store, "هدنة", max_age=3600)
    old = replace(make_item(1, "هدنة"), published=utcnow() - timedelta(days=3))
    fresh = replace(make_item(2, "هدنة"), published=utcnow() - timedelta(minutes=5))
    undated = make_item(3, "هدنة")
    out = await pipe.poll(ListSource(items=[old, fresh, undated]))
    assert (out.new, len(out.enqueued)) == (3, 2)
    assert (await pipe.poll(ListSource(items=[old]))).new == 0


async def test_server_hints_delay_the_next_poll_up_to_a_cap(store: SqliteStore) -> None:
    class Hinting(ListSource):
        async def fetch(self, cursor: Cursor) -> FetchResult:
            return FetchResult("304", min_delay=86400)

    pipe = pipeline(store, max_defer=1800)
    await pipe.poll(Hinting())
    cursor = await store.get_cursor("feed-a")
    assert cursor is not None and cursor.not_before is not None
    assert 1700 < (cursor.not_before - utcnow()).total_seconds() <= 1800
