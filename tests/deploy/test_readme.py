"""deploy/README.md, the operations guide: it documents every metric and every alert, every
runbook link of the alert rules lands on a heading of it, its links resolve, and every
`monitor ...` command it tells operators to type is a valid command line of the real CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import DEPLOY, METRICS, README, cli_problem, markdown_anchors

ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
SUBCOMMANDS = "run|rules|match|status|outbox|health"
POLL_OUTCOMES = [
    "200",
    "304",
    "unchanged",
    "skipped",
    "fetch",
    "rate_limited",
    "unavailable",
    "too_large",
    "parse",
    "store",
]
ALERT_OUTCOMES = ["sent", "retried", "dead", "digest"]


def text() -> str:
    return README.read_text(encoding="utf-8")


def alert_rules() -> list[dict]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _table_rows() -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\|\s*`?([^`|]+?)`?\s*\|", text(), re.M)}


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_every_metric_has_a_row(metric: str) -> None:
    assert metric in _table_rows()


def test_every_outcome_is_explained() -> None:
    rows = _table_rows()
    for outcome in POLL_OUTCOMES:
        assert outcome in rows, f"poll outcome {outcome}"
    for outcome in ALERT_OUTCOMES:
        assert f"`{outcome}`" in text(), f"alert outcome {outcome}"


def test_every_alert_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^### (\w+)\s*$", text(), re.M))
    for rule in alert_rules():
        assert rule["alert"] in headings, rule["alert"]


def test_runbook_urls_land_on_headings() -> None:
    anchors = markdown_anchors(README)
    for rule in alert_rules():
        url = rule["annotations"]["runbook_url"]
        assert url.split("#", 1)[0].endswith("/deploy/README.md"), url
        assert url.split("#", 1)[1] in anchors, url


def test_internal_links_resolve() -> None:
    anchors = markdown_anchors(README)
    for target in re.findall(r"\]\(([^)\s]+)\)", text()):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        if path:
            assert (README.parent / path).resolve().exists(), target
        elif anchor:
            assert anchor in anchors, target


def _commands() -> list[str]:
    """`monitor <subcommand> ...` inside code blocks and inline code."""
    chunks: list[str] = []
    in_block = False
    for line in text().splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        chunks += [line] if in_block else re.findall(r"`([^`]+)`", line)
    commands = []
    for chunk in chunks:
        for match in re.finditer(rf"\bmonitor\s+((?:{SUBCOMMANDS})\b[^#|&;`\\]*)", chunk):
            commands.append(match.group(1).strip())
    return commands


def test_documented_commands_are_valid() -> None:
    commands = _commands()
    assert len(commands) >= 10
    for command in commands:
        problem = cli_problem(shlex.split(command))
        assert problem is None, problem


def test_the_deploy_files_are_all_described() -> None:
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path.suffix in {".yaml", ".json", ".service", ""}:
            relative = path.relative_to(DEPLOY)
            if relative.parts[0] == "k8s":
                continue  # listed file by file in the Kubernetes table
            if relative.name == "README.md":
                continue
            assert str(relative) in text(), f"{relative} is not mentioned in deploy/README.md"
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            assert f"`{path.name}`" in text(), path.name


def test_mentions_the_numbers_the_files_use() -> None:
    body = text()
    assert "9108" in body
    assert "TimeoutStopSec=30s" in body and "terminationGracePeriodSeconds: 30" in body
    assert "sqlite:///var/lib/monitor/monitor.db" in body
    assert "appendonly yes" in body and "noeviction" in body
    assert Path(DEPLOY / "systemd" / "monitor.service").read_text().count("TimeoutStopSec=30s") == 1
