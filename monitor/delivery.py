"""Outbox -> sinks: paced, ordered per destination, retried, never silently dropped.

Leased outbox entries are sorted into lanes, one per destination (a chat, a channel). A lane sends
in order and waits for tokens from every bucket its sink names. What the sink raises decides:
    DeliveryRateLimited      -> that alert due again after retry_after; the lane pauses as long
    TransientDeliveryError   -> due again after capped exponential backoff with jitter; lane pauses
    PermanentDeliveryError   -> dead letter with the reason (`monitor status`, `outbox retry`)
When a lane pauses, the rest of its entries go back to the store in order. An alert leaves the
outbox only when the sink confirmed it (ack), so a crash re-sends at most the one in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from monitor import routing
from monitor.config.schema import DeliveryConfig
from monitor.errors import (
    DeliveryError,
    DeliveryRateLimited,
    PermanentDeliveryError,
    StoreError,
)
from monitor.logging import get_logger
from monitor.metrics import Metrics
from monitor.model import Alert, utcnow
from monitor.pacing import Pacer
from monitor.sinks.base import Sink
from monitor.store import OutboxEntry, Store

log = get_logger("monitor.delivery")

GIVE_UP_AFTER = timedelta(days=2)  # a transient failure this old becomes a dead letter
UPDATE_WAIT = 15.0  # seconds an update waits for its story's first alert to be sent


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    digests: int = 0


@dataclass(slots=True)
class Lane:
    key: str
    sink: Sink
    queue: deque[OutboxEntry] = field(default_factory=deque)
    paused_until: float = 0.0  # monotonic
    task: asyncio.Task[None] | None = None


class Delivery:
    def __init__(
        self,
        store: Store,
        sinks: Mapping[str, Sink],
        config: DeliveryConfig,
        *,
        digest_after: Mapping[str, int] | None = None,
        pacer: Pacer | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.sinks = dict(sinks)
        self.config = config
        self.digest_after = dict(digest_after or {})
        self.pacer = pacer or Pacer()
        self.stats = DeliveryStats()
        self._lanes: dict[str, Lane] = {}
        self._wake = asyncio.Event()
        self._unacked: dict[str, str | None] = {}  # sent, but the store did not take the ack yet
        self.store_ok = True

    def wake(self, _: object = None) -> None:
        self._wake.set()

    @property
    def held(self) -> int:
        return sum(len(lane.queue) for lane in self._lanes.values())

    def busy(self) -> bool:
        return any(lane.task is not None and not lane.task.done() for lane in self._lanes.values())

    # the loops ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish in-flight sends (see `close`)."""
        renew = asyncio.create_task(self._renew_leases(stop))
        try:
            while not stop.is_set():
                leased = await self.step()
                if not leased:
                    await self._sleep(stop, await self._idle_wait())
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew

    async def drain(self, deadline: float) -> int:
        """Deliver everything due before `deadline` (monotonic), for `run --once`. Returns how
        many entries are still waiting in the outbox afterwards."""
        while time.monotonic() < deadline:
            leased = await self.step()
            if leased:
                continue
            if self.busy():  # look again as soon as a lane finishes or a pause may have ended
                await self._wait_lanes(min(deadline, time.monotonic() + 0.25))
                continue
            try:
                due = await self.store.next_due()
            except StoreError:
                due = None
            if due is None:
                break
            wait = (due - utcnow()).total_seconds()
            if time.monotonic() + wait >= deadline:
                break
            await asyncio.sleep(max(wait, 0.01))
        await self.close(max(deadline - time.monotonic(), 1.0))
        try:
            stats = await self.store.outbox_stats()
        except StoreError:
            return -1
        return stats.queued + stats.sending

    async def step(self) -> int:
        """Lease what there is room for and hand it to the lanes. Returns how many leased."""
        await self._flush_acks()
        room = self.config.batch * 4 - self.held
        if room <= 0:
            return 0
        try:
            entries = await self.store.lease(min(room, self.config.batch), self.config.lease)
        except StoreError as exc:
            self._store_down(exc)
            return 0
        self._store_up()
        for entry in entries:
            self._dispatch(entry)
        return len(entries)

    async def close(self, deadline_seconds: float) -> None:
        """Let in-flight sends finish within the deadline; give the rest back to the outbox."""
        tasks = [lane.task for lane in self._lanes.values() if lane.task and not lane.task.done()]
        for lane in self._lanes.values():
            await self._release(lane, time.monotonic())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=deadline_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush_acks()

    # lanes -------------------------------------------------------------------------------

    def _dispatch(self, entry: OutboxEntry) -> None:
        sink = self.sinks.get(entry.alert.destination.sink_id)
        if sink is None:
            asyncio.get_running_loop().create_task(
                self._dead(entry, f"sink {entry.alert.destination.sink_id!r} is not configured")
            )
            return
        key = f"{sink.id}:{sink.destination_key(entry.alert)}"
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane(key, sink)
        lane.queue.append(entry)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.get_running_loop().create_task(self._run_lane(lane))

    async def _run_lane(self, lane: Lane) -> None:
        while lane.queue:
            pause = lane.paused_until - time.monotonic()
            if pause > 0:  # entries that arrived while paused go back until the pause ends
                await self._release(lane, lane.paused_until)
                return
            threshold = self.digest_after.get(lane.sink.id)
            if threshold is not None and len(lane.queue) > threshold:
                batch = [e for e in lane.queue if e.alert.kind == "alert"]  # updates edit messages
                if len(batch) > threshold:
                    lane.queue = deque(e for e in lane.queue if e.alert.kind != "alert")
                    await self._send_digest(lane, batch)
                    continue
            entry = lane.queue.popleft()
            await self._send_one(lane, entry)

    async def _send_one(self, lane: Lane, entry: OutboxEntry) -> None:
        alert = entry.alert
        if alert.kind == "update" and alert.reply_to is None:
            resolved = await self._resolve_update(alert)
            if resolved is None:
                return
            alert = resolved
        await self.pacer.acquire(lane.sink.limits(alert))
        try:
            async with asyncio.timeout(self.config.send_timeout):
                receipt = await lane.sink.send(alert)
        except Exception as exc:  # the sink's fault, whatever it is, must not lose the alert
            await self._failed(lane, [entry], exc)
            return
        self.stats.sent += 1
        if self.metrics is not None:
            self.metrics.delivered(alert, "sent")
        log.info(
            "alert.sent",
            alert=alert.id,
            sink=alert.destination.key,
            item=alert.item.key,
            source=alert.item.source_id,
            attempts=entry.attempts + 1,
        )
        await self._ack(alert.id, receipt)

    async def _resolve_update(self, alert: Alert) -> Alert | None:
        """An "also reported by" update edits (or answers) the story's first message: find its
        receipt. While that first alert is still in the outbox, wait for it (None: postponed)."""
        original = routing.alert_id(alert.destination, alert.story_key)
        try:
            receipt = await self.store.receipt(original)
            if receipt is None and (await self.store.pending([original]))[0]:
                due = utcnow() + timedelta(seconds=UPDATE_WAIT)
                await self.store.release([alert.id], due)
                return None
        except StoreError as exc:
            self._store_down(exc)
            return None  # the lease runs out and the update is due again
        return replace(alert, reply_to=receipt)

    async def _send_digest(self, lane: Lane, entries: list[OutboxEntry]) -> None:
        await self.pacer.acquire(lane.sink.limits(entries[0].alert))
        try:
            async with asyncio.timeout(self.config.send_timeout):
                receipt = await lane.sink.send_digest([e.alert for e in entries])
        except Exception as exc:
            await self._failed(lane, entries, exc)
            return
        self.stats.sent += len(entries)
        self.stats.digests += 1
        if self.metrics is not None:
            for entry in entries:
                self.metrics.delivered(entry.alert, "sent")
            self.metrics.alerts.labels(lane.sink.id, "digest").inc()
        log.info("alert.digest_sent", sink=lane.key, alerts=[e.alert.id for e in entries])
        for entry in entries:
            await self._ack(entry.alert.id, receipt)

    async def _failed(self, lane: Lane, entries: list[OutboxEntry], exc: BaseException) -> None:
        first = entries[0]
        if isinstance(exc, PermanentDeliveryError):
            for entry in entries:
                await self._dead(entry, str(exc))
            return
        if isinstance(exc, DeliveryRateLimited):
            delay = exc.retry_after
        else:
            delay = self._backoff(first.attempts)
        if not isinstance(exc, DeliveryError | TimeoutError):
            log.error("sink.bug", sink=lane.key, error=f"{type(exc).__name__}: {exc}")
        reason = str(exc) or type(exc).__name__
        kind = getattr(exc, "kind", "timeout" if isinstance(exc, TimeoutError) else "error")
        log.warning(
            "alert.retry",
            sink=lane.key,
            alert=first.alert.id,
            kind=kind,
            error=reason,
            retry_in=round(delay, 2),
            attempts=first.attempts + 1,
        )
        lane.paused_until = time.monotonic() + delay
        due = utcnow() + timedelta(seconds=delay)
        for entry in entries:
            if utcnow() - entry.alert.created > GIVE_UP_AFTER:
                await self._dead(entry, f"gave up after {entry.attempts + 1} attempts: {reason}")
                continue
            self.stats.retried += 1
            if self.metrics is not None:
                self.metrics.delivered(entry.alert, "retried")
            await self._store_call(self.store.retry(entry.alert.id, due, reason))
        await self._release(lane, lane.paused_until)

    def _backoff(self, attempts: int) -> float:
        delay = min(self.config.retry_max, self.config.retry_base * 2**attempts)
        return float(delay * random.uniform(0.5, 1.0))

    async def _release(self, lane: Lane, until_monotonic: float) -> None:
        if not lane.queue:
            return
        ids = [e.alert.id for e in lane.queue]
        lane.queue.clear()
        due = utcnow() + timedelta(seconds=max(until_monotonic - time.monotonic(), 0.0))
        await self._store_call(self.store.release(ids, due))

    # store calls that must not be lost -----------------------------------------------------

    async def _ack(self, alert_id: str, receipt: str | None) -> None:
        self._unacked[alert_id] = receipt
        await self._flush_acks()

    async def _flush_acks(self) -> None:
        for alert_id, receipt in list(self._unacked.items()):
            try:
                await self.store.ack(alert_id, receipt)
            except StoreError as exc:
                self._store_down(exc)
                return
            self._unacked.pop(alert_id, None)
            self._store_up()

    async def _dead(self, entry: OutboxEntry, reason: str) -> None:
        self.stats.dead += 1
        if self.metrics is not None:
            self.metrics.delivered(entry.alert, "dead")
        log.error(
            "alert.dead",
            alert=entry.alert.id,
            sink=entry.alert.destination.key,
            item=entry.alert.item.key,
            source=entry.alert.item.source_id,
            reason=reason,
        )
        await self._store_call(self.store.dead(entry.alert.id, reason))

    async def _store_call(self, call: Awaitable[None]) -> None:
        try:
            await call
        except StoreError as exc:  # the lease runs out and the entry is due again: not lost
            self._store_down(exc)

    def _store_down(self, exc: StoreError) -> None:
        if self.store_ok:
            log.error("store.unavailable", stage="delivery", error=str(exc))
        self.store_ok = False

    def _store_up(self) -> None:
        if not self.store_ok:
            log.info("store.recovered", stage="delivery")
        self.store_ok = True

    # waiting -----------------------------------------------------------------------------

    async def _idle_wait(self) -> float:
        try:
            due = await self.store.next_due()
        except StoreError as exc:
            self._store_down(exc)
            return 2.0
        if due is None:
            return 1.0  # other replicas may enqueue; look again soon
        return min(max((due - utcnow()).total_seconds(), 0.02), 1.0)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        _, pending = await asyncio.wait(
            waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _wait_lanes(self, until: float) -> None:
        """Until one lane is done or `until` (monotonic): a slow lane never holds the others."""
        tasks = [lane.task for lane in self._lanes.values() if lane.task and not lane.task.done()]
        if tasks:
            await asyncio.wait(
                tasks,
                timeout=max(until - time.monotonic(), 0.01),
                return_when=asyncio.FIRST_COMPLETED,
            )

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        """Entries waiting in a lane for a token stay leased to this process."""
        every = max(self.config.lease / 3, 0.5)
        while not stop.is_set():
            await asyncio.sleep(every)
            ids = [e.alert.id for lane in self._lanes.values() for e in lane.queue]
            if ids:
                await self._store_call(self.store.touch(ids, self.config.lease))
