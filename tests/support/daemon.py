"""Run `monitor` as a real subprocess in tests: write a config, start, signal, read its logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

RULES = """\
id: test-truce
title: هدنة
level: high
keywords: [هدنة, قصف]
examples:
  match: ["إعلان هدنة"]
  no_match: ["طقس"]
"""


def write_rules(folder: Path, text: str = RULES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rule.yaml").write_text(text, encoding="utf-8")
    return folder


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    base: dict[str, Any] = {
        "rules": str(write_rules(folder / "rules")) if "rules" not in config else config["rules"],
        "log": {"level": "info", "format": "json"},
        "defaults": {"interval": "1s", "jitter": 0},
        "delivery": {"retry_base": "0.2s", "retry_max": "2s", "once_deadline": "30s"},
    }
    base.update(config)
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def monitor_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "TELEGRAM_", "SLACK_"))
    }
    env.pop("REDIS_URL", None)
    env.update({"PYTHONUNBUFFERED": "1", "MONITOR_LOG_FORMAT": "json", **extra})
    return env


def run_once(config: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=monitor_env(**env),
        cwd=config.parent,
    )


def cli(*args: str, config: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=monitor_env(),
        cwd=config.parent,
    )


class Daemon:
    """`monitor run` in the background; logs go to files next to the config."""

    def __init__(self, config: Path, **env: str) -> None:
        self.config = config
        self.env = monitor_env(**env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log_path(self) -> Path:
        return self.config.parent / f"daemon-{self.runs}.log"

    def start(self) -> Daemon:
        self.runs += 1
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.config.parent,
            )
        return self

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the daemon did not stop within {timeout} s") from None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def logs(self, run: int | None = None) -> list[dict[str, Any]]:
        """Every JSON log line of every run so far (or of one run)."""
        runs = [run] if run is not None else range(1, self.runs + 1)
        out: list[dict[str, Any]] = []
        for n in runs:
            path = self.config.parent / f"daemon-{n}.log"
            if not path.exists():
                continue
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.logs() if e.get("event") == name]

    def __enter__(self) -> Daemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
