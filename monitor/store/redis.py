"""The Redis store: production state, shared by every replica.

Multi-key writes run as Lua scripts (atomic, one round trip); every key carries the same hash tag
(see keys.py) so the scripts also run on a Redis Cluster. Any Redis failure surfaces as
`StoreError`; the caller keeps running and retries later, and nothing advances meanwhile.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from monitor.errors import StoreError
from monitor.model import Alert
from monitor.store import codec
from monitor.store.base import (
    Batch,
    Cursor,
    OutboxEntry,
    OutboxStats,
    SentRecord,
    StoryClaim,
    StoryFound,
)
from monitor.store.keys import SENT_KEEP, Keys, Ttls, story_id
from monitor.store.redis_scripts import ACK, ASSIGN, COMMIT, LEASE, MOVE, PACE, RELEASE, TOUCH

T = TypeVar("T")
Arg = str | int | float


def _ms(value: float) -> int:
    return int(value * 1000)


def _from_ms(value: float) -> datetime:
    return datetime.fromtimestamp(float(value) / 1000, UTC)


class RedisStore:
    shared = True  # replicas on other hosts share it

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "monitor",
        ttls: Ttls | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.keys = Keys(namespace)
        self.ttls = ttls or Ttls()
        # Any: redis-py types every reply as bytes | str whatever decode_responses says; with
        # decode_responses=True they are str, and this module is the only one that reads them.
        self._client: Any = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._commit = self._client.register_script(COMMIT)
        self._lease = self._client.register_script(LEASE)
        self._ack = self._client.register_script(ACK)
        self._move = self._client.register_script(MOVE)
        self._release = self._client.register_script(RELEASE)
        self._touch = self._client.register_script(TOUCH)
        self._assign = self._client.register_script(ASSIGN)
        self._pace = self._client.register_script(PACE)

    def __repr__(self) -> str:
        return "RedisStore(<redacted url>)"

    async def _do(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except RedisError as exc:
            raise StoreError(f"redis: {type(exc).__name__}: {exc}", where="store") from exc
        except OSError as exc:
            raise StoreError(f"redis: {exc}", where="store") from exc

    # lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        await self.ping()

    async def close(self) -> None:
        await self._client.aclose()

    async def ping(self) -> None:
        await self._do(lambda: cast(Awaitable[Any], self._client.ping()))

    # sources ---------------------------------------------------------------------------

    async def get_cursor(self, source_id: str) -> Cursor | None:
        raw = await self._do(lambda: self._client.get(self.keys.cursor(source_id)))
        return None if raw is None else codec.cursor_from_json(raw)

    async def save_cursor(self, cursor: Cursor) -> None:
        raw = codec.cursor_to_json(cursor)
        await self._do(lambda: self._client.set(self.keys.cursor(cursor.source_id), raw))

    async def list_cursors(self) -> list[Cursor]:
        async def scan() -> list[Cursor]:
            names = [k async for k in self._client.scan_iter(self.keys.cursor_prefix + "*")]
            if not names:
                return []
            raws = await self._client.mget(sorted(names))
            return [codec.cursor_from_json(r) for r in raws if r is not None]

        return await self._do(scan)

    async def seen_versions(self, source_id: str, identities: list[str]) -> list[str | None]:
        if not identities:
            return []
        names = [self.keys.seen(source_id, i) for i in identities]
        return cast(list[str | None], await self._do(lambda: self._client.mget(names)))

    async def commit(self, batch: Batch) -> list[str]:
        keys = [self.keys.outbox_data, self.keys.outbox_queue]
        keys += [self.keys.claim(a.id) for a in batch.alerts]
        keys += [self.keys.seen(batch.cursor.source_id, m.identity) for m in batch.seen]
        keys.append(self.keys.cursor(batch.cursor.source_id))
        args: list[Arg] = [
            len(batch.alerts),
            len(batch.seen),
            self.ttls.claim,
            self.ttls.seen,
            _ms(time.time()) - 1,  # due at once; the fraction added per alert keeps order
            codec.cursor_to_json(batch.cursor),
        ]
        for alert in batch.alerts:
            args += [alert.id, codec.entry_to_json(alert)]
        args += [m.version for m in batch.seen]
        won = await self._do(lambda: cast(Awaitable[list[str]], self._commit(keys, args)))
        return list(won)

    async def assign_stories(self, claims: list[StoryClaim], threshold: float) -> list[StoryFound]:
        if not claims:
            return []
        requests = [
            {
                "id": story_id(c.key),
                "key": c.key,
                "aliases": list(c.aliases),
                "sig": c.signature,
                "bands": list(c.bands),
                "mention": codec.mention_to_json(c.mention),
            }
            for c in claims
        ]
        args: list[Arg] = [
            codec.dumps(requests),
            self.ttls.claim,
            threshold,
            self.keys.prefix,
            time.time(),
        ]
        raw = await self._do(lambda: cast(Awaitable[str], self._assign([self.keys.prefix], args)))
        return [
            StoryFound(story, bool(new), bool(known), codec.mentions_from_json(values))
            for story, new, known, values in json.loads(raw)
        ]

    async def claimed_alerts(self, alert_ids: list[str]) -> list[Alert | None]:
        if not alert_ids:
            return []
        names = [self.keys.claim(a) for a in alert_ids]
        raws = await self._do(lambda: cast(Awaitable[list[str | None]], self._client.mget(names)))
        return [codec.alert_from_entry(r) for r in raws]

    # outbox ----------------------------------------------------------------------------

    @property
    def _outbox_keys(self) -> list[str]:
        k = self.keys
        return [k.outbox_data, k.outbox_queue, k.outbox_leased, k.outbox_dead]

    async def enqueue(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        now = _ms(time.time()) - 1

        async def write() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                for index, alert in enumerate(alerts):
                    pipe.hset(self.keys.outbox_data, alert.id, codec.entry_to_json(alert))
                    pipe.zrem(self.keys.outbox_dead, alert.id)
                    pipe.zrem(self.keys.outbox_leased, alert.id)
                    pipe.zadd(self.keys.outbox_queue, {alert.id: now + index / 1_000_000})
                await pipe.execute()

        await self._do(write)

    async def lease(self, limit: int, lease_seconds: float) -> list[OutboxEntry]:
        now = time.time()
        keys = self._outbox_keys[:3]
        args: list[Arg] = [_ms(now), limit, _ms(now + lease_seconds)]
        flat = await self._do(lambda: cast(Awaitable[list[str]], self._lease(keys, args)))
        return [
            codec.entry_from_json(flat[i + 1], "sending", _from_ms(float(flat[i + 2])))
            for i in range(0, len(flat), 3)
        ]

    async def _entry(self, alert_id: str) -> OutboxEntry | None:
        raw = await self._do(lambda: self._client.hget(self.keys.outbox_data, alert_id))
        return None if raw is None else codec.entry_from_json(raw, "?", None)

    async def ack(self, alert_id: str, receipt: str | None = None) -> None:
        keys = [*self._outbox_keys, self.keys.receipt(alert_id), self.keys.outbox_sent]
        args: list[Arg] = [
            alert_id,
            datetime.now(UTC).isoformat(),
            receipt or "",
            self.ttls.receipt,
            SENT_KEEP,
        ]
        await self._do(lambda: cast(Awaitable[int], self._ack(keys, args)))

    async def _move_entry(self, alert_id: str, target: str, score: float, error: str) -> None:
        entry = await self._entry(alert_id)
        if entry is None:
            return
        raw = codec.entry_to_json(entry.alert, entry.attempts + 1, error)
        args: list[Arg] = [alert_id, raw, target, _ms(score)]
        await self._do(lambda: cast(Awaitable[int], self._move(self._outbox_keys, args)))

    async def retry(self, alert_id: str, due: datetime, error: str) -> None:
        await self._move_entry(alert_id, "queue", due.timestamp(), error)

    async def release(self, alert_ids: list[str], due: datetime) -> None:
        if alert_ids:
            args: list[Arg] = [_ms(due.timestamp()), *alert_ids]
            keys = [self.keys.outbox_queue, self.keys.outbox_leased]
            await self._do(lambda: cast(Awaitable[int], self._release(keys, args)))

    async def touch(self, alert_ids: list[str], lease_seconds: float) -> None:
        if alert_ids:
            args: list[Arg] = [_ms(time.time() + lease_seconds), *alert_ids]
            keys = [self.keys.outbox_leased]
            await self._do(lambda: cast(Awaitable[int], self._touch(keys, args)))

    async def dead(self, alert_id: str, reason: str) -> None:
        await self._move_entry(alert_id, "dead", time.time(), reason)

    async def outbox_stats(self) -> OutboxStats:
        async def count() -> OutboxStats:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.zcard(self.keys.outbox_queue)
                pipe.zcard(self.keys.outbox_leased)
                pipe.zcard(self.keys.outbox_dead)
                queued, sending, dead = await pipe.execute()
            return OutboxStats(queued=int(queued), sending=int(sending), dead=int(dead))

        return await self._do(count)

    async def next_due(self) -> datetime | None:
        async def first() -> datetime | None:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.zrange(self.keys.outbox_queue, 0, 0, withscores=True)
                pipe.zrange(self.keys.outbox_leased, 0, 0, withscores=True)
                queued, leased = await pipe.execute()
            scores = [float(s) for _, s in (*queued, *leased)]
            return _from_ms(min(scores)) if scores else None

        return await self._do(first)

    async def list_dead(self, limit: int = 100) -> list[OutboxEntry]:
        async def read() -> list[OutboxEntry]:
            pairs = await self._client.zrevrange(
                self.keys.outbox_dead, 0, limit - 1, withscores=True
            )
            if not pairs:
                return []
            raws = await self._client.hmget(self.keys.outbox_data, [p[0] for p in pairs])
            return [
                codec.entry_from_json(raw, "dead", _from_ms(score))
                for (_, score), raw in zip(pairs, raws, strict=True)
                if raw is not None
            ]

        return await self._do(read)

    async def requeue_dead(self, alert_ids: list[str] | None) -> int:
        async def move() -> int:
            ids = alert_ids
            if ids is None:
                ids = list(await self._client.zrange(self.keys.outbox_dead, 0, -1))
            now = _ms(time.time())
            moved = 0
            for alert_id in ids:
                if await self._client.zrem(self.keys.outbox_dead, alert_id):
                    await self._client.zadd(self.keys.outbox_queue, {alert_id: now})
                    moved += 1
            return moved

        return await self._do(move)

    async def recent_sent(self, limit: int = 20) -> list[SentRecord]:
        raws = await self._do(
            lambda: cast(
                Awaitable[list[str]], self._client.lrange(self.keys.outbox_sent, 0, limit - 1)
            )
        )
        return [codec.sent_from_json(r) for r in raws]

    async def pending(self, alert_ids: list[str]) -> list[bool]:
        if not alert_ids:
            return []

        async def read() -> list[bool]:
            async with self._client.pipeline(transaction=False) as pipe:
                for alert_id in alert_ids:
                    pipe.zscore(self.keys.outbox_queue, alert_id)
                    pipe.zscore(self.keys.outbox_leased, alert_id)
                found = await pipe.execute()
            return [
                found[i] is not None or found[i + 1] is not None for i in range(0, len(found), 2)
            ]

        return await self._do(read)

    async def receipt(self, alert_id: str) -> str | None:
        return await self._do(lambda: self._client.get(self.keys.receipt(alert_id)))

    # liveness and small state ----------------------------------------------------------

    async def heartbeat(self, instance: str, ttl_seconds: float) -> None:
        now = datetime.now(UTC).isoformat()
        name = self.keys.heartbeat(instance)
        await self._do(lambda: self._client.set(name, now, px=_ms(ttl_seconds)))

    async def last_heartbeat(self) -> datetime | None:
        async def read() -> datetime | None:
            names = [k async for k in self._client.scan_iter(self.keys.heartbeat_prefix + "*")]
            if not names:
                return None
            beats = [datetime.fromisoformat(v) for v in await self._client.mget(names) if v]
            return max(beats) if beats else None

        return await self._do(read)

    async def pace(self, limits: list[tuple[str, float, float]]) -> float:
        if not limits:
            return 0.0
        keys = [self.keys.pace(key) for key, _, _ in limits]
        args: list[Arg] = [time.time() * 1000, uuid.uuid4().hex]
        for _, rate, per in limits:
            if rate < 1:  # e.g. 0.5 a second is one every 2 seconds
                rate, per = 1.0, per / rate
            args += [int(rate), per * 1000]
        raw = await self._do(lambda: cast(Awaitable[str], self._pace(keys, args)))
        return float(raw) / 1000

    async def end_heartbeat(self, instance: str) -> None:
        await self._do(lambda: self._client.delete(self.keys.heartbeat(instance)))

    async def kv_get(self, name: str) -> str | None:
        return await self._do(lambda: self._client.get(self.keys.kv(name)))

    async def kv_set(self, name: str, value: str, ttl_seconds: float | None = None) -> None:
        px = None if ttl_seconds is None else _ms(ttl_seconds)
        await self._do(lambda: self._client.set(self.keys.kv(name), value, px=px))

    async def kv_set_nx(self, name: str, value: str, ttl_seconds: float) -> bool:
        result = await self._do(
            lambda: self._client.set(self.keys.kv(name), value, px=_ms(ttl_seconds), nx=True)
        )
        return bool(result)

    async def kv_delete(self, name: str) -> None:
        await self._do(lambda: self._client.delete(self.keys.kv(name)))
