"""The store protocol: the only way the rest of the daemon keeps state.

Two implementations pass one contract suite (tests/contract/test_store_contract.py):
`RedisStore` (production, shared by replicas) and `SqliteStore` (the embedded default).

Guarantees every implementation keeps:
- `commit()` is atomic: seen marks, alert claims, outbox entries and the source cursor are
  written together or not at all, in one round trip. A cursor therefore never advances past
  items whose alerts are not safely in the outbox.
- A claim (`alert.id`) is won once per dedup window, across processes and replicas.
- An outbox entry leaves the outbox only through `ack()` (sent) or becomes dead through
  `dead()`; a leased entry whose lease runs out (crashed sender) is due again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.model import Alert, Mention


@dataclass(slots=True)
class Cursor:
    """What a source remembers between polls."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_status: str | None = None  # "200", "304", "unchanged", or an error kind
    error_count: int = 0
    last_error: str | None = None
    not_before: datetime | None = None  # no poll before this (Retry-After, max-age, backoff)
    items_total: int = 0
    state: dict[str, Any] = field(default_factory=dict)  # source-specific (e.g. last post id)


@dataclass(frozen=True, slots=True)
class SeenMark:
    """One identity of an item (guid, canonical url, content) and the content version seen."""

    identity: str
    version: str


@dataclass(slots=True)
class Batch:
    """Everything one poll of one source writes, committed atomically."""

    cursor: Cursor
    seen: list[SeenMark] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # each is enqueued only if its claim is won


@dataclass(frozen=True, slots=True)
class StoryClaim:
    """An item asking which story it belongs to.

    `key` names the item (unique, source-scoped); `aliases` are identities that other sources
    share (canonical URL, content hash); `signature` is the encoded MinHash (empty: too short
    to compare) with its LSH `bands`; `mention` is what "also reported by" shows of it."""

    key: str
    aliases: tuple[str, ...]
    signature: str
    bands: tuple[str, ...]
    mention: Mention


@dataclass(frozen=True, slots=True)
class StoryFound:
    story: str
    new: bool  # this item started the story
    known: bool  # this item was in the story already (seen again, e.g. an edit)
    mentions: tuple[Mention, ...]  # every item of the story so far, first first


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    alert: Alert
    state: str  # queued | sending | dead
    attempts: int = 0
    due: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class SentRecord:
    alert_id: str
    sink_id: str
    target: str | None
    title: str
    sent_at: datetime
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    queued: int
    sending: int
    dead: int


class Store(Protocol):
    """Async state API. Raises `StoreError` when the backend fails or is unreachable.

    `shared` is True for a store that processes on several hosts share (Redis): then rate
    limits must be kept in the store too, not only in each process."""

    shared: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    # sources
    async def get_cursor(self, source_id: str) -> Cursor | None: ...
    async def save_cursor(self, cursor: Cursor) -> None: ...
    async def list_cursors(self) -> list[Cursor]: ...
    async def seen_versions(self, source_id: str, identities: list[str]) -> list[str | None]: ...
    async def commit(self, batch: Batch) -> list[str]: ...  # ids of alerts enqueued
    async def assign_stories(
        self, claims: list[StoryClaim], threshold: float
    ) -> list[StoryFound]: ...  # atomic: a story found or started per claim, in one round trip
    async def claimed_alerts(self, alert_ids: list[str]) -> list[Alert | None]: ...

    # outbox
    async def lease(self, limit: int, lease_seconds: float) -> list[OutboxEntry]: ...
    async def ack(self, alert_id: str, receipt: str | None = None) -> None: ...
    async def retry(self, alert_id: str, due: datetime, error: str) -> None: ...
    async def release(self, alert_ids: list[str], due: datetime) -> None: ...  # not attempted
    async def touch(self, alert_ids: list[str], lease_seconds: float) -> None: ...  # extend lease
    async def dead(self, alert_id: str, reason: str) -> None: ...
    async def enqueue(self, alerts: list[Alert]) -> None: ...  # unconditional (digests, updates)
    async def outbox_stats(self) -> OutboxStats: ...
    async def next_due(self) -> datetime | None: ...
    async def list_dead(self, limit: int = 100) -> list[OutboxEntry]: ...
    async def requeue_dead(self, alert_ids: list[str] | None) -> int: ...  # None: all
    async def recent_sent(self, limit: int = 20) -> list[SentRecord]: ...
    async def receipt(self, alert_id: str) -> str | None: ...
    async def pending(self, alert_ids: list[str]) -> list[bool]: ...  # queued or being sent

    async def pace(self, limits: list[tuple[str, float, float]]) -> float: ...

    # one slot of every (key, rate, per seconds) limit if all allow it now: 0.0; else nothing
    # is taken and the answer is how many seconds to wait

    # liveness and small state
    async def heartbeat(self, instance: str, ttl_seconds: float) -> None: ...
    async def last_heartbeat(self) -> datetime | None: ...
    async def end_heartbeat(self, instance: str) -> None: ...  # a clean stop: not alive any more
    async def kv_get(self, name: str) -> str | None: ...
    async def kv_set(self, name: str, value: str, ttl_seconds: float | None = None) -> None: ...
    async def kv_set_nx(self, name: str, value: str, ttl_seconds: float) -> bool: ...
    async def kv_delete(self, name: str) -> None: ...
