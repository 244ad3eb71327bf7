"""The orchestrator: the one module that knows the order of things.

    poll(source):  fetch -> new items -> match -> story -> route + claim -> outbox (atomic)
                   -> "also reported by" updates for stories that had already alerted

Delivery (outbox -> sinks) runs beside it in monitor.delivery. Every other module knows only the
data model and its own client library; this one wires their results together.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor import dedup, identity
from monitor.dedup import StorySettings
from monitor.errors import SourceError, SourceRateLimited, StoreError
from monitor.logging import get_logger
from monitor.metrics import Metrics
from monitor.model import Alert, Item, RuleMatch, utcnow
from monitor.notices import source_notice
from monitor.routing import Router
from monitor.sources.base import FetchResult, Source
from monitor.store import Batch, Cursor, SeenMark, Store
from monitor.store.base import StoryFound

log = get_logger("monitor.pipeline")


class Matcher(Protocol):
    def match(self, item: Item) -> list[RuleMatch]: ...


@dataclass(frozen=True, slots=True)
class PollSettings:
    backoff_base: float = 60.0
    backoff_max: float = 3600.0
    max_defer: float = 3600.0  # cap on server hints (max-age, <ttl>) that delay the next poll
    max_age: float | None = None  # items published longer ago are marked seen, not alerted
    failing_after: int = 3  # consecutive failures before a source counts as failing
    notify: tuple[str, ...] = ()  # sinks told when a source starts failing and recovers


@dataclass(slots=True)
class PollOutcome:
    source_id: str
    status: str  # 200 | 304 | unchanged | skipped | <error kind> | store
    items: int = 0
    new: int = 0
    matched: int = 0
    enqueued: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Fresh:
    item: Item
    ids: tuple[str, ...]


class Pipeline:
    def __init__(
        self,
        store: Store,
        *,
        matcher: Callable[[], Matcher],
        router: Callable[[], Router],
        settings: PollSettings | None = None,
        stories: StorySettings | None = None,
        on_enqueued: Callable[[list[str]], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.matcher = matcher  # called per poll: rules can be swapped while running
        self.router = router
        self.settings = settings or PollSettings()
        self.stories = stories or StorySettings()
        self.on_enqueued = on_enqueued
        self.store_ok = True

    async def poll(
        self, source: Source, *, force: bool = False, cursor: Cursor | None = None
    ) -> PollOutcome:
        """One poll of one source, start to outbox. Never raises for a source or store fault.
        `cursor`: the source's cursor when the caller read it already (a batch read)."""
        outcome = await self._poll(source, force, cursor)
        if self.metrics is not None:
            self.metrics.poll(source.id, outcome.status, items=outcome.items, new=outcome.new)
            if self.store_ok:
                self.metrics.store_up.set(1)
        return outcome

    async def _poll(self, source: Source, force: bool, known: Cursor | None) -> PollOutcome:
        try:
            cursor = known or await self.store.get_cursor(source.id) or Cursor(source.id)
        except StoreError as exc:
            return self._store_failed(source.id, exc)
        now = utcnow()
        if not force and cursor.not_before is not None and cursor.not_before > now:
            return PollOutcome(source.id, "skipped")
        try:
            result = await source.fetch(cursor)
        except SourceError as exc:
            return await self._fetch_failed(cursor, exc, now)
        try:
            return await self._ingest(source.id, cursor, result, now)
        except StoreError as exc:
            return self._store_failed(source.id, exc)

    async def ingest(self, source_id: str, items: list[Item]) -> PollOutcome:
        """For push sources (a bot's updates): items already fetched go the rest of the way.
        Raises StoreError, so the caller keeps its own cursor (the update offset) where it was."""
        cursor = await self.store.get_cursor(source_id) or Cursor(source_id)
        result = FetchResult("push", items=items, state=cursor.state)
        outcome = await self._ingest(source_id, cursor, result, utcnow())
        if self.metrics is not None:
            self.metrics.poll(source_id, "push", items=outcome.items, new=outcome.new)
        return outcome

    async def _ingest(
        self, source_id: str, cursor: Cursor, result: FetchResult, now: datetime
    ) -> PollOutcome:
        outcome = PollOutcome(source_id, result.status, items=len(result.items))
        fresh = await self._new_items(source_id, result.items)
        outcome.new = len(fresh)
        matched = self._match(fresh, now, outcome)
        found = await self._stories(matched)
        router = self.router()
        alerts = [
            alert
            for (entry, matches), story in zip(matched, found, strict=True)
            for alert in router.alerts(entry.item, matches, story.story)
        ]
        seen = [SeenMark(i, f.item.version) for f in fresh for i in f.ids]
        batch = Batch(
            cursor=self._advanced(cursor, result, now, len(fresh)), seen=seen, alerts=alerts
        )
        outcome.enqueued = await self.store.commit(batch)
        self._store_back()
        await self._also_reported(alerts, outcome.enqueued, found)
        if self.metrics is not None:
            self.metrics.source_state(source_id, errors=0, failing=False, success=True)
            for entry in fresh:
                if entry.item.published is not None:
                    lag = (entry.item.fetched - entry.item.published).total_seconds()
                    self.metrics.fetched(lag)
        if cursor.error_count:
            log.info("source.recovered", source=source_id, after_errors=cursor.error_count)
            if cursor.error_count >= self.settings.failing_after:
                await self._notify(source_id, failing=False, errors=cursor.error_count, error=None)
        for note in result.notes:
            log.info("source.note", source=source_id, note=note)
        if outcome.enqueued:
            for alert in alerts:
                if alert.id in outcome.enqueued:
                    log.info(
                        "alert.queued",
                        source=source_id,
                        item=alert.item.key,
                        alert=alert.id,
                        sink=alert.destination.key,
                        rules=[m.rule_id for m in alert.matches],
                    )
            if self.on_enqueued is not None:
                self.on_enqueued(outcome.enqueued)
        log.debug(
            "poll.done",
            source=source_id,
            status=result.status,
            items=outcome.items,
            new=outcome.new,
            matched=outcome.matched,
            queued=len(outcome.enqueued),
        )
        return outcome

    async def _new_items(self, source_id: str, items: list[Item]) -> list[_Fresh]:
        """Items not seen before, or seen with other content (an edit). Duplicates within one
        fetch count once."""
        candidates: list[_Fresh] = []
        taken: set[str] = set()
        for item in items:
            ids = identity.identities(item.guid, item.url, item.title, item.text)
            if taken.intersection(ids):
                continue
            taken.update(ids)
            candidates.append(_Fresh(item, ids))
        flat = [i for c in candidates for i in c.ids]
        versions = await self.store.seen_versions(source_id, flat) if flat else []
        fresh: list[_Fresh] = []
        position = 0
        for candidate in candidates:
            known = versions[position : position + len(candidate.ids)]
            position += len(candidate.ids)
            if any(v == candidate.item.version for v in known):
                continue  # seen, same content
            if any(v is not None for v in known):
                candidate = _Fresh(replace(candidate.item, edited=True), candidate.ids)
            fresh.append(candidate)
        return fresh

    def _match(
        self, fresh: list[_Fresh], now: datetime, outcome: PollOutcome
    ) -> list[tuple[_Fresh, list[RuleMatch]]]:
        matcher = self.matcher()
        matched: list[tuple[_Fresh, list[RuleMatch]]] = []
        cutoff = None
        if self.settings.max_age is not None:
            cutoff = now - timedelta(seconds=self.settings.max_age)
        for entry in fresh:
            item = entry.item
            if cutoff is not None and item.published is not None and item.published < cutoff:
                continue
            matches = matcher.match(item)
            if not matches:
                continue
            outcome.matched += 1
            if self.metrics is not None:
                for match in matches:
                    self.metrics.matches.labels(match.rule_id).inc()
            log.info(
                "item.matched",
                source=item.source_id,
                item=item.key,
                rules=[m.rule_id for m in matches],
                edited=item.edited,
            )
            matched.append((entry, matches))
        return matched

    async def _stories(self, matched: list[tuple[_Fresh, list[RuleMatch]]]) -> list[StoryFound]:
        """Which story each matched item belongs to (one atomic store call for the batch)."""
        claims = [dedup.story_claim(e.item, e.ids, self.stories) for e, _ in matched]
        return await self.store.assign_stories(claims, self.stories.threshold)

    async def _also_reported(
        self, alerts: list[Alert], won: list[str], found: list[StoryFound]
    ) -> None:
        """A story that gained a source after its alert went out: update that alert."""
        taken = set(won)
        lost = [a for a in alerts if a.id not in taken]
        by_story = {f.story: f for f in found}
        candidates = [
            a for a in lost if (f := by_story.get(a.story_key)) and not f.new and not f.known
        ]
        if not candidates:
            return
        originals = await self.store.claimed_alerts([a.id for a in candidates])
        by_id = {a.id: o for a, o in zip(candidates, originals, strict=True) if o is not None}
        updates = dedup.updates_for(candidates, by_story, by_id)
        if updates:
            await self.store.enqueue(updates)
            for update in updates:
                log.info(
                    "alert.update_queued",
                    alert=update.id,
                    sink=update.destination.key,
                    story=update.story_key,
                    sources=len(update.also) + 1,
                )
            if self.on_enqueued is not None:
                self.on_enqueued([u.id for u in updates])

    def _advanced(self, cursor: Cursor, result: FetchResult, now: datetime, new: int) -> Cursor:
        delay = min(result.min_delay, self.settings.max_defer) if result.min_delay else None
        return replace(
            cursor,
            etag=result.etag,
            last_modified=result.last_modified,
            body_hash=result.body_hash or cursor.body_hash,
            last_poll=now,
            last_success=now,
            last_status=result.status,
            error_count=0,
            last_error=None,
            not_before=now + timedelta(seconds=delay) if delay else None,
            items_total=cursor.items_total + new,
            state=result.state if result.state is not None else cursor.state,
        )

    async def _fetch_failed(self, cursor: Cursor, exc: SourceError, now: datetime) -> PollOutcome:
        errors = cursor.error_count + 1
        delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (errors - 1))
        delay *= random.uniform(0.9, 1.1)
        if isinstance(exc, SourceRateLimited):
            delay = max(delay, exc.retry_after)
        message = f"{exc.kind}: {exc.message}"
        if message != cursor.last_error:  # once per state change, not once per poll
            log.warning(
                "source.failing",
                source=cursor.source_id,
                kind=exc.kind,
                error=exc.message,
                errors=errors,
                retry_in=round(delay, 1),
            )
        else:
            log.debug("source.still_failing", source=cursor.source_id, errors=errors)
        failed = replace(
            cursor,
            last_poll=now,
            last_status=exc.kind,
            error_count=errors,
            last_error=message,
            not_before=now + timedelta(seconds=delay),
        )
        if self.metrics is not None:
            failing = errors >= self.settings.failing_after
            self.metrics.source_state(
                cursor.source_id, errors=errors, failing=failing, success=False
            )
        try:
            await self.store.save_cursor(failed)
            self._store_back()
            if errors == self.settings.failing_after:
                await self._notify(cursor.source_id, failing=True, errors=errors, error=message)
        except StoreError as store_exc:
            self._store_failed(cursor.source_id, store_exc)
        return PollOutcome(cursor.source_id, exc.kind, error=str(exc))

    async def _notify(
        self, source_id: str, *, failing: bool, errors: int, error: str | None
    ) -> None:
        if not self.settings.notify:
            return
        alerts = source_notice(
            source_id, self.settings.notify, failing=failing, errors=errors, error=error
        )
        await self.store.enqueue(alerts)
        if self.on_enqueued is not None:
            self.on_enqueued([a.id for a in alerts])

    def _store_failed(self, source_id: str, exc: StoreError) -> PollOutcome:
        if self.store_ok:
            log.error("store.unavailable", source=source_id, error=str(exc))
        self.store_ok = False
        if self.metrics is not None:
            self.metrics.store_up.set(0)
        return PollOutcome(source_id, "store", error=str(exc))

    def _store_back(self) -> None:
        if not self.store_ok:
            log.info("store.recovered")
        self.store_ok = True
