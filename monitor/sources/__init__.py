"""Sources: a registry from the config's `type` to the class that polls it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.registry import Registry
from monitor.sources.base import FetchResult, Source
from monitor.sources.http import FeedClient, HttpLimits

__all__ = ["REGISTRY", "FetchResult", "Source", "SourceContext", "build_source"]


@dataclass(frozen=True)
class SourceContext:
    """The shared clients and settings every source may need (injected, never global)."""

    http: FeedClient
    limits: HttpLimits
    base_dir: Path
    telegram_web_base: str = "https://t.me"


Builder = Callable[[Any, SourceContext], Source]


def build_source(config: Any, context: SourceContext) -> Source:
    return REGISTRY.get(config.type)(config, context)


def _rss(config: Any, ctx: SourceContext) -> Source:
    from monitor.sources.rss import RssSource

    return RssSource(config, client=ctx.http, limits=ctx.limits, base_dir=ctx.base_dir)


def _telegram_web(config: Any, ctx: SourceContext) -> Source:
    from monitor.sources.telegram_web import TelegramWebSource

    return TelegramWebSource(
        config, client=ctx.http, limits=ctx.limits, web_base=ctx.telegram_web_base
    )


REGISTRY: Registry[Builder] = Registry("source", {"rss": _rss, "telegram_web": _telegram_web})
