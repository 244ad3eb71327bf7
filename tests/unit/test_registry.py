"""Sources and sinks come from registries: built-ins by name, plugins by `register`."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from monitor.registry import Registry
from monitor.sinks import REGISTRY as SINKS
from monitor.sources import REGISTRY as SOURCES


def test_builtins_and_unknown_types() -> None:
    assert set(SINKS.builtins) == {"console", "telegram", "slack", "webhook"}
    assert set(SOURCES.builtins) == {"rss", "telegram_web"}
    with pytest.raises(ValueError, match="no sink type 'pigeon'"):
        SINKS.get("pigeon")


def test_a_plugin_registers_a_kind() -> None:
    registry: Registry[Any] = Registry("sink", {})

    @registry.register("pigeon")
    def pigeon(config: Any, ctx: Any) -> str:
        return "coo"

    assert registry.get("pigeon")(None, None) == "coo"


def test_a_console_sink_is_built_without_importing_telegram() -> None:
    """A deployment without Telegram does not pay python-telegram-bot's start-up."""
    code = (
        "import sys\n"
        "from monitor.config.schema import ConsoleSinkConfig, SlackConfig, TelegramConfig\n"
        "from monitor.sinks import SharedHttpx, SinkContext, build_sink\n"
        "from monitor.telegram_client import BotPool\n"
        "ctx = SinkContext(TelegramConfig(), SlackConfig(), SharedHttpx(timeout=5, user_agent='t'), BotPool())\n"
        "assert build_sink(ConsoleSinkConfig(id='c', type='console'), ctx).kind == 'console'\n"
        "assert 'telegram' not in sys.modules and 'httpx' not in sys.modules, 'imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
