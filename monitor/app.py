"""Composition root: config -> objects, then run (daemon or once). Signals, heartbeat, reload.

Nothing else reads the config: every other module receives the clients and settings it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass

import httpx

from monitor import logging as mlog
from monitor.config import LoadedConfig, load_config
from monitor.delivery import Delivery
from monitor.errors import ConfigError, StoreError
from monitor.httpserver import ProbeServer
from monitor.matching import Engine, compile_rules, rules_fingerprint
from monitor.metrics import Metrics
from monitor.model import Level
from monitor.pipeline import Pipeline, PollOutcome, PollSettings
from monitor.routing import Route, Router
from monitor.scheduler import build_scheduler, schedule_sources
from monitor.sinks import SinkContext, build_sink
from monitor.sinks.base import Sink
from monitor.sources import SourceContext, build_source
from monitor.sources.base import Source
from monitor.sources.http import HttpLimits, build_client
from monitor.store import Store, Ttls, open_store
from monitor.telegram_client import BotPool

log = mlog.get_logger("monitor.app")

HEARTBEAT_EVERY = 10.0
HEARTBEAT_TTL = 45.0
RULES_POLL_EVERY = 5.0
STOP_DEADLINE = 20.0


def secrets_of(loaded: LoadedConfig) -> list[str]:
    cfg = loaded.config
    values: list[str | None] = [cfg.telegram.token, cfg.slack.bot_token]
    for sink in cfg.sinks:
        values += [getattr(sink, name, None) for name in ("token", "bot_token", "webhook_url")]
        values.append(getattr(sink, "secret", None))
    if "@" in cfg.store.url:  # redis://user:password@host
        values.append(cfg.store.url.split("@", 1)[0].rsplit(":", 1)[-1])
    return [v for v in values if isinstance(v, str) and v]


@dataclass
class Parts:
    """Everything built from one configuration."""

    loaded: LoadedConfig
    sources: dict[str, Source]
    sinks: dict[str, Sink]
    router: Router
    http: httpx.AsyncClient
    bots: BotPool

    async def aclose(self) -> None:
        for source in self.sources.values():
            await source.aclose()
        for sink in self.sinks.values():
            await sink.aclose()
        await self.bots.aclose()
        await self.http.aclose()


def build_router(loaded: LoadedConfig, engine: Engine) -> Router:
    active = {s.id: Level(s.min_level) for s in loaded.active_sinks}
    routes = [
        Route(sinks=r.sinks, rules=r.rules, sources=r.sources, min_level=Level(r.min_level))
        for r in loaded.config.routes
    ]
    for rule in engine.rules:
        unknown = [s for s in rule.routes if s not in {c.id for c in loaded.config.sinks}]
        if unknown:
            log.warning(
                "rule.unknown_sink", rule=rule.id, where=f"{rule.file}:{rule.line}", sinks=unknown
            )
    return Router(routes, active)


def build_parts(loaded: LoadedConfig, engine: Engine) -> Parts:
    cfg = loaded.config
    http = build_client(
        connect_timeout=cfg.http.connect_timeout,
        read_timeout=cfg.http.read_timeout,
        max_redirects=cfg.http.max_redirects,
        user_agent=cfg.http.user_agent,
        max_connections=cfg.http.max_connections,
    )
    limits = HttpLimits(max_bytes=cfg.http.max_bytes, total_timeout=cfg.http.total_timeout)
    source_ctx = SourceContext(
        http=http, limits=limits, base_dir=loaded.base_dir, telegram_web_base=cfg.telegram.web_base
    )
    sources = {s.id: build_source(s, source_ctx) for s in cfg.sources if s.enabled}
    bots = BotPool()
    sink_ctx = SinkContext(telegram=cfg.telegram, slack=cfg.slack, http=http, bots=bots)
    sinks = {s.id: build_sink(s, sink_ctx) for s in loaded.active_sinks}
    return Parts(loaded, sources, sinks, build_router(loaded, engine), http, bots)


class App:
    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        cfg = loaded.config
        self.instance = cfg.instance or f"{socket.gethostname()}-{os.getpid()}"
        ttls = Ttls(seen=int(cfg.store.seen_ttl), claim=int(cfg.store.dedup_window))
        self.store: Store = open_store(
            cfg.store.url, base_dir=loaded.base_dir, namespace=cfg.store.namespace, ttls=ttls
        )
        self.engine, problems = compile_rules(loaded.rules_path)
        for problem in problems:
            log.error(
                "rules.problem", where=f"{problem.file}:{problem.line}", error=problem.message
            )
        self.rules_print = rules_fingerprint(loaded.rules_path)
        self.parts = build_parts(loaded, self.engine)
        for sink_id, reason in loaded.disabled_sinks.items():
            log.warning("sink.disabled", sink=sink_id, reason=reason)
        self.metrics = Metrics()
        self.metrics.rules_loaded.set(len(self.engine.rules))
        self.delivery = Delivery(
            self.store,
            self.parts.sinks,
            cfg.delivery,
            digest_after={s.id: s.digest_after for s in cfg.sinks if s.digest_after},
            metrics=self.metrics,
        )
        self.pipeline = Pipeline(
            self.store,
            matcher=lambda: self.engine,
            router=lambda: self.parts.router,
            settings=PollSettings(
                backoff_base=cfg.http.backoff_base,
                backoff_max=cfg.http.backoff_max,
                max_age=cfg.defaults.max_age,
            ),
            on_enqueued=self.delivery.wake,
            metrics=self.metrics,
        )
        self.stop_event = asyncio.Event()
        self.scheduler = build_scheduler()

    # running -----------------------------------------------------------------------------

    async def open_store(self) -> None:
        """Open the store, waiting (with backoff) while it is unreachable."""
        delay = 1.0
        while not self.stop_event.is_set():
            try:
                await self.store.open()
                return
            except StoreError as exc:
                log.error("store.unavailable", stage="start", error=str(exc), retry_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_event.wait(), delay)
                delay = min(delay * 2, 30.0)

    async def run_once(self) -> int:
        """Poll every source once, deliver, exit. 0: all polled and delivered; 1: otherwise."""
        await self.store.open()
        try:
            outcomes = await self.poll_all()
            deadline = time.monotonic() + self.loaded.config.delivery.once_deadline
            waiting = await self.delivery.drain(deadline)
        finally:
            await self.parts.aclose()
            await self.store.close()
        failed = [o for o in outcomes if o.error]
        log.info(
            "once.done",
            sources=len(outcomes),
            failed=len(failed),
            sent=self.delivery.stats.sent,
            dead=self.delivery.stats.dead,
            waiting=waiting,
        )
        return 0 if not failed and waiting == 0 else 1

    async def poll_all(self, concurrency: int = 50) -> list[PollOutcome]:
        gate = asyncio.Semaphore(concurrency)

        async def one(source: Source) -> PollOutcome:
            async with gate:
                return await self.pipeline.poll(source, force=True)

        return list(await asyncio.gather(*(one(s) for s in self.parts.sources.values())))

    async def run_forever(self) -> int:
        self._install_signals()
        await self.open_store()
        if self.stop_event.is_set():
            return 0
        self._schedule()
        self.scheduler.start()
        probes = await self._start_probes()
        self.metrics.up.set(1)
        tasks = [
            asyncio.create_task(self.delivery.run(self.stop_event), name="delivery"),
            asyncio.create_task(self._heartbeat(), name="heartbeat"),
            asyncio.create_task(self._watch_rules(), name="rules-watch"),
        ]
        log.info(
            "daemon.started",
            instance=self.instance,
            sources=len(self.parts.sources),
            sinks=sorted(self.parts.sinks),
            rules=len(self.engine.rules),
            store=repr(self.store),
        )
        await self.stop_event.wait()
        log.info("daemon.stopping")
        self.metrics.up.set(0)
        self.scheduler.shutdown(wait=False)
        if probes is not None:
            await probes.close()
        await self.delivery.close(STOP_DEADLINE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.parts.aclose()
        await self.store.close()
        log.info("daemon.stopped")
        return 0

    def _schedule(self) -> None:
        cfg = self.loaded.config
        entries = []
        for source_cfg in cfg.sources:
            source = self.parts.sources.get(source_cfg.id)
            if source is None:
                continue
            interval = source_cfg.interval or cfg.defaults.interval
            jitter = cfg.defaults.jitter if source_cfg.jitter is None else source_cfg.jitter
            entries.append((source, interval, jitter))
        schedule_sources(self.scheduler, entries, self.pipeline.poll)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))

    async def _heartbeat(self) -> None:
        """The heartbeat key (for `monitor health`) and the outbox gauges, every few seconds."""
        while True:
            try:
                await self.store.heartbeat(self.instance, HEARTBEAT_TTL)
                self.metrics.heartbeat.set(time.time())
                stats = await self.store.outbox_stats()
                self.metrics.outbox(stats.queued, stats.sending, stats.dead)
                self.metrics.store_up.set(1)
            except StoreError as exc:
                self.metrics.store_up.set(0)
                log.warning("heartbeat.failed", error=str(exc))
            await asyncio.sleep(HEARTBEAT_EVERY)

    async def _start_probes(self) -> ProbeServer | None:
        listen = self.loaded.config.http_server.listen
        if not listen:
            return None
        server = ProbeServer(
            listen, ready=self.readiness, live=self.liveness, metrics=self.metrics.render
        )
        try:
            await server.start()
        except OSError as exc:
            log.error("http.unavailable", address=listen, error=str(exc))
            return None
        return server

    async def liveness(self) -> tuple[bool, str]:
        return True, "ok: event loop alive"

    async def readiness(self) -> tuple[bool, str]:
        problems = []
        try:
            async with asyncio.timeout(2):
                await self.store.ping()
        except (StoreError, TimeoutError) as exc:
            problems.append(f"store unreachable: {exc}")
        if not self.scheduler.running:
            problems.append("scheduler not running")
        if self.engine is None:
            problems.append("rules not loaded")
        if problems:
            return False, "not ready: " + "; ".join(problems)
        return True, f"ready: {len(self.engine.rules)} rules, {len(self.parts.sources)} sources"

    # reload ------------------------------------------------------------------------------

    async def _watch_rules(self) -> None:
        while True:
            await asyncio.sleep(RULES_POLL_EVERY)
            current = await asyncio.to_thread(rules_fingerprint, self.loaded.rules_path)
            if current != self.rules_print:
                self.rules_print = current
                await self.reload_rules()

    async def reload_rules(self) -> bool:
        """Compile off the event loop; swap only when every rule compiled."""
        engine, problems = await asyncio.to_thread(compile_rules, self.loaded.rules_path)
        if problems:
            for problem in problems:
                log.error(
                    "rules.reload_rejected",
                    where=f"{problem.file}:{problem.line}",
                    error=problem.message,
                )
            log.error("rules.kept_previous", rules=len(self.engine.rules))
            self.metrics.rules_reloads.labels("rejected").inc()
            return False
        self.engine = engine
        self.parts.router = build_router(self.loaded, engine)
        self.metrics.rules_loaded.set(len(engine.rules))
        self.metrics.rules_reloads.labels("ok").inc()
        log.info("rules.reloaded", rules=len(engine.rules))
        return True

    async def reload(self) -> None:
        """SIGHUP: re-read config and rules; on any error keep what runs and log why."""
        try:
            loaded = await asyncio.to_thread(load_config, self.loaded.path)
        except ConfigError as exc:
            for line in str(exc).splitlines():
                log.error("config.reload_rejected", error=line)
            return
        self.loaded = loaded
        mlog.register_secrets(secrets_of(loaded))
        if await self.reload_rules():
            old = self.parts
            self.parts = build_parts(loaded, self.engine)
            self.delivery.sinks = dict(self.parts.sinks)
            self._schedule()
            await old.aclose()
            log.info("config.reloaded", sources=len(self.parts.sources))
