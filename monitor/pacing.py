"""Token buckets that pace sends per destination and per bot (pure apart from sleeping)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from monitor.sinks.base import Limit


class TokenBucket:
    """`rate` tokens per `per` seconds, holding at most `rate` tokens (so a burst never exceeds
    the limit over any window of `per` seconds)."""

    def __init__(
        self, rate: float, per: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        self.capacity = max(rate, 1.0)
        self.fill_per_second = rate / per
        self.clock = clock
        self.tokens = self.capacity
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.fill_per_second)
        self.stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is there (0 when one is there now)."""
        self._refill()
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.fill_per_second

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


class Pacer:
    """All buckets of a process, by key; a send waits until every bucket it needs has a token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}
        self.enabled = True

    def _bucket(self, limit: Limit) -> TokenBucket:
        bucket = self.buckets.get(limit.key)
        if bucket is None:
            bucket = self.buckets[limit.key] = TokenBucket(limit.rate, limit.per, self.clock)
        return bucket

    async def acquire(self, limits: Iterable[Limit]) -> None:
        if not self.enabled:
            return
        buckets = [self._bucket(limit) for limit in limits]
        while True:
            wait = max((b.wait_time() for b in buckets), default=0.0)
            if wait <= 0:
                for bucket in buckets:
                    bucket.take()
                return
            await asyncio.sleep(wait)
