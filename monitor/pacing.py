"""Rate limits that pace sends per destination and per bot (pure apart from sleeping)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from monitor.errors import StoreError
from monitor.sinks.base import Limit


class WindowLimit:
    """At most `rate` sends in ANY window of `per` seconds (a sliding log of send times).

    A token bucket of capacity `rate` lets through up to 2 x rate in some windows (a full
    bucket plus its refill), which is exactly what earns a 429 from Telegram; the log keeps the
    documented limits to the letter while still letting a small burst out at once.
    """

    def __init__(
        self, rate: float, per: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        if rate < 1:  # e.g. 0.5 per second = 1 per 2 seconds
            per, rate = per / rate, 1.0
        self.rate = int(rate)
        self.per = per
        self.clock = clock
        self.sent: deque[float] = deque()

    def wait_time(self) -> float:
        """Seconds until one more send is allowed (0 when it is allowed now)."""
        now = self.clock()
        while self.sent and self.sent[0] + self.per <= now:
            self.sent.popleft()
        if len(self.sent) < self.rate:
            return 0.0
        return self.sent[0] + self.per - now  # > 0, else the loop above had popped it

    def take(self) -> None:
        self.sent.append(self.clock())


SharedPace = Callable[[list[tuple[str, float, float]]], Awaitable[float]]


class Pacer:
    """All limits of a process, by key; a send waits until every limit it names allows it.

    With `shared` (the store's `pace`, for replicas on several hosts) a send also takes its
    slots from windows kept in the store, so replicas together stay under the limits. When the
    store does not answer, the local windows alone pace (the ack would fail anyway)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, shared: SharedPace | None = None
    ) -> None:
        self.clock = clock
        self.buckets: dict[str, WindowLimit] = {}
        self.enabled = True
        self.shared = shared

    def _bucket(self, limit: Limit) -> WindowLimit:
        bucket = self.buckets.get(limit.key)
        if bucket is None:
            bucket = self.buckets[limit.key] = WindowLimit(limit.rate, limit.per, self.clock)
        return bucket

    async def acquire(self, limits: Iterable[Limit]) -> None:
        if not self.enabled:
            return
        wanted = list(limits)
        buckets = [self._bucket(limit) for limit in wanted]
        while True:
            wait = max((b.wait_time() for b in buckets), default=0.0)
            if wait <= 0 and self.shared is not None and wanted:
                wait = await self._shared_wait(wanted)
            if wait <= 0:
                for bucket in buckets:
                    bucket.take()
                return
            await asyncio.sleep(wait)

    async def _shared_wait(self, limits: list[Limit]) -> float:
        assert self.shared is not None
        try:
            return await self.shared([(limit.key, limit.rate, limit.per) for limit in limits])
        except StoreError:
            return 0.0
