"""Sinks: a registry from the config's `type` to the class that delivers there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

from monitor.config.schema import SlackConfig, TelegramConfig
from monitor.sinks.base import Limit, Sink
from monitor.telegram_client import BotPool

__all__ = ["Limit", "Sink", "SinkContext", "build_sink", "register"]


@dataclass(frozen=True)
class SinkContext:
    """Shared settings and clients for sinks (injected, never global)."""

    telegram: TelegramConfig
    slack: SlackConfig
    http: httpx.AsyncClient
    bots: BotPool
    stream: TextIO | None = None


Builder = Callable[[Any, SinkContext], Sink]
_REGISTRY: dict[str, Builder] = {}


def register(kind: str) -> Callable[[Builder], Builder]:
    def add(builder: Builder) -> Builder:
        _REGISTRY[kind] = builder
        return builder

    return add


def build_sink(config: Any, context: SinkContext) -> Sink:
    _load_builtins()
    try:
        builder = _REGISTRY[config.type]
    except KeyError:
        raise ValueError(f"no sink type {config.type!r}") from None
    return builder(config, context)


def _load_builtins() -> None:
    if _REGISTRY:
        return
    from monitor.sinks.console import ConsoleSink
    from monitor.sinks.slack import SlackSink
    from monitor.sinks.telegram import TelegramSink
    from monitor.sinks.webhook import WebhookSink

    @register("console")
    def _console(config: Any, ctx: SinkContext) -> Sink:
        return ConsoleSink(config, ctx.stream)

    @register("telegram")
    def _telegram(config: Any, ctx: SinkContext) -> Sink:
        return TelegramSink(config, ctx.telegram, ctx.bots)

    @register("slack")
    def _slack(config: Any, ctx: SinkContext) -> Sink:
        return SlackSink(config, ctx.slack, ctx.http)

    @register("webhook")
    def _webhook(config: Any, ctx: SinkContext) -> Sink:
        return WebhookSink(config, ctx.http)
