"""Pacing: never more than `rate` sends in any window of `per` seconds."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.pacing import Pacer, WindowLimit
from monitor.sinks.base import Limit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limit_allows_burst_then_paces() -> None:
    clock = Clock()
    bucket = WindowLimit(20, 60, clock)
    for _ in range(20):
        assert bucket.wait_time() == 0
        bucket.take()
    clock.now = 10.0
    assert bucket.wait_time() == pytest.approx(50.0)  # the first send leaves the window at 60
    clock.now = 60.0
    assert bucket.wait_time() == 0


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(1, 30),
    per=st.sampled_from([0.5, 1.0, 60.0]),
    gaps=st.lists(st.floats(0, 5), min_size=5, max_size=80),
)
def test_no_window_exceeds_the_rate(rate: int, per: float, gaps: list[float]) -> None:
    clock = Clock()
    bucket = WindowLimit(rate, per, clock)
    sent: list[float] = []
    for gap in gaps:
        clock.now += gap
        while (wait := bucket.wait_time()) > 0:  # as Pacer.acquire does
            clock.now += wait
        bucket.take()
        sent.append(clock.now)
    for i, start in enumerate(sent):
        in_window = [t for t in sent[i:] if t < start + per - 1e-9]
        assert len(in_window) <= rate


async def test_pacer_waits_for_every_bucket() -> None:
    pacer = Pacer()
    limits = (Limit("chat", 1, 0.1), Limit("bot", 100, 1))
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(3):
        await pacer.acquire(limits)
    assert loop.time() - start >= 0.19  # 1 per 0.1 s: the 2nd and 3rd waited


async def test_pacer_off() -> None:
    pacer = Pacer()
    pacer.enabled = False
    for _ in range(100):
        await pacer.acquire((Limit("chat", 1, 60),))
