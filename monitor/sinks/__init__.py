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
    builder = _REGISTRY.get(config.type) or _BUILTINS.get(config.type)
    if builder is None:
        raise ValueError(f"no sink type {config.type!r}")
    return builder(config, context)


# Built-in sinks, each module imported only when a sink of its type is configured (a console-only
# deployment does not pay python-telegram-bot's start-up).


def _console(config: Any, ctx: SinkContext) -> Sink:
    from monitor.sinks.console import ConsoleSink

    return ConsoleSink(config, ctx.stream)


def _telegram(config: Any, ctx: SinkContext) -> Sink:
    from monitor.sinks.telegram import TelegramSink

    return TelegramSink(config, ctx.telegram, ctx.bots)


def _slack(config: Any, ctx: SinkContext) -> Sink:
    from monitor.sinks.slack import SlackSink

    return SlackSink(config, ctx.slack, ctx.http)


def _webhook(config: Any, ctx: SinkContext) -> Sink:
    from monitor.sinks.webhook import WebhookSink

    return WebhookSink(config, ctx.http)


_BUILTINS: dict[str, Builder] = {
    "console": _console,
    "telegram": _telegram,
    "slack": _slack,
    "webhook": _webhook,
}
