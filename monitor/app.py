"""Composition root: config -> objects, then run (daemon or once). Signals, heartbeat, reload.

Nothing else reads the config: every other module receives the clients and settings it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import signal
import socket
import time
from typing import TYPE_CHECKING

from monitor import logging as mlog
from monitor.config import LoadedConfig, TelegramBotSourceConfig, load_config
from monitor.dedup import StorySettings
from monitor.delivery import Delivery
from monitor.errors import ConfigError, StoreError
from monitor.httpserver import ProbeServer
from monitor.identity import digest
from monitor.matching import compile_rules, rules_fingerprint
from monitor.metrics import Metrics
from monitor.pacing import Pacer
from monitor.pipeline import Pipeline, PollOutcome, PollSettings
from monitor.sources.base import Source

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from monitor.sources.telegram_bot import BotUpdates
from monitor.status import collect
from monitor.store import Store, Ttls, open_store
from monitor.subscriptions import SubscriptionStore
from monitor.wiring import build_parts, build_router, secrets_of, subscriber_sink

log = mlog.get_logger("monitor.app")

HEARTBEAT_EVERY = 10.0
HEARTBEAT_TTL = 45.0
RULES_POLL_EVERY = 5.0
STOP_DEADLINE = 20.0


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
        self.subs: SubscriptionStore | None = None
        if cfg.telegram.token and cfg.telegram.bot.enabled:
            self.subs = SubscriptionStore(self.store, digest(cfg.telegram.token, 6))
        self.parts = build_parts(loaded, self.engine, self.subs)
        for sink_id, reason in loaded.disabled_sinks.items():
            log.warning("sink.disabled", sink=sink_id, reason=reason)
        self.metrics = Metrics()
        self.metrics.rules_loaded.set(len(self.engine.rules))
        self.delivery = Delivery(
            self.store,
            self.parts.sinks,
            cfg.delivery,
            digest_after={s.id: s.digest_after for s in cfg.sinks if s.digest_after},
            pacer=Pacer(shared=self.store.pace if self.store.shared else None),
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
                failing_after=cfg.health.failing_after,
                notify=tuple(s for s in cfg.health.notify if s not in loaded.disabled_sinks),
            ),
            stories=StorySettings(cfg.store.near_duplicates, cfg.store.story_threshold),
            on_enqueued=self.delivery.wake,
            metrics=self.metrics,
        )
        self.stop_event = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None  # the daemon's; `--once` needs none

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

    async def poll_all(self, concurrency: int = 20) -> list[PollOutcome]:
        gate = asyncio.Semaphore(concurrency)
        try:  # one read of every cursor instead of one per source
            cursors = {c.source_id: c for c in await self.store.list_cursors()}
        except StoreError:
            cursors = {}

        async def one(source: Source) -> PollOutcome:
            async with gate:
                return await self.pipeline.poll(source, force=True, cursor=cursors.get(source.id))

        return list(await asyncio.gather(*(one(s) for s in self.parts.sources.values())))

    async def run_forever(self) -> int:
        self._install_signals()
        await self.open_store()
        if self.stop_event.is_set():
            return 0
        from monitor.scheduler import build_scheduler

        self.scheduler = build_scheduler()
        self._schedule()
        self.scheduler.start()
        probes = await self._start_probes()
        self.metrics.up.set(1)
        tasks = [
            asyncio.create_task(self.delivery.run(self.stop_event), name="delivery"),
            asyncio.create_task(self._heartbeat(), name="heartbeat"),
            asyncio.create_task(self._watch_rules(), name="rules-watch"),
        ]
        updates = await self._bot_updates()
        if updates is not None:
            tasks.append(asyncio.create_task(updates.run(self.stop_event), name="bot-updates"))
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
        with contextlib.suppress(StoreError):
            await self.store.end_heartbeat(self.instance)
        await self.store.close()
        log.info("daemon.stopped")
        return 0

    def _schedule(self) -> None:
        from monitor.scheduler import schedule_sources

        if self.scheduler is None:
            return
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
                await self._refresh_subs()  # other replicas' bot may have changed them
                self.metrics.store_up.set(1)
            except StoreError as exc:
                self.metrics.store_up.set(0)
                log.warning("heartbeat.failed", error=str(exc))
            await asyncio.sleep(HEARTBEAT_EVERY)

    async def _bot_updates(self) -> BotUpdates | None:
        from monitor.bot import CommandHandler
        from monitor.sources.telegram_bot import BotUpdates

        """The getUpdates loop, when there are bot-member chats or the subscriber bot is on."""
        cfg = self.loaded.config
        tg = cfg.telegram
        chats = {
            s.id: s for s in cfg.sources if isinstance(s, TelegramBotSourceConfig) and s.enabled
        }
        if not tg.token or not (chats or tg.bot.enabled):
            return None
        handler = None
        if self.subs is not None:
            await self._refresh_subs()
            handler = CommandHandler(
                tg.bot,
                self.subs,
                rules=lambda: self.engine.rules,
                status=self.status_text,
                reload=self.reload_text,
            )
            if subscriber_sink(self.loaded) is None:
                log.warning(
                    "bot.no_sink", hint="no active Telegram sink to deliver subscribers' alerts"
                )
        bot = self.parts.bots.get(tg.token, tg.api_base)
        updates = BotUpdates(
            bot,
            digest(tg.token, 6),
            self.store,
            self.pipeline.ingest,
            chats,
            handler,
            self.instance,
        )
        if handler is not None:
            await updates.register_commands(tg.bot.admins)
        return updates

    async def _refresh_subs(self) -> None:
        if self.subs is not None:
            try:
                await self.subs.load()
            except StoreError as exc:
                log.warning("subscriptions.unavailable", error=str(exc))

    async def status_text(self) -> str:
        data = await collect(self.loaded, self.store)
        failing = [s["id"] for s in data["sources"] if s["errors"]]
        box = data["outbox"]
        lines = [
            f"<b>monitor</b> · {html.escape(self.instance)}",
            f"sources: {len(data['sources'])}, failing: {len(failing)}"
            + (f" ({html.escape(', '.join(failing[:10]))})" if failing else ""),
            f"outbox: {box['queued']} queued, {box['sending']} sending, {box['dead']} dead",
            f"rules: {len(self.engine.rules)}",
        ]
        return "\n".join(lines)

    async def reload_text(self) -> str:
        ok = await self.reload()
        return (
            "✅ reloaded"
            if ok
            else "⚠️ reload rejected: the running config and rules stay (see logs)"
        )

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
        if self.scheduler is None or not self.scheduler.running:
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
        self.parts.router = build_router(self.loaded, engine, self.subs)
        self.metrics.rules_loaded.set(len(engine.rules))
        self.metrics.rules_reloads.labels("ok").inc()
        log.info("rules.reloaded", rules=len(engine.rules))
        return True

    async def reload(self) -> bool:
        """SIGHUP: re-read config and rules; on any error keep what runs and log why."""
        try:
            loaded = await asyncio.to_thread(load_config, self.loaded.path)
        except ConfigError as exc:
            for line in str(exc).splitlines():
                log.error("config.reload_rejected", error=line)
            self.metrics.rules_reloads.labels("rejected").inc()
            return False
        self.loaded = loaded
        mlog.register_secrets(secrets_of(loaded))
        if await self.reload_rules():
            old = self.parts
            self.parts = build_parts(loaded, self.engine, self.subs)
            self.delivery.sinks = dict(self.parts.sinks)
            self._schedule()
            await old.aclose()
            log.info("config.reloaded", sources=len(self.parts.sources))
            return True
        return False
