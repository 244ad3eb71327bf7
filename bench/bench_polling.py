"""Polling cost: CPU ms per poll for 304s, unchanged 200 bodies and changed bodies, beside a
bare httpx request in the same run.

    python -m bench.bench_polling [--feeds 200] [--rounds 3] [--json rows.json]

A child process serves N feeds (30 Arabic news-like items, ~20 KB each, ETag and
Last-Modified) so its CPU is not ours. In this process, CPU time (user+sys of the whole process,
store threads included) is measured around one poll of every feed, for:
- bare httpx: a plain GET of the whole body (200), and a conditional GET answered 304;
- monitor: `Pipeline.poll` (fetch, new items, match with the shipped rules, story dedup, one
  atomic store commit) when the server answers 304, when it sends the same body without
  validators ("unchanged": hashed, not parsed), and when every feed gained 3 items (parsed,
  matched, committed); with the embedded SQLite store and with Redis.
At most 20 polls are in flight at once (as `monitor run --once` bounds them: more requests
than pooled connections make httpcore's pool bookkeeping the main cost). Each figure is the
median of the rounds. Compare ratios within one run: the machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.child import ROOT, Child
from monitor.config.schema import RssSourceConfig
from monitor.logging import configure as configure_logging
from monitor.matching import compile_rules
from monitor.model import Level
from monitor.pipeline import Pipeline
from monitor.routing import Router
from monitor.sources.http import HttpLimits, build_client
from monitor.sources.rss import RssSource
from monitor.store import Store
from monitor.store.redis import RedisStore
from monitor.store.sqlite import SqliteStore

CONCURRENCY = 20  # polls in flight at once, as `monitor run --once` bounds them


async def cpu_ms_per_call(n: int, call: Callable[[int], Awaitable[Any]]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    start = time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    return (time.process_time() - start) * 1000 / n


async def bare(client: httpx.AsyncClient, urls: list[str], rounds: int) -> dict[str, float]:
    etags = [(await client.get(u)).headers["etag"] for u in urls]

    async def full(i: int) -> None:
        (await client.get(urls[i])).read()

    async def conditional(i: int) -> None:
        response = await client.get(urls[i], headers={"If-None-Match": etags[i]})
        assert response.status_code == 304

    return {
        "httpx GET 200": statistics.median(
            [await cpu_ms_per_call(len(urls), full) for _ in range(rounds)]
        ),
        "httpx GET 304": statistics.median(
            [await cpu_ms_per_call(len(urls), conditional) for _ in range(rounds)]
        ),
    }


async def ours(
    store: Store, server: Child, client: httpx.AsyncClient, urls: list[str], rounds: int
) -> dict[str, float]:
    engine, _ = compile_rules(ROOT / "rules")
    router = Router([], {"console": Level.INFO})
    pipe = Pipeline(store, matcher=lambda: engine, router=lambda: router)
    sources = [
        RssSource(
            RssSourceConfig(id=f"f{i}", type="rss", url=u),
            client=client,
            limits=HttpLimits(),
            base_dir=ROOT,
        )
        for i, u in enumerate(urls)
    ]

    async def poll(i: int) -> None:
        await pipe.poll(sources[i], force=True)

    await cpu_ms_per_call(len(urls), poll)  # first poll: every item is new (not measured)
    out: dict[str, list[float]] = {"304": [], "changed (+3 items)": [], "unchanged 200": []}
    for _ in range(rounds):
        out["304"].append(await cpu_ms_per_call(len(urls), poll))
        for i in range(len(urls)):
            server.send(f"add {i} 3")
        out["changed (+3 items)"].append(await cpu_ms_per_call(len(urls), poll))
    for i in range(len(urls)):
        server.send(f"plain {i}")
    await cpu_ms_per_call(len(urls), poll)  # the first body without validators is parsed
    for _ in range(rounds):
        out["unchanged 200"].append(await cpu_ms_per_call(len(urls), poll))
    return {f"monitor {k}": statistics.median(v) for k, v in out.items()}


async def run(feeds: int, rounds: int) -> list[dict[str, Any]]:
    from tests.support.redis_server import RedisServer

    rows: list[dict[str, Any]] = []
    redis = RedisServer()
    redis.start()
    try:
        for backend in ("sqlite", "redis"):
            server = Child("feeds", str(feeds))
            urls = [f"{server.base_url}/f{i}.xml" for i in range(feeds)]
            client = build_client(
                connect_timeout=5,
                read_timeout=10,
                max_redirects=3,
                user_agent="bench",
                max_connections=50,
            )
            with tempfile.TemporaryDirectory() as tmp:
                store: Store = (
                    SqliteStore(Path(tmp) / "s.db")
                    if backend == "sqlite"
                    else RedisStore(redis.url, namespace=f"bench-{time.time()}")
                )
                await store.open()
                try:
                    if backend == "sqlite":
                        for name, value in (await bare(client, urls, rounds)).items():
                            rows.append({"what": name, "store": "-", "cpu_ms": value})
                    for name, value in (await ours(store, server, client, urls, rounds)).items():
                        rows.append({"what": name, "store": backend, "cpu_ms": value})
                finally:
                    await store.close()
            await client.aclose()
            server.close()
    finally:
        redis.close()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    base = next(r["cpu_ms"] for r in rows if r["what"] == "httpx GET 200")
    lines = ["| poll | store | CPU ms per poll | x bare httpx GET 200 |", "|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['what']} | {row['store']} | {row['cpu_ms']:.2f} | {row['cpu_ms'] / base:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configure_logging("warning", "json")  # as the daemon runs in production: no per-poll lines
    rows = asyncio.run(run(args.feeds, args.rounds))
    print(f"## Polling cost ({args.feeds} feeds, median of {args.rounds} rounds)\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
