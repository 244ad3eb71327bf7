"""Operating the daemon: probes and metrics, SIGHUP with a broken rule, SIGTERM during a send,
`monitor status` and `monitor health`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.feeds import FakeFeedServer
from tests.fakes.telegram_api import FakeTelegramBotAPI
from tests.support.daemon import RULES, Daemon, cli, wait_for, write_config
from tests.support.redis_server import RedisServer, free_port

CHAT = -100777


def news(n: int, word: str = "هدنة") -> dict[str, str]:
    return {
        "guid": f"g{n}",
        "title": f"خبر {n} عن {word}",
        "link": f"https://news.example/{n}",
        "description": f"نص {n}",
        "pubDate": "Mon, 30 Nov 2026 08:00:00 GMT",
    }


@pytest.fixture
def feeds() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as srv:
        yield srv


@pytest.fixture
def tg() -> Iterator[FakeTelegramBotAPI]:
    with FakeTelegramBotAPI() as srv:
        srv.add_chat(CHAT, "channel")
        yield srv


def config(
    tmp: Path,
    feeds: FakeFeedServer,
    tg: FakeTelegramBotAPI,
    store: dict[str, Any],
    port: int,
    **extra: Any,
) -> Path:
    return write_config(
        tmp,
        {
            "store": store,
            "http_server": {"listen": f"127.0.0.1:{port}"},
            "telegram": {"token": tg.token, "api_base": tg.base_url, "group_per_minute": 1000},
            "sources": [
                {"id": "wire", "type": "rss", "url": feeds.url("/wire.xml")},
                {"id": "broken", "type": "rss", "url": feeds.url("/broken.xml")},
            ],
            "sinks": [
                {"id": "desk", "type": "telegram", "chat_id": str(CHAT), "digest_after": None}
            ],
            "http": {"backoff_base": "0.2s", "backoff_max": "0.5s"},
            "health": {"failing_after": 2},
            **extra,
        },
    )


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text format (label order does not matter)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_probes_and_metrics_after_a_run(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    feeds.add_feed("/wire.xml", [news(1), news(2), news(3, "طقس")])
    feeds.add_feed("/broken.xml", [])
    feeds.fail("/broken.xml", 500)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Daemon(config(tmp_path, feeds, tg, {"url": "sqlite:var/s.db"}, port)) as daemon:
        wait_for(lambda: len(tg.messages(CHAT)) == 2, 20, "two alerts")
        wait_for(lambda: feeds.stats("/broken.xml").requests >= 3, 20, "a failing source")
        assert httpx.get(base + "/healthz").status_code == 200
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200 and "ready" in ready.text
        tg.fail_next("sendMessage", status=500, times=1000)  # Telegram down: the outbox grows
        feeds.add_items("/wire.xml", [news(4), news(5)])
        wait_for(
            lambda: (
                metric(
                    httpx.get(base + "/metrics").text,
                    "monitor_alerts_total",
                    sink="desk",
                    outcome="retried",
                )
                >= 2
            ),
            20,
            "retries counted",
        )
        text = ""

        def outbox_grew() -> bool:
            nonlocal text
            text = httpx.get(base + "/metrics").text
            return (
                metric(text, "monitor_outbox_queued") >= 1
                or metric(text, "monitor_outbox_sending") >= 1
            )

        wait_for(outbox_grew, 20, "the outbox gauge")
        assert httpx.get(base + "/nope").status_code == 404
        daemon.stop()
    assert metric(text, "monitor_polls_total", source="wire", outcome="200") >= 1
    assert metric(text, "monitor_polls_total", source="broken", outcome="fetch") >= 2
    assert metric(text, "monitor_source_failing", source="broken") == 1
    assert metric(text, "monitor_source_failing", source="wire") == 0
    assert metric(text, "monitor_source_lag_seconds", source="wire") < 30
    assert metric(text, "monitor_items_new_total", source="wire") == 5
    assert metric(text, "monitor_matches_total", rule="test-truce") == 4
    assert metric(text, "monitor_alerts_total", sink="desk", outcome="sent") == 2
    assert metric(text, "monitor_published_to_delivered_seconds_count", sink="desk") == 2
    assert metric(text, "monitor_fetched_to_delivered_seconds_count", sink="desk") == 2
    assert metric(text, "monitor_published_to_fetched_seconds_count") == 5
    assert metric(text, "monitor_rules_loaded") == 1
    assert metric(text, "monitor_store_up") == 1 and metric(text, "monitor_up") == 1
    assert metric(text, "monitor_heartbeat_timestamp_seconds") > 0


def test_readyz_fails_while_the_store_is_down(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    feeds.add_feed("/wire.xml", [news(1)])
    feeds.add_feed("/broken.xml", [])
    server = RedisServer()
    server.start()
    port = free_port()
    try:
        with Daemon(config(tmp_path, feeds, tg, {"url": server.url}, port)) as daemon:
            wait_for(lambda: len(tg.messages(CHAT)) == 1, 20, "an alert")
            server.stop()
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert ready.status_code == 503 and "store unreachable" in ready.text
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # alive
            server.start()
            wait_for(
                lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200,
                20,
                "ready again",
            )
            daemon.stop()
    finally:
        server.close()


def test_sighup_with_a_broken_rule_keeps_the_old_rules(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    feeds.add_feed("/wire.xml", [news(1)])
    feeds.add_feed("/broken.xml", [])
    path = config(tmp_path, feeds, tg, {"url": "sqlite:var/s.db"}, free_port())
    rule = tmp_path / "rules" / "rule.yaml"
    with Daemon(path) as daemon:
        wait_for(lambda: len(tg.messages(CHAT)) == 1, 20, "the first alert")
        rule.write_text(RULES.replace("keywords: [هدنة, قصف]", "keywords: [هدنة, قصف\n  broken: ["))
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: bool(daemon.events("rules.kept_previous")), 20, "the reload refused")
        rejected = daemon.events("rules.reload_rejected")
        assert rejected and rejected[0]["where"].startswith(str(rule))
        feeds.add_items("/wire.xml", [news(2)])
        wait_for(lambda: len(tg.messages(CHAT)) == 2, 20, "the old rules still alerting")
        rule.write_text(RULES.replace("keywords: [هدنة, قصف]", "keywords: [طقس]"))
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: bool(daemon.events("config.reloaded")), 20, "the good reload")
        feeds.add_items("/wire.xml", [news(3, "طقس"), news(4, "هدنة")])
        wait_for(lambda: len(tg.messages(CHAT)) == 3, 20, "the new rule's alert")
        daemon.stop()
    assert "طقس" in tg.messages(CHAT)[-1].text_plain


def test_sigterm_during_a_send_loses_nothing(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    feeds.add_feed("/wire.xml", [news(n) for n in range(1, 6)])
    feeds.add_feed("/broken.xml", [])
    path = config(tmp_path, feeds, tg, {"url": "sqlite:var/s.db"}, free_port())
    tg.delay_next(3, method="sendMessage")  # the first send hangs for 3 s
    daemon = Daemon(path).start()
    wait_for(lambda: len(tg.calls("sendMessage")) >= 1, 20, "a send in flight")
    daemon.signal(signal.SIGTERM)
    assert daemon.stop(timeout=30) == 0  # finished the in-flight send, then stopped
    sent_before = len(tg.messages(CHAT))
    assert 1 <= sent_before < 5
    assert daemon.events("daemon.stopped")
    status = cli("status", config=path)
    assert status.returncode == 0 and "Outbox:" in status.stdout
    daemon.start()
    wait_for(lambda: len(tg.messages(CHAT)) == 5, 30, "the rest after the restart")
    daemon.stop()
    texts = [m.text_plain for m in tg.messages(CHAT)]
    assert len(set(texts)) == 5


def test_status_and_health(tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI) -> None:
    feeds.add_feed("/wire.xml", [news(1)])
    feeds.add_feed("/broken.xml", [])
    feeds.fail("/broken.xml", 404)
    tg.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    path = config(tmp_path, feeds, tg, {"url": "sqlite:var/s.db"}, free_port())
    assert cli("health", config=path).returncode == 1  # nothing runs yet
    with Daemon(path) as daemon:
        wait_for(lambda: bool(daemon.events("alert.dead")), 20, "a dead letter")
        health = cli("health", config=path)
        assert health.returncode == 0 and health.stdout.startswith("ok")
        status = cli("status", config=path)
        daemon.stop()
    out = status.stdout
    assert status.returncode == 0
    assert "wire" in out and "broken" in out and "unavailable" in out and "HTTP 404" in out
    assert "Outbox: 0 queued, 0 sending, 1 dead" in out
    assert "chat not found" in out.lower()
    assert cli("health", config=path).returncode == 1  # a clean stop ends the heartbeat
    retry = cli("outbox", "retry", "--all", config=path)
    assert retry.returncode == 0 and "1 dead letter(s) queued again" in retry.stdout
    with Daemon(path) as daemon:
        wait_for(lambda: len(tg.messages(CHAT)) == 1, 20, "the dead letter sent again")
        daemon.stop()


def test_a_rule_file_edit_is_picked_up_without_a_signal(
    tmp_path: Path, feeds: FakeFeedServer, tg: FakeTelegramBotAPI
) -> None:
    feeds.add_feed("/wire.xml", [news(1, "طقس")])
    feeds.add_feed("/broken.xml", [])
    path = config(tmp_path, feeds, tg, {"url": "sqlite:var/s.db"}, free_port())
    rule = tmp_path / "rules" / "rule.yaml"
    with Daemon(path) as daemon:
        wait_for(lambda: feeds.stats("/wire.xml").requests >= 1, 20, "a first poll")
        rule.write_text(RULES.replace("keywords: [هدنة, قصف]", "keywords: [هدنة\n  broken: ["))
        wait_for(lambda: bool(daemon.events("rules.kept_previous")), 20, "the broken edit refused")
        rule.write_text(RULES.replace("keywords: [هدنة, قصف]", "keywords: [طقس]"))
        wait_for(lambda: bool(daemon.events("rules.reloaded")), 20, "the fixed edit loaded")
        feeds.add_items("/wire.xml", [news(2, "طقس")])
        wait_for(lambda: len(tg.messages(CHAT)) == 1, 20, "an alert from the edited rule")
        daemon.stop()
    assert "طقس" in tg.messages(CHAT)[0].text_plain
