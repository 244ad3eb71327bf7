"""deploy/grafana/monitor-dashboard.json: a Grafana dashboard whose every query is PromQL that
parses (promql-parser, after Grafana's interval variables are replaced), names only metrics
the daemon exports, uses counters and histograms the way they work, and covers what the
operations guide promises. Grafana itself is not started, so rendering is not checked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from tests.deploy.support import (
    COUNTER,
    DEPLOY,
    HISTOGRAM,
    METRICS,
    base_metric,
    grafana_to_promql,
    output_labels,
    quantile_groupings,
    selectors,
    series_names,
)

pytest.importorskip("promql_parser", reason="promql-parser (a dev dependency) is not installed")

DASHBOARD = DEPLOY / "grafana" / "monitor-dashboard.json"
DS = "${DS_PROMETHEUS}"


@cache
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels() -> Iterator[dict[str, Any]]:
    for panel in dashboard()["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in panels():
        for target in panel.get("targets", []):
            yield panel, target


def exprs() -> list[tuple[str, str]]:
    return [(p["title"], grafana_to_promql(t["expr"])) for p, t in targets()]


def test_dashboard_shape() -> None:
    dash = dashboard()
    assert 36 <= dash["schemaVersion"] <= 41
    assert dash["uid"] and dash["title"]
    assert dash["id"] is None, "exported for import: Grafana assigns the id"
    inputs = {i["name"]: i for i in dash["__inputs"]}
    assert inputs["DS_PROMETHEUS"]["pluginId"] == "prometheus"
    assert inputs["DS_PROMETHEUS"]["type"] == "datasource"


def test_panels_have_unique_ids_titles_and_fit_the_grid() -> None:
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids))
    titles = [p["title"] for p in panels()]
    assert len(titles) == len(set(titles))
    cells: set[tuple[int, int]] = set()
    for panel in panels():
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine


def test_every_query_uses_the_prometheus_input() -> None:
    for panel, target in targets():
        assert panel["datasource"]["uid"] == DS, panel["title"]
        assert target["datasource"]["uid"] == DS, panel["title"]
        assert target["expr"].strip(), panel["title"]
    for variable in dashboard()["templating"]["list"]:
        assert variable["datasource"]["uid"] == DS


def test_every_query_parses_and_names_only_exported_metrics() -> None:
    allowed = series_names()
    for title, expr in exprs():
        for name, _ in selectors(expr):
            assert name in allowed, f"{title}: {name} is not a metric monitor exports"


def test_template_variable_queries_an_exported_metric() -> None:
    for variable in dashboard()["templating"]["list"]:
        match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["definition"])
        assert match and match.group(1) in series_names(), variable["definition"]


def test_counters_are_only_read_through_rate_or_increase() -> None:
    for title, expr in exprs():
        for name, funcs in selectors(expr):
            if METRICS.get(base_metric(name)) == COUNTER or name.endswith(("_count", "_sum")):
                assert funcs and funcs[-1] in {"rate", "irate", "increase"}, f"{title}: {name}"


def test_histograms_are_read_as_quantiles_grouped_by_le() -> None:
    for title, expr in exprs():
        for name, funcs in selectors(expr):
            if name.endswith("_bucket"):
                assert funcs[:1] == ("histogram_quantile",) and funcs[-1] == "rate", title
        for grouping in quantile_groupings(expr):
            assert grouping is not None and "le" in grouping, f"{title}: sum by (le, ...)"


def test_legends_name_labels_the_query_keeps() -> None:
    for panel, target in targets():
        labels = output_labels(grafana_to_promql(target["expr"]))
        for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")):
            assert labels is None or label in labels, f"{panel['title']}: {{{{{label}}}}}"


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_every_metric_is_on_the_dashboard(metric: str) -> None:
    wanted = f"{metric}_bucket" if METRICS[metric] == HISTOGRAM else metric
    assert any(name == wanted for _, expr in exprs() for name, _ in selectors(expr)), metric


@pytest.mark.parametrize("metric", [m for m, k in METRICS.items() if k == HISTOGRAM])
def test_latency_p50_and_p99(metric: str) -> None:
    found = {
        q
        for _, expr in exprs()
        if f"{metric}_bucket" in expr
        for q in re.findall(r"histogram_quantile\((0\.\d+)", expr)
    }
    assert {"0.5", "0.99"} <= found, metric


def test_failing_sources_table_shows_lag() -> None:
    tables = [p for p in panels() if p["type"] == "table" and "failing" in p["title"].lower()]
    assert len(tables) == 1
    text = " ".join(t["expr"] for t in tables[0]["targets"])
    assert "monitor_source_failing" in text and "== 1" in text
    assert "monitor_source_lag_seconds" in text


@pytest.mark.parametrize(
    "title",
    [
        "Polls by outcome",
        "Failing sources",
        "Source lag",
        "Items per minute",
        "Matches per minute by rule",
        "Alerts per minute by sink and outcome",
        "Outbox",
        "Dead letters",
        "Heartbeat age",
        "Store up and daemon up",
        "Rules loaded and reloads",
    ],
)
def test_promised_panels_exist(title: str) -> None:
    assert title in {p["title"] for p in panels()}
