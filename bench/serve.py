"""Run a local fake service in a child process, so that its CPU is not counted as ours.

    python -m bench.serve feeds N        # N feeds /f<i>.xml, 30 Arabic items each
    python -m bench.serve telegram       # the fake Bot API (one channel, -1001)

Prints "READY <base_url>" and then reads commands on stdin, one per line:
    add <i> <k>        feed i gains k new items (new ETag and Last-Modified)
    addm <i> <k>       the same, items that the shipped rules match (a truce report)
    plain <i>          feed i stops sending validators (same body every time)
    count              prints the number of messages the fake Telegram accepted
    dump               prints them as one JSON list of [plain text, time.monotonic() of arrival]
    quit
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

WORDS = [
    "أعلنت",
    "قيادة",
    "العمليات",
    "المشتركة",
    "عن",
    "تنفيذ",
    "عملية",
    "أمنية",
    "في",
    "محافظة",
    "الأنبار",
    "وقالت",
    "مصادر",
    "محلية",
    "إن",
    "القوات",
    "الأمنية",
    "انتشرت",
    "في",
    "محيط",
    "المدينة",
    "وأغلقت",
    "الطرق",
    "المؤدية",
    "إلى",
    "المنطقة",
    "الصناعية",
    "بينما",
    "تواصل",
    "فرق",
    "الدفاع",
    "المدني",
    "عمليات",
    "البحث",
    "وأكد",
    "مسؤول",
    "في",
    "وزارة",
    "الداخلية",
    "أن",
    "الوضع",
    "تحت",
    "السيطرة",
]


def item(feed: int, n: int, matching: bool = False) -> dict[str, str]:
    """A news-like item; every (feed, n) tells a different story (words drawn by a seeded
    generator, so story deduplication keeps them apart)."""
    rng = random.Random(feed * 100_003 + n)
    words = [rng.choice(WORDS) for _ in range(90)]
    title = " ".join(words[:9])
    if matching:
        title = f"الفصائل تعلن هدنة رقم {feed}-{n}: {title}"
    return {
        "guid": f"f{feed}-{n}",
        "title": title,
        "link": f"https://news.example/{feed}/{n}",
        "description": "<p>" + " ".join(words[9 : 69 + n % 20]) + "</p>",
        "pubDate": "Mon, 30 Nov 2026 08:00:00 GMT",
    }


def serve_feeds(n: int) -> None:
    from tests.fakes.feeds import FakeFeedServer

    counts = [30] * n
    with FakeFeedServer() as srv:
        for i in range(n):
            srv.add_feed(f"/f{i}.xml", [item(i, k) for k in range(30)])
        print(f"READY {srv.base_url}", flush=True)
        for line in sys.stdin:
            cmd, *args = line.split()
            if cmd in ("add", "addm"):
                i, k = int(args[0]), int(args[1])
                new = [item(i, counts[i] + j, cmd == "addm") for j in range(k)]
                srv.add_items(f"/f{i}.xml", new)
                counts[i] += k
            elif cmd == "plain":
                spec: Any = srv.feeds[f"/f{int(args[0])}.xml"]
                spec.etag = spec.last_modified = False
            elif cmd == "quit":
                break
            print("OK", flush=True)


def serve_telegram() -> None:
    from tests.fakes.telegram_api import FakeTelegramBotAPI

    with FakeTelegramBotAPI() as srv:
        srv.add_chat(-1001, "channel")
        print(f"READY {srv.base_url} {srv.token}", flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(len(srv.messages(-1001)), flush=True)
            elif line.strip() == "dump":
                rows = [[m.text_plain, m.time] for m in srv.messages(-1001)]
                print(json.dumps(rows, ensure_ascii=False), flush=True)
            elif line.strip() == "quit":
                break


if __name__ == "__main__":
    if sys.argv[1] == "feeds":
        serve_feeds(int(sys.argv[2]))
    else:
        serve_telegram()
