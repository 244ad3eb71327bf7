"""deploy/compose.yaml: valid against the official Compose Specification schema (vendored in
tests/deploy/schemas/, nothing is fetched), and wired the way the operations guide says.

`docker compose config` would be the reference check, but this machine has only the Docker
client without the compose plugin; the test runs it too when it is available.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, REPO, cli_problem

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (a dev dependency) is missing")

COMPOSE = DEPLOY / "compose.yaml"
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


def _doc() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]


def _seconds(duration: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def test_schema_file_is_the_compose_spec() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"


def test_valid_against_the_compose_spec() -> None:
    assert _errors(_doc()) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["services"]["monitor"].update(restrat="always"),
        lambda d: d["services"]["redis"]["healthcheck"].update(interval=30),
        lambda d: d["services"]["monitor"]["volumes"][0].update(type="bindd"),
        lambda d: d.update(volume={"x": {}}),
    ],
    ids=["typo-in-service-key", "number-for-duration", "bad-mount-type", "typo-at-top"],
)
def test_the_schema_check_catches_mistakes(mutate: Any) -> None:
    """Guards the guard: the validation above would notice these slips."""
    doc = copy.deepcopy(_doc())
    mutate(doc)
    assert _errors(doc)


def test_monitor_service() -> None:
    svc = _doc()["services"]["monitor"]
    assert svc["restart"] == "unless-stopped"
    assert (COMPOSE.parent / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    )
    env_files = [e["path"] if isinstance(e, dict) else e for e in svc["env_file"]]
    assert [(COMPOSE.parent / p).resolve() for p in env_files] == [REPO / ".env"]
    assert svc["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert _seconds(svc["stop_grace_period"]) > 20, "longer than the ~20 s drain after SIGTERM"
    assert svc.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert any(str(p).endswith(":9108") for p in svc["ports"])


def test_monitor_healthcheck_is_a_real_command() -> None:
    test = _doc()["services"]["monitor"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert cli_problem(test[1:]) is None


def test_config_and_rules_are_mounted_read_only_from_the_repository() -> None:
    mounts = {m["target"]: m for m in _doc()["services"]["monitor"]["volumes"]}
    for target, source in [("/app/monitor.yaml", "monitor.yaml"), ("/app/rules", "rules")]:
        mount = mounts[target]
        assert mount["type"] == "bind" and mount["read_only"] is True
        assert (COMPOSE.parent / mount["source"]).resolve() == REPO / source
    assert (REPO / "monitor.yaml").is_file()
    if not (REPO / "rules").is_dir():
        pytest.skip("rules/ is not in this checkout yet (it comes with the rules work)")


def test_redis_persists_with_aof_on_a_named_volume() -> None:
    doc = _doc()
    redis = doc["services"]["redis"]
    command = " ".join(map(str, redis["command"]))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert redis["restart"] == "unless-stopped"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    data = next(v for v in redis["volumes"] if v["target"] == "/data")
    assert data["type"] == "volume" and data["source"] in doc["volumes"]
    assert "ports" not in redis, "Redis is reachable from the monitor service only"


def test_named_volumes_are_declared() -> None:
    doc = _doc()
    for svc in doc["services"].values():
        for mount in svc.get("volumes", []):
            if mount["type"] == "volume":
                assert mount["source"] in doc["volumes"], mount


def test_docker_compose_config_when_available() -> None:
    docker = shutil.which("docker")
    probe = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if not probe or probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed (the schema check above ran)")
    result = subprocess.run(
        [str(docker), "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
