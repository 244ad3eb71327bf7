"""APScheduler wiring only: one interval job per source, with jitter, never overlapping."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.sources.base import Source

PollFn = Callable[[Source], Awaitable[Any]]


def build_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,  # a poll that missed several runs runs once
            "max_instances": 1,  # a slow poll is never overlapped by the next
            "misfire_grace_time": None,
        },
    )


def schedule_sources(
    scheduler: AsyncIOScheduler,
    sources: Iterable[tuple[Source, float, float]],
    poll: PollFn,
) -> None:
    """(Re)place one job per (source, interval, jitter); jobs of sources no longer listed go."""
    wanted: set[str] = set()
    now = datetime.now(UTC)
    for source, interval, jitter in sources:
        job_id = f"poll:{source.id}"
        wanted.add(job_id)
        first = now + timedelta(seconds=random.uniform(0, min(jitter, interval)))
        scheduler.add_job(
            poll,
            IntervalTrigger(seconds=interval, jitter=jitter or None),
            args=[source],
            id=job_id,
            name=job_id,
            replace_existing=True,
            next_run_time=first,
        )
    for job in scheduler.get_jobs():
        if job.id.startswith("poll:") and job.id not in wanted:
            job.remove()


def next_runs(scheduler: AsyncIOScheduler) -> dict[str, datetime | None]:
    return {job.id.removeprefix("poll:"): job.next_run_time for job in scheduler.get_jobs()}
