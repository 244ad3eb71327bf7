"""deploy/systemd/monitor.service: checked by systemd's own tools, offline.

- `systemd-analyze verify` on a copy whose ExecStart= points at an executable that exists here:
  verify refuses a unit whose binary is missing ("Command ... is not executable"), and
  /opt/monitor/.venv/bin/monitor exists only on a server. Nothing else is changed in the copy.
  Any output at all (unknown keys, bad values) fails the test.
- `systemd-analyze security --offline=yes`: the exposure score of the hardening options.
- MemoryDenyWriteExecute=yes: monitor's native dependencies run under the same seccomp rules
  (tests/deploy/mdwe_probe.py), since no systemd runs as PID 1 here to start the unit itself.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, REPO, cli_problem, need_tool, run

UNIT = DEPLOY / "systemd" / "monitor.service"
BINARY = "/opt/monitor/.venv/bin/monitor"
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 = locked down ... 10 = unprotected


def _settings() -> dict[str, list[str]]:
    """Directive -> every value it is given (systemd allows repeats)."""
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _one(key: str) -> str:
    values = _settings().get(key)
    assert values, f"{key}= missing"
    return values[-1]


def _seconds(value: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(min|ms|s|m|h)?", value):
        total += float(number) * {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 0.001, "": 1}[unit]
    return total


def _runnable_copy(tmp_path: Path, extra: str = "") -> Path:
    true = need_tool("true", "a stand-in executable for ExecStart=")
    text = UNIT.read_text()
    assert BINARY in text
    copy = tmp_path / "monitor.service"
    copy.write_text(text.replace(BINARY, true) + extra)
    return copy


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = need_tool("systemd-analyze", "systemd's unit checker")
    result = run([tool, "verify", str(_runnable_copy(tmp_path))])
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and output == "", output


def test_verify_would_catch_a_typo(tmp_path: Path) -> None:
    """Guards the guard: systemd-analyze reports an unknown directive (but exits 0)."""
    tool = need_tool("systemd-analyze", "systemd's unit checker")
    bad = _runnable_copy(tmp_path, "\n[Service]\nRestartSecc=5s\n")
    result = run([tool, "verify", str(bad)])
    assert "RestartSecc" in result.stdout + result.stderr


def test_hardening_exposure(tmp_path: Path) -> None:
    tool = need_tool("systemd-analyze", "systemd's unit checker")
    probe = run([tool, "security", "--help"])
    if "--offline" not in probe.stdout:
        pytest.skip("this systemd-analyze has no `security --offline` (systemd < 250)")
    # --threshold is on systemd's 0-100 scale (the printed level times 10)
    result = run(
        [tool, "security", "--offline=yes", f"--threshold={round(MAX_EXPOSURE * 10)}", str(UNIT)],
        cwd=tmp_path,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_service_shape() -> None:
    assert _one("Type") == "simple", "monitor does not call sd_notify; Type=notify would hang"
    exec_start = _one("ExecStart").split()
    assert exec_start[:2] == [BINARY, "run"]
    assert exec_start[2:] == ["--config", "/etc/monitor/monitor.yaml"]
    assert cli_problem(exec_start) is None
    assert _one("ExecReload") == "/bin/kill -HUP $MAINPID"
    assert _one("Restart") == "always"
    assert _seconds(_one("RestartSec")) >= 1
    assert _one("EnvironmentFile") == "-/etc/monitor/monitor.env"
    assert _one("User") == "monitor" and _one("Group") == "monitor"
    assert _one("StateDirectory") == "monitor"
    assert _one("WorkingDirectory") == "/var/lib/monitor"
    assert _one("KillSignal") == "SIGTERM"
    stop = _seconds(_one("TimeoutStopSec"))
    assert 20 < stop <= 60, "a bit over the daemon's ~20 s drain"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("RestrictNamespaces", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("CapabilityBoundingSet", ""),
        ("ReadWritePaths", "/var/lib/monitor"),
    ],
)
def test_hardening_option(key: str, value: str) -> None:
    assert _one(key) == value


def test_system_call_filter_allows_services() -> None:
    assert _settings()["SystemCallFilter"][0] == "@system-service"


def test_native_dependencies_run_under_memory_deny_write_execute(tmp_path: Path) -> None:
    pytest.importorskip("pyseccomp", reason="pyseccomp (a dev dependency) is not installed")
    if not sys.platform.startswith("linux"):
        pytest.skip("seccomp is Linux only")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "store: {url: 'sqlite:var/probe.db'}\nrules: rules\nsinks: [{id: console, type: console}]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in list(env):
        if name.startswith(("TELEGRAM_", "SLACK_", "REDIS_", "MONITOR_")):
            del env[name]
    result = run(
        [sys.executable, str(Path(__file__).with_name("mdwe_probe.py")), str(config)],
        cwd=tmp_path,
        env=env,
    )
    if "libseccomp" in result.stderr and result.returncode != 0:
        pytest.skip(f"libseccomp cannot be loaded here: {result.stderr.strip()[-300:]}")
    assert "FILTER-NOT-ACTIVE" not in result.stdout, "the seccomp filter did not take effect"
    assert result.returncode == 0 and result.stdout.startswith("OK"), (
        result.stdout + result.stderr[-3000:]
    )
