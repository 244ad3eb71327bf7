"""The daemon end to end, as a subprocess, against local fake feeds, Telegram and Slack."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.feeds import FakeFeedServer
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.support.daemon import Daemon, run_once, wait_for, write_config

CHAT = -100500
HOOK = "/services/T0/B0/daemon"


def news(n: int, matching: bool) -> dict[str, str]:
    words = "إعلان هدنة في المدينة" if matching else "افتتاح معرض للكتاب"
    return {
        "guid": f"g{n}",
        "title": f"خبر {n}: {words}",
        "link": f"https://news.example/{n}",
        "description": f"تفاصيل الخبر رقم {n} حول {words}.",
    }


@pytest.fixture
def services() -> Iterator[tuple[FakeFeedServer, FakeTelegramBotAPI, FakeSlack]]:
    with FakeFeedServer() as feeds, FakeTelegramBotAPI() as tg, FakeSlack() as slack:
        tg.add_chat(CHAT, "channel")
        yield feeds, tg, slack
        assert not tg.internal_errors and not slack.internal_errors


def config(
    tmp: Path,
    feeds: FakeFeedServer,
    tg: FakeTelegramBotAPI,
    slack: FakeSlack,
    store: dict[str, Any],
    **extra: Any,
) -> Path:
    return write_config(
        tmp,
        {
            "store": store,
            "telegram": {
                "token": tg.token,
                "api_base": tg.base_url,
                "chat_per_second": 50,
                "group_per_minute": 100000,
            },
            "slack": {"channel_per_second": 50},
            "sources": [
                {"id": "wire", "type": "rss", "url": feeds.url("/wire.xml")},
                {"id": "agency", "type": "rss", "url": feeds.url("/agency.xml")},
            ],
            "sinks": [
                {"id": "desk", "type": "telegram", "chat_id": str(CHAT), "digest_after": None},
                {
                    "id": "slack",
                    "type": "slack",
                    "webhook_url": slack.base_url + HOOK,
                    "digest_after": None,
                },
            ],
            **extra,
        },
    )


ISOLATES = dict.fromkeys([0x2066, 0x2067, 0x2068, 0x2069])  # around numbers in Arabic text


def number(text: str) -> str:
    return text.translate(ISOLATES).split("خبر ")[1].split(":")[0]


def delivered(tg: FakeTelegramBotAPI, slack: FakeSlack) -> tuple[Counter[str], Counter[str]]:
    """How often each news number reached Telegram and Slack."""
    tg_seen = Counter(number(m.text_plain) for m in tg.messages(CHAT))
    slack_seen = Counter(number(str(m.text)) for m in slack.messages(HOOK))
    return tg_seen, slack_seen


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, redis_url: str, namespace: str) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"url": "sqlite:var/state.db"}
    return {"url": redis_url, "namespace": namespace}


def test_once_alerts_each_matching_item_exactly_once(
    tmp_path: Path,
    services: tuple[FakeFeedServer, FakeTelegramBotAPI, FakeSlack],
    store: dict[str, Any],
) -> None:
    feeds, tg, slack = services
    feeds.add_feed("/wire.xml", [news(n, n % 2 == 0) for n in range(1, 7)])
    feeds.add_feed("/agency.xml", [news(n, n % 2 == 0) for n in range(7, 10)])
    path = config(tmp_path, feeds, tg, slack, store)
    first = run_once(path)
    assert first.returncode == 0, first.stdout + first.stderr
    tg_seen, slack_seen = delivered(tg, slack)
    assert tg_seen == slack_seen == Counter({"2": 1, "4": 1, "6": 1, "8": 1})
    again = run_once(path)
    assert again.returncode == 0
    assert delivered(tg, slack) == (tg_seen, slack_seen)  # nothing twice
    assert feeds.stats("/wire.xml").not_modified == 1  # the second run was a conditional GET


def test_daemon_loses_nothing_across_429_500_and_a_restart(
    tmp_path: Path,
    services: tuple[FakeFeedServer, FakeTelegramBotAPI, FakeSlack],
    store: dict[str, Any],
) -> None:
    feeds, tg, slack = services
    feeds.add_feed("/wire.xml", [news(1, True), news(2, False)])
    feeds.add_feed("/agency.xml", [news(3, True)])
    tg.fail_next("sendMessage", status=429, retry_after=1)
    tg.fail_next("sendMessage", status=500)
    slack.fail_next("webhook", status=429, retry_after=1)
    path = config(tmp_path, feeds, tg, slack, store)
    daemon = Daemon(path)
    with daemon:
        wait_for(
            lambda: len(tg.messages(CHAT)) == 2 and len(slack.messages(HOOK)) == 2,
            30,
            "the first alerts despite a 429 and a 500",
        )
        feeds.add_items("/wire.xml", [news(4, True)])
        wait_for(lambda: len(tg.messages(CHAT)) == 3, 15, "an item added while running")
        assert daemon.stop() == 0
        feeds.add_items("/agency.xml", [news(5, True), news(6, False)])  # while it is down
        tg.fail_next("sendMessage", status=502)
        daemon.start()
        wait_for(
            lambda: len(tg.messages(CHAT)) == 4 and len(slack.messages(HOOK)) == 4,
            30,
            "the item published while the daemon was down",
        )
        feeds.add_items("/wire.xml", [news(7, True)])
        wait_for(lambda: len(slack.messages(HOOK)) == 5, 15, "one more after the restart")
        assert daemon.stop() == 0
    tg_seen, slack_seen = delivered(tg, slack)
    expected = Counter({"1": 1, "3": 1, "4": 1, "5": 1, "7": 1})
    assert tg_seen == expected and slack_seen == expected
    retries = daemon.events("alert.retry")
    assert {r["kind"] for r in retries} >= {"rate_limited", "transient"}
    assert not [e for e in daemon.logs() if e.get("level") == "error"]


def test_a_failing_source_is_reported_once_and_the_others_go_on(
    tmp_path: Path, services: tuple[FakeFeedServer, FakeTelegramBotAPI, FakeSlack]
) -> None:
    feeds, tg, slack = services
    feeds.add_feed("/wire.xml", [news(1, True)])
    feeds.add_feed("/agency.xml", [news(2, True)])
    feeds.fail("/agency.xml", 500)
    path = config(
        tmp_path,
        feeds,
        tg,
        slack,
        {"url": "sqlite:var/state.db"},
        http={"backoff_base": "0.2s", "backoff_max": "0.4s"},
        health={"failing_after": 3, "notify": ["desk"]},
    )
    with Daemon(path) as daemon:
        wait_for(lambda: len(tg.messages(CHAT)) >= 1, 20, "the healthy source's alert")
        wait_for(lambda: feeds.stats("/agency.xml").requests >= 6, 20, "several failed polls")
        feeds.recover("/agency.xml")
        wait_for(
            lambda: any("recovered" in m.text_plain for m in tg.messages(CHAT)),
            20,
            "the recovery notice",
        )
        wait_for(lambda: len(slack.messages(HOOK)) == 2, 20, "the alert once the source recovered")
        daemon.stop()
    failing = daemon.events("source.failing")
    assert (
        len(failing) == 1 and failing[0]["source"] == "agency" and "HTTP 500" in failing[0]["error"]
    )
    assert len(daemon.events("source.recovered")) == 1
    texts = [m.text_plain for m in tg.messages(CHAT)]
    assert sum("agency is failing" in t for t in texts) == 1  # one notice, not one per poll
    assert sum("agency recovered" in t for t in texts) == 1
    assert len([t for t in texts if "خبر" in t]) == 2  # and both news alerts
