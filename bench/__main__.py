"""Run every benchmark and print one table each: `python -m bench [NAME ...]` (./scripts/bench).

    polling    CPU per poll (304, unchanged, changed) beside bare httpx and aiohttp requests
    matching   items/s and MB/s for 10 .. 100,000 terms against a raw reference
    delivery   alerts/s through the outbox to a fake Telegram, store round trips per alert
    latency    publication -> Telegram receipt at a 5 s poll interval, p50 / p99
    stories    precision and recall of story clustering on the hand-written pairs

Each runs in its own process; the machine is small and noisy, so compare ratios within a run.
The peer comparison with rss2email and newsboat is ../shared/bench/peers (see bench/README.md).
"""

from __future__ import annotations

import subprocess
import sys

from bench.child import ROOT

BENCHES = {
    "polling": [sys.executable, "-m", "bench.bench_polling"],
    "matching": [sys.executable, "bench/bench_matching.py"],
    "delivery": [sys.executable, "-m", "bench.bench_delivery"],
    "latency": [sys.executable, "-m", "bench.bench_latency"],
    "stories": [sys.executable, "-m", "bench.stories_threshold", "--skip-variants"],
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.stderr.write(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}\n"
        )
        return 2
    failed = 0
    for name in names:
        print(f"\n# {name}\n", flush=True)
        failed += subprocess.run(BENCHES[name], cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
