"""Delivery throughput: alerts per second through the outbox to a local fake Telegram with
pacing off, and store round trips per alert.

    python -m bench.bench_delivery [--alerts 1000] [--json rows.json]

The fake Bot API runs in a child process (its CPU is not ours). Alerts are enqueued, then one
`Delivery.drain` leases them in batches, renders each (HTML, escaping, isolates), sends it with
python-telegram-bot and acknowledges it. Round trips are counted at the store's one I/O seam
(every Redis call or pipeline, every SQLite transaction on the store's thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.child import Child
from monitor.config.schema import DeliveryConfig, TelegramConfig, TelegramSinkConfig
from monitor.delivery import Delivery
from monitor.logging import configure as configure_logging
from monitor.model import Alert, Destination, Hit, Item, Level, RuleMatch
from monitor.sinks.telegram import TelegramSink
from monitor.store import Store
from monitor.store.redis import RedisStore
from monitor.store.sqlite import SqliteStore
from monitor.telegram_client import BotPool

TEXT = "أفادت مصادر أمنية بسقوط ثلاثة صواريخ من طراز كاتيوشا على قاعدة عين الأسد الجوية " * 4


def alert(n: int) -> Alert:
    item = Item(
        source_id="wire",
        key=f"k{n}",
        title=f"سقوط صواريخ على قاعدة عين الأسد ({n})",
        text=TEXT,
        url=f"https://news.example/{n}",
    )
    match = RuleMatch(
        "strike-on-bases",
        "هجوم على قاعدة",
        Level.CRITICAL,
        (Hit("title", 0, 4, "سقوط"), Hit("text", 30, 35, "صواريخ")),
    )
    return Alert(f"a{n}", Destination("desk"), f"s{n}", item, (match,))


class CountingRedis(RedisStore):
    trips = 0

    async def _do(self, call: Any) -> Any:
        self.trips += 1
        return await super()._do(call)


class CountingSqlite(SqliteStore):
    trips = 0

    async def _run(self, fn: Any) -> Any:
        self.trips += 1
        return await super()._run(fn)


async def measure(store: Any, tg: Child, n: int) -> dict[str, float]:
    await store.open()
    bots = BotPool()
    sink = TelegramSink(
        TelegramSinkConfig(id="desk", type="telegram", chat_id="-1001"),
        TelegramConfig(token=tg.extra[0], api_base=tg.base_url, pacing=False),
        bots,
    )
    delivery = Delivery(store, {"desk": sink}, DeliveryConfig(batch=100))
    await sink.send(alert(-1))  # connections and the bot warmed up
    await store.enqueue([alert(i) for i in range(n)])
    store.trips = 0
    wall, cpu = time.perf_counter(), time.process_time()
    waiting = await delivery.drain(time.monotonic() + 600)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    trips = store.trips
    await bots.aclose()
    await store.close()
    assert waiting == 0 and delivery.stats.sent == n
    return {"alerts/s": n / wall, "CPU ms/alert": cpu * 1000 / n, "round trips/alert": trips / n}


async def run(n: int) -> list[dict[str, Any]]:
    from tests.support.redis_server import RedisServer

    rows = []
    redis = RedisServer()
    redis.start()
    tg = Child("telegram")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stores: list[tuple[str, Store]] = [
                ("sqlite", CountingSqlite(Path(tmp) / "s.db")),
                ("redis", CountingRedis(redis.url, namespace="bench")),
            ]
            for name, store in stores:
                rows.append({"store": name, **await measure(store, tg, n)})
    finally:
        tg.close()
        redis.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configure_logging("warning", "json")
    rows = asyncio.run(run(args.alerts))
    print(f"## Delivery ({args.alerts} alerts to one Telegram chat, pacing off)\n")
    print("| store | alerts/s | CPU ms per alert | store round trips per alert |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['store']} | {r['alerts/s']:.0f} | {r['CPU ms/alert']:.2f} | {r['round trips/alert']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
