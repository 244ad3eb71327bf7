"""Polling cost: CPU ms per poll for 304s, unchanged 200 bodies and changed bodies, beside a
bare httpx request in the same run.

    python -m bench.bench_polling [--feeds 200] [--rounds 3] [--json rows.json]

A child process serves N feeds (30 Arabic news-like items, ~20 KB each, ETag and
Last-Modified) so its CPU is not ours. In this process, CPU time (user+sys of the whole process,
store threads included) is measured around one poll of every feed, for:
- bare clients: httpx and aiohttp, a plain GET of the whole body (200), and a conditional GET
  answered 304 (the sources use aiohttp: see monitor/sources/http.py);
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

import aiohttp
import httpx

from bench.child import ROOT, Child
from monitor.config.schema import RssSourceConfig
from monitor.logging import configure as configure_logging
from monitor.matching import compile_rules
from monitor.model import Level
from monitor.pipeline import Pipeline
from monitor.routing import Router
from monitor.sources.http import FeedClient, HttpLimits, build_client
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


async def bare(urls: list[str], rounds: int) -> dict[str, float]:
    """A bare httpx client (the library the project started with) and a bare aiohttp session
    (what the sources use), each asking for the whole body and for a 304."""
    out: dict[str, float] = {}
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY))
    etags = [(await client.get(u)).headers["etag"] for u in urls]

    async def full(i: int) -> None:
        (await client.get(urls[i])).read()

    async def conditional(i: int) -> None:
        assert (await client.get(urls[i], headers={"If-None-Match": etags[i]})).status_code == 304

    out["httpx GET 200"] = statistics.median(
        [await cpu_ms_per_call(len(urls), full) for _ in range(rounds)]
    )
    out["httpx GET 304"] = statistics.median(
        [await cpu_ms_per_call(len(urls), conditional) for _ in range(rounds)]
    )
    await client.aclose()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def aio_full(i: int) -> None:
            async with session.get(urls[i]) as response:
                await response.read()

        async def aio_conditional(i: int) -> None:
            async with session.get(urls[i], headers={"If-None-Match": etags[i]}) as response:
                await response.read()

        out["aiohttp GET 200"] = statistics.median(
            [await cpu_ms_per_call(len(urls), aio_full) for _ in range(rounds)]
        )
        out["aiohttp GET 304"] = statistics.median(
            [await cpu_ms_per_call(len(urls), aio_conditional) for _ in range(rounds)]
        )
    return out


async def ours(
    store: Store, server: Child, client: FeedClient, urls: list[str], rounds: int
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
                        for name, value in (await bare(urls, rounds)).items():
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
