"""One contract for every store: the embedded SQLite store and a real redis-server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import redis

from monitor.model import Mention, utcnow
from monitor.store import Batch, Cursor, SeenMark, Store
from monitor.store.base import StoryClaim
from monitor.store.redis import RedisStore
from tests.support import factories


async def test_cursor_round_trip(store: Store) -> None:
    assert await store.get_cursor("feed-a") is None
    now = utcnow()
    cursor = Cursor(
        "feed-a",
        etag='"abc"',
        last_modified="Mon",
        body_hash="h",
        last_poll=now,
        error_count=2,
        last_error="boom",
        not_before=now + timedelta(seconds=30),
        state={"last_id": 41, "missing": [3, 4]},
    )
    await store.save_cursor(cursor)
    got = await store.get_cursor("feed-a")
    assert got == cursor
    assert [c.source_id for c in await store.list_cursors()] == ["feed-a"]


async def test_commit_marks_seen_and_enqueues_won_claims(store: Store) -> None:
    a1, a2 = factories.alert(1), factories.alert(2)
    batch = Batch(
        cursor=Cursor("feed-a", etag="e1"),
        seen=[SeenMark("g:1", "v1"), SeenMark("u:1", "v1")],
        alerts=[a1, a2],
    )
    assert sorted(await store.commit(batch)) == sorted([a1.id, a2.id])
    assert await store.seen_versions("feed-a", ["g:1", "u:1", "g:2"]) == ["v1", "v1", None]
    assert await store.seen_versions("feed-b", ["g:1"]) == [None]  # seen is per source
    assert (await store.get_cursor("feed-a")).etag == "e1"  # type: ignore[union-attr]
    stats = await store.outbox_stats()
    assert (stats.queued, stats.sending, stats.dead) == (2, 0, 0)

    # the same alerts again (another poll, another replica): claims are taken, nothing enqueued
    again = Batch(cursor=Cursor("feed-b"), alerts=[a1, factories.alert(3)])
    assert await store.commit(again) == [factories.alert(3).id]
    assert (await store.outbox_stats()).queued == 3


async def test_concurrent_claims_are_won_once(store: Store, tmp_path, redis_url, namespace) -> None:
    alerts = [factories.alert(n) for n in range(20)]
    results = await asyncio.gather(
        *(store.commit(Batch(cursor=Cursor(f"s{i}"), alerts=alerts)) for i in range(5))
    )
    won = [a for r in results for a in r]
    assert sorted(won) == sorted(a.id for a in alerts)


async def test_lease_ack_moves_to_sent(store: Store) -> None:
    await store.commit(Batch(Cursor("feed-a"), alerts=[factories.alert(1), factories.alert(2)]))
    leased = await store.lease(limit=10, lease_seconds=60)
    assert [e.alert.id for e in leased] == [factories.alert(1).id, factories.alert(2).id]
    assert all(e.state == "sending" for e in leased)
    assert await store.lease(limit=10, lease_seconds=60) == []  # leased entries are not due
    await store.ack(leased[0].alert.id, receipt="msg-77")
    stats = await store.outbox_stats()
    assert (stats.queued, stats.sending) == (0, 1)
    sent = await store.recent_sent()
    assert [s.alert_id for s in sent] == [leased[0].alert.id]
    assert sent[0].receipt == "msg-77"
    assert await store.receipt(leased[0].alert.id) == "msg-77"
    await store.ack(leased[0].alert.id)  # acking twice is harmless
    assert len(await store.recent_sent()) == 1


async def test_expired_lease_is_due_again(store: Store) -> None:
    await store.commit(Batch(Cursor("feed-a"), alerts=[factories.alert(1)]))
    first = await store.lease(limit=1, lease_seconds=0.05)
    assert len(first) == 1
    await asyncio.sleep(0.1)
    again = await store.lease(limit=1, lease_seconds=60)  # the sender "crashed": redelivered
    assert [e.alert.id for e in again] == [first[0].alert.id]


async def test_retry_dead_and_requeue(store: Store) -> None:
    await store.commit(Batch(Cursor("feed-a"), alerts=[factories.alert(1), factories.alert(2)]))
    e1, e2 = await store.lease(limit=2, lease_seconds=60)
    later = utcnow() + timedelta(seconds=0.2)
    await store.retry(e1.alert.id, later, "429 retry after 0.2 s")
    await store.dead(e2.alert.id, "400 Bad Request: chat not found")
    assert await store.lease(limit=5, lease_seconds=60) == []
    due = await store.next_due()
    assert due is not None and abs((due - later).total_seconds()) < 0.01
    await asyncio.sleep(0.25)
    (retried,) = await store.lease(limit=5, lease_seconds=60)
    assert retried.alert.id == e1.alert.id
    assert retried.attempts == 1 and retried.last_error == "429 retry after 0.2 s"

    (dead,) = await store.list_dead()
    assert dead.alert.id == e2.alert.id and dead.last_error.startswith("400")  # type: ignore[union-attr]
    assert (await store.outbox_stats()).dead == 1
    assert await store.requeue_dead(["no-such-id"]) == 0
    assert await store.requeue_dead(None) == 1
    (back,) = await store.lease(limit=5, lease_seconds=60)
    assert back.alert == e2.alert
    assert await store.list_dead() == []


async def test_enqueue_unconditional_and_alert_round_trip(store: Store) -> None:
    alert = factories.alert(9, sink_id="desk", target="-100123")
    await store.enqueue([alert])
    await store.enqueue([alert])  # the same id is one entry
    (entry,) = await store.lease(limit=5, lease_seconds=60)
    assert entry.alert == alert


async def test_heartbeat_and_kv(store: Store) -> None:
    assert await store.last_heartbeat() is None
    await store.heartbeat("host-1", ttl_seconds=0.2)
    beat = await store.last_heartbeat()
    assert beat is not None and (utcnow() - beat).total_seconds() < 1
    await asyncio.sleep(0.3)
    assert await store.last_heartbeat() is None
    await store.heartbeat("host-2", ttl_seconds=30)
    assert await store.last_heartbeat() is not None
    await store.end_heartbeat("host-2")
    assert await store.last_heartbeat() is None

    assert await store.kv_get("bot:offset") is None
    await store.kv_set("bot:offset", "42")
    assert await store.kv_get("bot:offset") == "42"
    assert await store.kv_set_nx("lock", "a", ttl_seconds=0.2) is True
    assert await store.kv_set_nx("lock", "b", ttl_seconds=0.2) is False
    await asyncio.sleep(0.3)
    assert await store.kv_set_nx("lock", "c", ttl_seconds=5) is True
    await store.kv_delete("bot:offset")
    assert await store.kv_get("bot:offset") is None


async def test_redis_commit_is_one_round_trip(redis_url: str, namespace: str) -> None:
    store = RedisStore(redis_url, namespace=namespace)
    await store.open()
    raw = redis.Redis.from_url(redis_url)
    try:
        alerts = [factories.alert(n) for n in range(50)]
        seen = [SeenMark(f"g:{n}", "v") for n in range(50)]
        await store.commit(Batch(Cursor("warm"), alerts=alerts[:1]))  # script now cached
        before = raw.info("commandstats")
        await store.commit(Batch(Cursor("feed-a"), seen=seen, alerts=alerts))
        after = raw.info("commandstats")

        def calls(stats: dict, name: str) -> int:
            return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))

        assert calls(after, "evalsha") - calls(before, "evalsha") == 1
        # every write ran inside that one script: 50 claims + 50 seen marks + the cursor
        assert calls(after, "set") - calls(before, "set") == 101
        changed = {k[8:] for k in after if calls(after, k[8:]) != calls(before, k[8:])}
        assert changed - {"info"} <= {"evalsha", "set", "hset", "zadd"}
    finally:
        raw.close()
        await store.close()


async def test_release_and_touch(store: Store) -> None:
    await store.commit(Batch(Cursor("feed-a"), alerts=[factories.alert(1), factories.alert(2)]))
    e1, e2 = await store.lease(limit=2, lease_seconds=0.2)
    await store.release([e1.alert.id], utcnow())  # not attempted: attempts stay 0
    await store.touch([e2.alert.id], lease_seconds=60)  # still held by its sender
    await asyncio.sleep(0.3)
    got = await store.lease(limit=5, lease_seconds=60)
    assert [e.alert.id for e in got] == [e1.alert.id]
    assert got[0].attempts == 0


def claim(
    key: str,
    *,
    aliases: tuple[str, ...] = (),
    sig: str = "",
    bands: tuple[str, ...] = (),
    source: str = "feed-a",
) -> StoryClaim:
    return StoryClaim(key, aliases, sig, bands, Mention(source, f"title {key}", f"https://x/{key}"))


def sig_with(same: int, total: int = 120, base: str = "0000000a", other: str = "0000000b") -> str:
    return base * same + other * (total - same)


async def test_stories_by_alias(store: Store) -> None:
    (first,) = await store.assign_stories([claim("a", aliases=("u:1", "c:1"))], 0.32)
    assert first.new and not first.known
    (second,) = await store.assign_stories(
        [claim("b", aliases=("u:2", "c:1"), source="feed-b")], 0.32
    )
    assert second.story == first.story and not second.new and not second.known
    assert [m.source_id for m in second.mentions] == ["feed-a", "feed-b"]
    (again,) = await store.assign_stories([claim("b", aliases=("c:1",), source="feed-b")], 0.32)
    assert again.known  # the same item seen again (an edit): not another mention
    assert len(again.mentions) == 2
    (alone,) = await store.assign_stories([claim("c", aliases=("u:3",))], 0.32)
    assert alone.new and alone.story != first.story


async def test_stories_by_signature(store: Store) -> None:
    base = sig_with(120)
    (first,) = await store.assign_stories([claim("a", sig=base, bands=("b1", "b2"))], 0.32)
    near = sig_with(60)  # half the positions equal: similarity 0.5
    far = sig_with(20)  # similarity 0.17: under the threshold
    (close, distant, unbanded) = await store.assign_stories(
        [
            claim("b", sig=near, bands=("b2", "b9")),
            claim("c", sig=far, bands=("b1",)),
            claim("d", sig=base, bands=("zz",)),  # identical, but no shared band: not a candidate
        ],
        0.32,
    )
    assert close.story == first.story and not close.new
    assert distant.new and distant.story != first.story
    assert unbanded.new


async def test_concurrent_story_starts_agree(store: Store) -> None:
    same = claim("a", aliases=("u:1",))
    results = await asyncio.gather(*(store.assign_stories([same], 0.32) for _ in range(5)))
    stories = {r[0].story for r in results}
    assert len(stories) == 1
    assert sum(r[0].new for r in results) == 1


async def test_claimed_alerts_keep_the_first_payload(store: Store) -> None:
    alert = factories.alert(1)
    await store.commit(Batch(Cursor("feed-a"), alerts=[alert]))
    other = factories.alert(2)
    assert await store.claimed_alerts([alert.id, other.id]) == [alert, None]


async def test_pace_is_a_sliding_window(store: Store) -> None:
    limits = [("chat:1", 2.0, 0.5), ("bot", 100.0, 1.0)]
    assert await store.pace(limits) == 0.0
    assert await store.pace(limits) == 0.0
    wait = await store.pace(limits)  # a third send inside half a second: wait, nothing taken
    assert 0 < wait <= 0.5
    assert await store.pace([("chat:2", 1.0, 0.5)]) == 0.0  # another chat is not held up
    await asyncio.sleep(wait + 0.02)
    assert await store.pace(limits) == 0.0
    assert await store.pace([("slow", 0.5, 1.0)]) == 0.0  # 0.5 a second = 1 per 2 s
    assert await store.pace([("slow", 0.5, 1.0)]) > 1.5
