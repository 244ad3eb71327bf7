"""Sinks: a registry from the config's `type` to the class that delivers there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from monitor.config.schema import SlackConfig, TelegramConfig
from monitor.registry import Registry
from monitor.sinks.base import Limit, Sink
from monitor.telegram_client import BotPool

if TYPE_CHECKING:
    import httpx


class SharedHttpx:
    """The httpx client the Slack and webhook sinks share, made on first use (a deployment
    without them does not import httpx's stack at start)."""

    def __init__(self, *, timeout: float, user_agent: str) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), headers={"User-Agent": self.user_agent}
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


__all__ = ["REGISTRY", "Limit", "SharedHttpx", "Sink", "SinkContext", "build_sink"]


@dataclass(frozen=True)
class SinkContext:
    """Shared settings and clients for sinks (injected, never global)."""

    telegram: TelegramConfig
    slack: SlackConfig
    http: SharedHttpx
    bots: BotPool
    stream: TextIO | None = None


Builder = Callable[[Any, SinkContext], Sink]


def build_sink(config: Any, context: SinkContext) -> Sink:
    return REGISTRY.get(config.type)(config, context)


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

    return SlackSink(config, ctx.slack, ctx.http())


def _webhook(config: Any, ctx: SinkContext) -> Sink:
    from monitor.sinks.webhook import WebhookSink

    return WebhookSink(config, ctx.http())


REGISTRY: Registry[Builder] = Registry(
    "sink",
    {
        "console": _console,
        "telegram": _telegram,
        "slack": _slack,
        "webhook": _webhook,
    },
)
