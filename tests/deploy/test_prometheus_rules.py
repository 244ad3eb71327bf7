"""deploy/prometheus/alerts.yaml: a valid Prometheus rules file whose alerts fire when they
should and stay quiet otherwise.

- With promtool (Debian package `prometheus`): `promtool check rules` (syntax, PromQL,
  templates) and `promtool test rules` on the cases in data/alerts_promtool_test.yaml (each alert
  against made-up series: fires on the failure it names, silent on a healthy system).
- Always, in Python: the structure Prometheus requires, every expression through promql-parser,
  only metrics the daemon exports (plus Prometheus' own `up`), `$labels.x` in annotations only
  for labels the expression keeps, and the annotations the runbook needs.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import (
    DEPLOY,
    PROMETHEUS_OWN,
    need_tool,
    output_labels,
    quantile_groupings,
    run,
    selectors,
    series_names,
)

pytest.importorskip("promql_parser", reason="promql-parser (a dev dependency) is not installed")

RULES = DEPLOY / "prometheus" / "alerts.yaml"
PROMTOOL_CASES = Path(__file__).parent / "data" / "alerts_promtool_test.yaml"
REQUIRED = {
    "MonitorDown",
    "NoHeartbeat",
    "SourceDown",
    "AllSourcesFailing",
    "OutboxGrowing",
    "DeadLetters",
    "StoreDown",
    "AlertLatencyHigh",
    "RulesReloadRejected",
}
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
RUNBOOK = "https://github.com/monitor-news/monitor/blob/main/deploy/README.md#"


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


def alerts() -> list[dict[str, Any]]:
    return [rule for group in document()["groups"] for rule in group["rules"]]


def test_structure() -> None:
    doc = document()
    assert set(doc) == {"groups"}
    names = [g["name"] for g in doc["groups"]]
    assert len(names) == len(set(names))
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS, rule.get("alert")
            assert "record" not in rule
            if "for" in rule:
                assert DURATION.match(rule["for"]), rule["alert"]


def test_the_promised_alerts_exist_once() -> None:
    names = [rule["alert"] for rule in alerts()]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED


def test_labels_and_annotations() -> None:
    for rule in alerts():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        notes = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(notes), name
        assert notes["runbook_url"] == RUNBOOK + name.lower(), name


def test_expressions_parse_and_name_only_exported_metrics() -> None:
    allowed = series_names() | PROMETHEUS_OWN
    for rule in alerts():
        for name, _ in selectors(rule["expr"]):
            assert name in allowed, f"{rule['alert']}: {name}"
        for grouping in quantile_groupings(rule["expr"]):
            assert grouping is not None and "le" in grouping, rule["alert"]


def test_annotations_use_labels_the_expression_keeps() -> None:
    for rule in alerts():
        kept = output_labels(rule["expr"])
        text = " ".join(rule["annotations"].values())
        assert text.count("{{") == text.count("}}"), rule["alert"]
        for label in re.findall(r"\$labels\.(\w+)", text):
            assert kept is None or label in kept, f"{rule['alert']}: $labels.{label} is not kept"


def test_promtool_check_rules() -> None:
    promtool = need_tool("promtool", "Debian package `prometheus`; the Python checks above ran")
    result = run([promtool, "check", "rules", str(RULES)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests(tmp_path: Path) -> None:
    """The alerts fire on the failures they name (promtool compares annotations verbatim, so
    the cases run on a copy without them; the templates are checked above)."""
    promtool = need_tool("promtool", "Debian package `prometheus`; the Python checks above ran")
    doc = yaml.safe_load(RULES.read_text())
    for rule in (r for g in doc["groups"] for r in g["rules"]):
        rule.pop("annotations", None)
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copy(PROMTOOL_CASES, tmp_path / "cases.yaml")
    result = run([promtool, "test", "rules", "cases.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = yaml.safe_load(PROMTOOL_CASES.read_text())["tests"]
    tested = {t["alertname"] for case in cases for t in case["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in alerts()}, "every alert has promtool cases"
