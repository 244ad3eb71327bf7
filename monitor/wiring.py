"""Building the parts from a configuration: sources, sinks, router (pure wiring, no running).

Kept apart from app.py, which runs them; reload builds a new set from a new config.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitor.config import LoadedConfig, TelegramSinkConfig
from monitor.logging import get_logger
from monitor.matching import Engine
from monitor.model import Destination, Level, RuleMatch
from monitor.routing import Route, Router, Subscribers
from monitor.sinks import SharedHttpx, SinkContext, build_sink
from monitor.sinks.base import Sink
from monitor.sources import SourceContext, build_source
from monitor.sources.base import Source
from monitor.sources.http import FeedClient, HttpLimits, build_client
from monitor.subscriptions import SubscriptionStore
from monitor.telegram_client import BotPool

log = get_logger("monitor.wiring")


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
    http: FeedClient
    sink_http: SharedHttpx
    bots: BotPool

    async def aclose(self) -> None:
        for source in self.sources.values():
            await source.aclose()
        for sink in self.sinks.values():
            await sink.aclose()
        await self.bots.aclose()
        await self.http.aclose()
        await self.sink_http.aclose()


def subscriber_sink(loaded: LoadedConfig) -> str | None:
    """The Telegram sink that delivers subscribers' alerts: telegram.bot.sink, else the first
    active Telegram sink that uses the bot's token."""
    tg = loaded.config.telegram
    active = {s.id: s for s in loaded.active_sinks}
    if tg.bot.sink is not None:
        return tg.bot.sink if tg.bot.sink in active else None
    for sink in active.values():
        if isinstance(sink, TelegramSinkConfig) and (sink.token or tg.token) == tg.token:
            return sink.id
    return None


def build_router(
    loaded: LoadedConfig, engine: Engine, subs: SubscriptionStore | None = None
) -> Router:
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
    subscribers: Subscribers | None = None
    sink_id = subscriber_sink(loaded)
    if subs is not None and sink_id is not None:
        store = subs

        def subscribers(match: RuleMatch) -> Iterable[Destination]:
            return store.current.destinations(sink_id, match)

    return Router(routes, active, subscribers)


def build_parts(
    loaded: LoadedConfig, engine: Engine, subs: SubscriptionStore | None = None
) -> Parts:
    cfg = loaded.config
    http = build_client(
        connect_timeout=cfg.http.connect_timeout,
        read_timeout=cfg.http.read_timeout,
        user_agent=cfg.http.user_agent,
        max_connections=cfg.http.max_connections,
    )
    limits = HttpLimits(
        max_bytes=cfg.http.max_bytes,
        total_timeout=cfg.http.total_timeout,
        max_redirects=cfg.http.max_redirects,
    )
    source_ctx = SourceContext(
        http=http, limits=limits, base_dir=loaded.base_dir, telegram_web_base=cfg.telegram.web_base
    )
    sources = {
        s.id: build_source(s, source_ctx)
        for s in cfg.sources
        if s.enabled and s.type != "telegram_bot"  # pushed by the bot's update loop instead
    }
    bots = BotPool()
    sink_http = SharedHttpx(timeout=cfg.delivery.send_timeout, user_agent=cfg.http.user_agent)
    sink_ctx = SinkContext(telegram=cfg.telegram, slack=cfg.slack, http=sink_http, bots=bots)
    sinks = {s.id: build_sink(s, sink_ctx) for s in loaded.active_sinks}
    return Parts(loaded, sources, sinks, build_router(loaded, engine, subs), http, sink_http, bots)
