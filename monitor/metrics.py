"""Prometheus metrics. One registry per process (never the global default, so tests can make
fresh ones); the pipeline, delivery and app report into it through small methods.

Every metric is listed in README.md#metrics and used by deploy/grafana and deploy/prometheus.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.model import Alert, utcnow

_LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.polls = Counter(
            "monitor_polls", "Polls by source and outcome", ["source", "outcome"], registry=r
        )
        self.items = Counter("monitor_items", "Items in fetched bodies", ["source"], registry=r)
        self.items_new = Counter("monitor_items_new", "New or edited items", ["source"], registry=r)
        self.matches = Counter("monitor_matches", "Items matched, by rule", ["rule"], registry=r)
        self.alerts = Counter(
            "monitor_alerts", "Alerts by sink and outcome", ["sink", "outcome"], registry=r
        )
        self.outbox_queued = Gauge(
            "monitor_outbox_queued", "Alerts waiting in the outbox", registry=r
        )
        self.outbox_sending = Gauge(
            "monitor_outbox_sending", "Alerts being sent (leased)", registry=r
        )
        self.dead_letters = Gauge(
            "monitor_dead_letters", "Alerts that could not be delivered", registry=r
        )
        self.source_failing = Gauge(
            "monitor_source_failing", "1 when a source is failing", ["source"], registry=r
        )
        self.source_errors = Gauge(
            "monitor_source_consecutive_errors", "Consecutive failed polls", ["source"], registry=r
        )
        self.source_last_success = Gauge(
            "monitor_source_last_success_timestamp_seconds",
            "Last successful poll",
            ["source"],
            registry=r,
        )
        self.source_lag = Gauge(
            "monitor_source_lag_seconds",
            "Seconds since the last successful poll",
            ["source"],
            registry=r,
        )
        self.published_to_fetched = Histogram(
            "monitor_published_to_fetched_seconds", "Item publication to fetch",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.fetched_to_delivered = Histogram(
            "monitor_fetched_to_delivered_seconds", "Fetch to delivery confirmed", ["sink"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.published_to_delivered = Histogram(
            "monitor_published_to_delivered_seconds", "Item publication to delivery confirmed",
            ["sink"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.heartbeat = Gauge(
            "monitor_heartbeat_timestamp_seconds", "Last heartbeat written", registry=r
        )
        self.rules_loaded = Gauge("monitor_rules_loaded", "Rules in the running engine", registry=r)
        self.rules_reloads = Counter(
            "monitor_rules_reloads", "Rule reloads", ["outcome"], registry=r
        )
        self.store_up = Gauge("monitor_store_up", "1 while the store answers", registry=r)
        self.up = Gauge("monitor_up", "1 while the daemon runs", registry=r)
        self._last_success: dict[str, float] = {}

    def render(self) -> bytes:
        now = time.time()
        for source, stamp in self._last_success.items():
            self.source_lag.labels(source).set(max(now - stamp, 0.0))
        return generate_latest(self.registry)

    # reports -----------------------------------------------------------------------------

    def poll(self, source: str, outcome: str, *, items: int = 0, new: int = 0) -> None:
        self.polls.labels(source, outcome).inc()
        if items:
            self.items.labels(source).inc(items)
        if new:
            self.items_new.labels(source).inc(new)

    def source_state(self, source: str, *, errors: int, failing: bool, success: bool) -> None:
        self.source_errors.labels(source).set(errors)
        self.source_failing.labels(source).set(1 if failing else 0)
        if success:
            stamp = time.time()
            self._last_success[source] = stamp
            self.source_last_success.labels(source).set(stamp)

    def fetched(self, seconds_since_published: float) -> None:
        self.published_to_fetched.observe(max(seconds_since_published, 0.0))

    def delivered(self, alert: Alert, outcome: str) -> None:
        sink = alert.destination.sink_id
        self.alerts.labels(sink, outcome).inc()
        if outcome != "sent":
            return
        now = utcnow()
        self.fetched_to_delivered.labels(sink).observe(
            max((now - alert.item.fetched).total_seconds(), 0)
        )
        if alert.item.published is not None:
            seconds = (now - alert.item.published).total_seconds()
            self.published_to_delivered.labels(sink).observe(max(seconds, 0.0))

    def outbox(self, queued: int, sending: int, dead: int) -> None:
        self.outbox_queued.set(queued)
        self.outbox_sending.set(sending)
        self.dead_letters.set(dead)
