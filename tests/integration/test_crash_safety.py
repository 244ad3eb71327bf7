"""Crash safety: kill -9 in the middle of a burst, Redis stopped and started again mid-run,
several daemons on one Redis. Every alert arrives; a crash costs at most one duplicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.feeds import FakeFeedServer
from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.support.daemon import Daemon, wait_for, write_config
from tests.support.redis_server import RedisServer

CHAT = 4242  # a private chat: 1 message/s would make the burst long, so the test paces faster
ISOLATES = dict.fromkeys([0x2066, 0x2067, 0x2068, 0x2069])


def news(n: int) -> dict[str, str]:
    return {
        "guid": f"g{n}",
        "title": f"خبر {n}: قصف على موقع",
        "link": f"https://news.example/{n}",
        "description": f"تفاصيل القصف رقم {n}.",
    }


def counts(tg: FakeTelegramBotAPI) -> Counter[str]:
    return Counter(
        m.text_plain.translate(ISOLATES).split("خبر ")[1].split(":")[0] for m in tg.messages(CHAT)
    )


@pytest.fixture
def feeds() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as srv:
        yield srv


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(CHAT, "private")
        yield srv


def config(
    tmp: Path,
    feeds: FakeFeedServer,
    tg: FakeTelegramBotAPI,
    store: dict[str, Any],
    paths: list[str],
    rate: float = 20,
) -> Path:
    return write_config(
        tmp,
        {
            "store": store,
            "telegram": {"token": tg.token, "api_base": tg.base_url, "chat_per_second": rate},
            "sources": [
                {"id": p.strip("/").split(".")[0], "type": "rss", "url": feeds.url(p)}
                for p in paths
            ],
            "sinks": [
                {"id": "desk", "type": "telegram", "chat_id": str(CHAT), "digest_after": None}
            ],
            "delivery": {"retry_base": "0.2s", "retry_max": "1s", "lease": "3s"},
        },
    )


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_sigkill_in_the_middle_of_a_burst(
    tmp_path: Path,
    feeds: FakeFeedServer,
    tg: FakeTelegramBotAPI,
    redis_url: str,
    namespace: str,
    backend: str,
) -> None:
    burst = 60
    feeds.add_feed("/wire.xml", [news(n) for n in range(burst)])
    store = (
        {"url": "sqlite:var/s.db"}
        if backend == "sqlite"
        else {"url": redis_url, "namespace": namespace}
    )
    daemon = Daemon(config(tmp_path, feeds, tg, store, ["/wire.xml"]))
    with daemon:
        wait_for(lambda: len(tg.messages(CHAT)) >= burst // 3, 30, "a third of the burst")
        daemon.kill()  # SIGKILL: no goodbye, whatever was in flight stays in flight
        killed_at = len(tg.messages(CHAT))
        daemon.start()
        wait_for(lambda: len(counts(tg)) == burst, 60, "every alert after the restart")
        daemon.stop()
    seen = counts(tg)
    duplicates = sum(seen.values()) - len(seen)
    print(
        f"\nSIGKILL ({backend}): expected {burst}, delivered {len(seen)}, "
        f"duplicates {duplicates}, killed after {killed_at}"
    )
    assert len(seen) == burst and duplicates <= 1


def test_redis_stopped_and_started_again_mid_run(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    server = RedisServer()
    server.start(appendonly=True)  # as in production (deploy/compose.yaml): state survives
    try:
        feeds.add_feed("/wire.xml", [news(n) for n in range(5)])
        daemon = Daemon(config(tmp_path, feeds, tg, {"url": server.url}, ["/wire.xml"]))
        with daemon:
            wait_for(lambda: len(tg.messages(CHAT)) == 5, 30, "the first alerts")
            server.stop()
            feeds.add_items("/wire.xml", [news(n) for n in range(5, 15)])  # published meanwhile
            wait_for(lambda: len(daemon.events("store.unavailable")) >= 1, 20, "the outage noticed")
            assert daemon.proc is not None and daemon.proc.poll() is None  # still running
            server.start(appendonly=True)
            feeds.add_items("/wire.xml", [news(n) for n in range(15, 20)])
            wait_for(lambda: len(counts(tg)) == 20, 60, "every alert after Redis came back")
            daemon.stop()
        seen = counts(tg)
        duplicates = sum(seen.values()) - len(seen)
        print(f"\nRedis restart: expected 20, delivered {len(seen)}, duplicates {duplicates}")
        assert len(seen) == 20 and duplicates <= 1
        assert daemon.events("store.recovered")
    finally:
        server.close()


def test_three_daemons_on_one_redis_alert_exactly_once(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI, redis_url: str, namespace: str
) -> None:
    feeds.add_feed("/a.xml", [news(n) for n in range(10)])
    feeds.add_feed("/b.xml", [news(n) for n in range(5, 15)])  # 5..9 are the same stories
    daemons = []
    for n in range(3):
        folder = tmp_path / f"d{n}"
        folder.mkdir()
        path = config(
            folder,
            feeds,
            tg,
            {"url": redis_url, "namespace": namespace},
            ["/a.xml", "/b.xml"],
            rate=50,
        )
        daemons.append(Daemon(path).start())
    try:
        wait_for(lambda: len(counts(tg)) == 15, 60, "every story from three daemons")
        feeds.add_items("/a.xml", [news(n) for n in range(15, 25)])
        wait_for(lambda: len(counts(tg)) == 25, 60, "new items while three daemons poll")
    finally:
        for daemon in daemons:
            daemon.stop()
    seen = counts(tg)
    print(
        f"\nthree daemons: expected 25, delivered {len(seen)}, duplicates {sum(seen.values()) - len(seen)}"
    )
    assert len(seen) == 25 and set(seen.values()) == {1}
