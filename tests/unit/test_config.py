"""Configuration: validation at start, errors that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config.yamlsrc import interpolate
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configs_load_without_secrets() -> None:
    loaded = load_config(ROOT / "monitor.yaml", env={})
    assert loaded.config.store.url == "sqlite:var/monitor.db"
    assert set(loaded.disabled_sinks) == {"desk", "slack-alerts"}
    assert [s.id for s in loaded.active_sinks] == ["console"]
    demo = load_config(ROOT / "examples/demo/monitor.yaml", env={})
    assert demo.rules_path.resolve() == (ROOT / "rules").resolve()


def test_secrets_from_env_enable_optional_sinks() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
        "TELEGRAM_CHAT_ID": "-1001",
        "REDIS_URL": "redis://localhost:6390/0",
    }
    loaded = load_config(ROOT / "monitor.yaml", env=env)
    assert "desk" not in loaded.disabled_sinks
    assert loaded.config.telegram.token == env["TELEGRAM_BOT_TOKEN"]
    assert loaded.config.store.url == "redis://localhost:6390/0"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEED_URL", raising=False)
    (tmp_path / ".env").write_text("FEED_URL=https://example.com/rss\n")
    path = write(tmp_path, "sources:\n  - {id: a, type: rss, url: '${FEED_URL}'}\n")
    assert load_config(path).config.sources[0].url == "https://example.com/rss"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sources:\n  - id: a\n    type: rss\n    url: x\n    interval: soon\n",
            "monitor.yaml:5: sources[0].interval: not a duration",
        ),
        ("sources:\n  - {id: a, type: rss}\n", "monitor.yaml:2: sources[0].url: Field required"),
        ("sources:\n  - {id: a, type: carrier-pigeon, url: x}\n", "monitor.yaml:2: sources[0]"),
        ("store:\n  url: mysql://x\n", "monitor.yaml:2: store.url: store url must start with"),
        ("stor:\n  url: x\n", "monitor.yaml:1: stor: Extra inputs are not permitted"),
        (
            "sources:\n  - {id: a, type: rss, url: x}\n  - {id: a, type: rss, url: y}\n",
            "duplicate id 'a'",
        ),
        ("routes:\n  - {sinks: [nowhere]}\n", "unknown sink 'nowhere'"),
        (
            "sinks:\n  - {id: desk, type: telegram, chat_id: '1'}\n",
            "monitor.yaml:2: sinks[0] (desk): not configured: token empty",
        ),
        (
            "defaults:\n  interval: 0\n",
            "monitor.yaml:2: defaults.interval: Input should be greater than 0",
        ),
        ("sources: [\n", "monitor.yaml:2"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("http:\n  max_bytes: lots\n", "monitor.yaml:2: http.max_bytes: not a size"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    assert expected in str(info.value).replace(str(tmp_path) + "/", "")


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = "defaults:\n  interval: -1\n  jitter: x\nhttp:\n  max_redirects: 99\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert [line.split(":")[1] for line in lines] == ["2", "3", "5"]


def test_missing_variable_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "telegram:\n  token: ${NOPE_NOT_SET}\n")
    with pytest.raises(ConfigError, match=r"monitor.yaml:2: environment variable NOPE_NOT_SET"):
        load_config(path, env={})


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", env={})


@pytest.mark.parametrize(
    ("text", "env", "out"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("x-${A}-${B}", {"A": "1", "B": "2"}, "x-1-2"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("$${A}", {"A": "1"}, "${A}"),
        ("no vars", {}, "no vars"),
    ],
)
def test_interpolate(text: str, env: dict[str, str], out: str) -> None:
    assert interpolate(text, env, "f:1") == out


def test_durations_and_sizes(tmp_path: Path) -> None:
    text = "defaults:\n  interval: 90s\n  jitter: 1m\nhttp:\n  max_bytes: 2MB\nstore:\n  seen_ttl: 30d\n"
    cfg = load_config(write(tmp_path, text), env={}).config
    assert (cfg.defaults.interval, cfg.defaults.jitter) == (90, 60)
    assert cfg.http.max_bytes == 2_000_000
    assert cfg.store.seen_ttl == 30 * 86400


def test_http_listen_from_the_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "http_server:\n  listen: 127.0.0.1:9108\n")
    assert load_config(path, env={}).config.http_server.listen == "127.0.0.1:9108"
    loaded = load_config(path, env={"MONITOR_HTTP_LISTEN": "0.0.0.0:9200"})
    assert loaded.config.http_server.listen == "0.0.0.0:9200"
    with pytest.raises(ConfigError, match="MONITOR_HTTP_LISTEN"):
        load_config(path, env={"MONITOR_HTTP_LISTEN": "nonsense"})
