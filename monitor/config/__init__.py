"""Configuration: monitor.yaml for the topology, the environment (and `.env`) for secrets.

`load_config()` reads the file, interpolates `${VAR}` from the environment merged over `.env`,
validates everything and raises one `ConfigError` that lists every problem as
`file:line: key: message`. Relative paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.config.schema import (
    ConsoleSinkConfig,
    HttpServerConfig,
    MonitorConfig,
    RouteConfig,
    RssSourceConfig,
    SinkConfig,
    SlackSinkConfig,
    SourceConfig,
    TelegramBotSourceConfig,
    TelegramSinkConfig,
    TelegramWebSourceConfig,
    WebhookSinkConfig,
)
from monitor.config.yamlsrc import dotted, line_of, load_yaml_with_lines
from monitor.errors import ConfigError

__all__ = [
    "ConsoleSinkConfig",
    "EnvSettings",
    "LoadedConfig",
    "MonitorConfig",
    "RouteConfig",
    "RssSourceConfig",
    "SinkConfig",
    "SlackSinkConfig",
    "SourceConfig",
    "TelegramBotSourceConfig",
    "TelegramSinkConfig",
    "TelegramWebSourceConfig",
    "WebhookSinkConfig",
    "load_config",
    "load_env",
]


class EnvSettings(BaseSettings):
    """Deployment knobs read from the environment (MONITOR_*) and `.env`."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", env_file=".env", extra="ignore")

    config: str = "monitor.yaml"
    log_level: str | None = None
    log_format: str | None = None


@dataclass(frozen=True)
class LoadedConfig:
    config: MonitorConfig
    path: Path
    env: Mapping[str, str]
    disabled_sinks: dict[str, str]  # optional sinks left out, with the reason

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def rules_path(self) -> Path:
        return self.resolve(self.config.rules)

    @property
    def active_sinks(self) -> tuple[SinkConfig, ...]:
        return tuple(s for s in self.config.sinks if s.id not in self.disabled_sinks)


def load_env(config_path: Path | None = None) -> dict[str, str]:
    """The environment merged over `.env` (current folder, then the config file's folder)."""
    merged: dict[str, str] = {}
    candidates = [Path.cwd() / ".env"]
    if config_path is not None:
        candidates.insert(0, config_path.resolve().parent / ".env")
    for candidate in candidates:
        if candidate.is_file():
            for key, value in dotenv_values(candidate).items():
                if value is not None:
                    merged.setdefault(key, value)
    merged.update(os.environ)
    return merged


def load_config(path: Path, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, interpolate and validate `path`. Raises ConfigError listing every problem."""
    env = load_env(path) if env is None else env
    data, lines = load_yaml_with_lines(path, env)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of sections", where=f"{path}:1")
    try:
        config = MonitorConfig.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[int, str]] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = line_of(lines, loc) or 1
            key = dotted(_without_union_tags(loc))
            message = err["msg"].removeprefix("Value error, ")
            problems.append((line, f"{path}:{line}: {key + ': ' if key else ''}{message}"))
        raise ConfigError("\n".join(text for _, text in sorted(problems))) from exc
    listen = env.get("MONITOR_HTTP_LISTEN")
    if listen:  # the deployment's choice wins over the file (containers bind 0.0.0.0)
        try:
            config = config.model_copy(update={"http_server": HttpServerConfig(listen=listen)})
        except ValidationError as exc:
            raise ConfigError(f"MONITOR_HTTP_LISTEN: {exc.errors()[0]['msg']}") from exc
    disabled = _check_sinks(config, path, lines)
    return LoadedConfig(config=config, path=path, env=env, disabled_sinks=disabled)


def _without_union_tags(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    tags = {"rss", "telegram_web", "telegram_bot", "console", "telegram", "slack", "webhook"}
    out: list[str | int] = []
    for index, part in enumerate(loc):
        if index > 0 and isinstance(loc[index - 1], int) and part in tags:
            continue
        out.append(part)
    return tuple(out)


def _check_sinks(
    config: MonitorConfig, path: Path, lines: dict[tuple[str | int, ...], int]
) -> dict[str, str]:
    """Sinks whose secrets are missing: optional ones are disabled, others are an error."""
    disabled: dict[str, str] = {}
    problems: list[str] = []
    for index, sink in enumerate(config.sinks):
        if isinstance(sink, TelegramSinkConfig):
            missing = sink.missing(config.telegram.token)
        elif isinstance(sink, SlackSinkConfig):
            missing = sink.missing(config.slack.bot_token)
        elif isinstance(sink, WebhookSinkConfig):
            missing = sink.missing("")
        else:
            missing = []
        if not missing:
            continue
        reason = "not configured: " + ", ".join(missing) + " empty"
        if sink.optional:
            disabled[sink.id] = reason
        else:
            line = line_of(lines, ("sinks", index)) or 1
            problems.append(f"{path}:{line}: sinks[{index}] ({sink.id}): {reason}")
    for index, source in enumerate(config.sources):
        if isinstance(source, TelegramBotSourceConfig) and not config.telegram.token:
            line = line_of(lines, ("sources", index)) or 1
            problems.append(
                f"{path}:{line}: sources[{index}] ({source.id}): a telegram_bot source needs "
                "telegram.token (TELEGRAM_BOT_TOKEN)"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return disabled
