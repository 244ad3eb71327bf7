"""The configuration schema (monitor.yaml). Every field is validated before anything runs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZES = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2}
_SIZES["gib"] = 1024**3


def parse_duration(value: Any) -> Any:
    """Seconds as a number, or a string like `90s`, `5m`, `2h`, `30d`."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 2h, 30d)")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


def _size(value: Any) -> Any:
    """Bytes as a number, or a string like `10MB`, `512KiB`."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: {value!r} (use e.g. 10MB)")
        unit = (match.group(2) or "b").lower()
        return int(float(match.group(1)) * _SIZES[unit])
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Bytes = Annotated[int, BeforeValidator(_size), Field(gt=0)]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(Strict):
    url: str = "sqlite:var/monitor.db"
    namespace: Ident = "monitor"
    seen_ttl: PositiveSeconds = 30 * 86400.0
    dedup_window: PositiveSeconds = 48 * 3600.0
    near_duplicates: bool = True  # cluster re-edited copies by MinHash, not only by URL/content
    story_threshold: Annotated[float, Field(gt=0, le=1)] = 0.32  # measured, see monitor/stories.py

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "redis://", "rediss://", "unix://")):
            raise ValueError("store url must start with sqlite:, redis://, rediss:// or unix://")
        return value


class HttpConfig(Strict):
    connect_timeout: PositiveSeconds = 10.0
    read_timeout: PositiveSeconds = 30.0
    total_timeout: PositiveSeconds = 60.0
    max_bytes: Bytes = 10 * 1000 * 1000
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    user_agent: str = "monitor/0.1 (+https://github.com/monitor-news/monitor)"
    max_connections: Annotated[int, Field(gt=0)] = 100
    backoff_base: PositiveSeconds = 60.0
    backoff_max: PositiveSeconds = 3600.0


class Defaults(Strict):
    interval: PositiveSeconds = 300.0
    jitter: Seconds = 15.0
    max_age: PositiveSeconds | None = None  # items published longer ago: marked seen, no alert


class LogConfig(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class BotConfig(Strict):
    """The subscriber bot: commands in Telegram (needs telegram.token)."""

    enabled: bool = False
    admins: tuple[int, ...] = ()  # user ids allowed /status and /reload
    subscription: Literal["open", "allowlist"] = "open"
    allowlist: tuple[int, ...] = ()  # user or chat ids that may subscribe (allowlist mode)
    sink: Ident | None = None  # telegram sink that formats and paces subscribers' alerts
    commands_per_minute: Annotated[int, Field(gt=0)] = 10


class TelegramConfig(Strict):
    token: str = ""
    api_base: str = "https://api.telegram.org"
    web_base: str = "https://t.me"
    # pacing (Telegram's documented limits); set pacing: false only for benchmarks
    pacing: bool = True
    chat_per_second: Annotated[float, Field(gt=0)] = 1.0
    group_per_minute: Annotated[float, Field(gt=0)] = 20.0
    # 25, not the documented 30: arrivals bunch up on the way (network, a busy event loop), and
    # a window kept exactly at the limit then trips the flood control
    bot_per_second: Annotated[float, Field(gt=0)] = 25.0
    bot: BotConfig = BotConfig()


class SlackConfig(Strict):
    bot_token: str = ""
    api_base: str = "https://slack.com/api"
    pacing: bool = True
    channel_per_second: Annotated[float, Field(gt=0)] = 1.0


class DeliveryConfig(Strict):
    lease: PositiveSeconds = 120.0  # an alert leased longer than this is due again
    batch: Annotated[int, Field(gt=0, le=1000)] = 50
    retry_base: PositiveSeconds = 2.0
    retry_max: PositiveSeconds = 600.0
    send_timeout: PositiveSeconds = 30.0
    once_deadline: PositiveSeconds = 120.0  # `run --once`: how long to wait for retries


class SourceBase(Strict):
    id: Ident
    interval: PositiveSeconds | None = None
    jitter: Seconds | None = None
    tags: tuple[str, ...] = ()
    title: str | None = None
    enabled: bool = True


class RssSourceConfig(SourceBase):
    type: Literal["rss"]
    url: str  # http(s) URL, file:// URL or a local path (relative to the config file)


class TelegramWebSourceConfig(SourceBase):
    type: Literal["telegram_web"]
    channel: Annotated[str, Field(pattern=r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")]
    max_pages: Annotated[int, Field(ge=1, le=50)] = 5


class TelegramBotSourceConfig(SourceBase):
    type: Literal["telegram_bot"]
    chat_id: str  # numeric id (-100...) or @username of a chat where the bot is a member


SourceConfig = Annotated[
    RssSourceConfig | TelegramWebSourceConfig | TelegramBotSourceConfig,
    Field(discriminator="type"),
]


class SinkBase(Strict):
    id: Ident
    optional: bool = False  # an optional sink whose secrets are empty is disabled with a warning
    min_level: Literal["info", "low", "medium", "high", "critical"] = "info"
    digest_after: Annotated[int, Field(ge=2)] | None = 10  # more waiting than this: one digest
    updates: Literal["edit", "reply", "silent"] = "edit"  # a story gains a source after its alert


class ConsoleSinkConfig(SinkBase):
    type: Literal["console"]
    color: bool | None = None


class TelegramSinkConfig(SinkBase):
    type: Literal["telegram"]
    chat_id: str = ""
    token: str | None = None  # defaults to telegram.token
    link_preview: bool = False
    open_button: bool = True

    def missing(self, default_token: str) -> list[str]:
        return [
            name
            for name, value in (("chat_id", self.chat_id), ("token", self.token or default_token))
            if not value
        ]


class SlackSinkConfig(SinkBase):
    type: Literal["slack"]
    webhook_url: str = ""
    channel: str = ""  # with a bot token: chat.postMessage to this channel
    bot_token: str | None = None  # defaults to slack.bot_token

    def missing(self, default_token: str) -> list[str]:
        if self.webhook_url:
            return []
        if self.channel and (self.bot_token or default_token):
            return []
        return ["webhook_url (or channel + bot_token)"]


class WebhookSinkConfig(SinkBase):
    type: Literal["webhook"]
    url: str = ""
    secret: str = ""
    headers: dict[str, str] = Field(default_factory=dict)

    def missing(self, default_token: str) -> list[str]:
        return [] if self.url else ["url"]


SinkConfig = Annotated[
    ConsoleSinkConfig | TelegramSinkConfig | SlackSinkConfig | WebhookSinkConfig,
    Field(discriminator="type"),
]


class RouteConfig(Strict):
    """Alerts for matching rules go to these sinks. `rules` entries: a rule id, `tag:<tag>`, or
    `*`; `sources` (optional): source ids or `tag:<tag>`."""

    sinks: tuple[Ident, ...]
    rules: tuple[str, ...] = ("*",)
    sources: tuple[str, ...] = ()
    min_level: Literal["info", "low", "medium", "high", "critical"] = "info"


class HttpServerConfig(Strict):
    listen: str = ""  # host:port for /healthz, /readyz, /metrics; empty: no server

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        if value and not re.match(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]*):\d{1,5}$", value):
            raise ValueError("listen must be host:port, e.g. 127.0.0.1:9108 or 0.0.0.0:9108")
        return value


class HealthConfig(Strict):
    failing_after: Annotated[int, Field(ge=1)] = 3  # consecutive failed polls: "failing"
    notify: tuple[Ident, ...] = ()  # sinks that get one notice on failing and one on recovery


class MonitorConfig(Strict):
    instance: str | None = None
    health: HealthConfig = HealthConfig()
    http_server: HttpServerConfig = HttpServerConfig()
    rules: str = "rules"
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()
    defaults: Defaults = Defaults()
    log: LogConfig = LogConfig()
    telegram: TelegramConfig = TelegramConfig()
    slack: SlackConfig = SlackConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    sources: tuple[SourceConfig, ...] = ()
    sinks: tuple[SinkConfig, ...] = (ConsoleSinkConfig(id="console", type="console"),)
    routes: tuple[RouteConfig, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> MonitorConfig:
        _unique("sources", [s.id for s in self.sources])
        _unique("sinks", [s.id for s in self.sinks])
        sink_ids = {s.id for s in self.sinks}
        for index, route in enumerate(self.routes):
            for name in route.sinks:
                if name not in sink_ids:
                    raise ValueError(f"routes[{index}].sinks: unknown sink {name!r}")
        for name in self.health.notify:
            if name not in sink_ids:
                raise ValueError(f"health.notify: unknown sink {name!r}")
        return self


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for name in ids:
        if name in seen:
            raise ValueError(f"{section}: duplicate id {name!r}")
        seen.add(name)
