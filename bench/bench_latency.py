"""End-to-end alert latency: publication on a local feed server to receipt at a local fake
Telegram, with the daemon polling every 5 seconds.

    python -m bench.bench_latency [--items 200] [--feeds 10] [--interval 5] [--json rows.json]

The feed server and the fake Bot API run in child processes; `monitor run` is a third one,
with the shipped rules, the embedded store and Telegram pacing off (one chat cannot take more
than one message a second: that would measure Telegram's limit, not us). Items that the rules
match are published at random moments over `items / rate` seconds; an item's latency runs from
the moment the server publishes it to the moment its message reaches the fake Telegram (both
read CLOCK_MONOTONIC, which all processes share). Target: p99 <= poll interval + 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.child import ROOT, Child

ISOLATES = dict.fromkeys([0x2066, 0x2067, 0x2068, 0x2069])


def write_config(folder: Path, feeds: Child, tg: Child, n: int, interval: float) -> Path:
    config = {
        "store": {"url": "sqlite:state.db"},
        "rules": str(ROOT / "rules"),
        "log": {"level": "warning", "format": "json"},
        # APScheduler adds up to `jitter` to every interval: keep it small to poll every ~5 s
        "defaults": {"interval": f"{interval}s", "jitter": "0.5s"},
        "telegram": {"token": tg.extra[0], "api_base": tg.base_url, "pacing": False},
        "sources": [
            {"id": f"f{i}", "type": "rss", "url": f"{feeds.base_url}/f{i}.xml"} for i in range(n)
        ],
        "sinks": [{"id": "desk", "type": "telegram", "chat_id": "-1001", "digest_after": None}],
    }
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(items: int, n_feeds: int, interval: float, rate: float) -> dict[str, Any]:
    feeds, tg = Child("feeds", str(n_feeds)), Child("telegram")
    published: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), feeds, tg, n_feeds, interval)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(interval * 2 + 2)  # the first polls take the existing items
            rng = random.Random(7)
            counts = [30] * n_feeds
            for _ in range(items):
                time.sleep(rng.expovariate(rate))
                feed = rng.randrange(n_feeds)
                feeds.send(f"addm {feed} 1")
                published[f"{feed}-{counts[feed]}"] = time.monotonic()
                counts[feed] += 1
            deadline = time.monotonic() + interval * 3 + 30
            while time.monotonic() < deadline and int(tg.send("count")) < items:
                time.sleep(0.5)
            received = json.loads(tg.send("dump"))
        finally:
            daemon.terminate()
            daemon.wait(30)
            tg.close()
            feeds.close()
    latencies = []
    for text, arrived in received:
        plain = text.translate(ISOLATES)
        if "هدنة رقم " in plain:
            key = plain.split("هدنة رقم ")[1].split(":")[0]
            if key in published:
                latencies.append(arrived - published[key])
    return {
        "items": items,
        "received": len(latencies),
        "interval": interval,
        "p50": statistics.median(latencies),
        "p90": percentile(latencies, 0.9),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=2.0, help="items published per second")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    row = run(args.items, args.feeds, args.interval, args.rate)
    print(
        f"## Alert latency ({row['received']}/{row['items']} items, {args.feeds} feeds, "
        f"poll every {args.interval:g} s)\n"
    )
    print("| poll interval | p50 | p90 | p99 | max | target p99 |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.interval:g} s | {row['p50']:.2f} s | {row['p90']:.2f} s | {row['p99']:.2f} s "
        f"| {row['max']:.2f} s | <= {args.interval + 1:g} s |"
    )
    if args.json:
        args.json.write_text(json.dumps(row, indent=2))
    return 0 if row["received"] == row["items"] else 1


if __name__ == "__main__":
    sys.exit(main())
