"""Shared facts and helpers for the deployment-file tests.

The metric list below is the daemon's contract for dashboards and alerts (issue 7): every PromQL
expression in deploy/ may use these names and nothing else (plus Prometheus' own `up`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
README = DEPLOY / "README.md"

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"

METRICS: dict[str, str] = {
    "monitor_polls_total": COUNTER,
    "monitor_items_total": COUNTER,
    "monitor_items_new_total": COUNTER,
    "monitor_matches_total": COUNTER,
    "monitor_alerts_total": COUNTER,
    "monitor_outbox_queued": GAUGE,
    "monitor_outbox_sending": GAUGE,
    "monitor_dead_letters": GAUGE,
    "monitor_source_failing": GAUGE,
    "monitor_source_consecutive_errors": GAUGE,
    "monitor_source_last_success_timestamp_seconds": GAUGE,
    "monitor_source_lag_seconds": GAUGE,
    "monitor_published_to_fetched_seconds": HISTOGRAM,
    "monitor_fetched_to_delivered_seconds": HISTOGRAM,
    "monitor_published_to_delivered_seconds": HISTOGRAM,
    "monitor_heartbeat_timestamp_seconds": GAUGE,
    "monitor_rules_loaded": GAUGE,
    "monitor_rules_reloads_total": COUNTER,
    "monitor_store_up": GAUGE,
    "monitor_up": GAUGE,
}
# Label names each metric carries (besides the target labels job/instance that Prometheus adds).
METRIC_LABELS: dict[str, frozenset[str]] = {
    "monitor_polls_total": frozenset({"source", "outcome"}),
    "monitor_items_total": frozenset({"source"}),
    "monitor_items_new_total": frozenset({"source"}),
    "monitor_matches_total": frozenset({"rule"}),
    "monitor_alerts_total": frozenset({"sink", "outcome"}),
    "monitor_source_failing": frozenset({"source"}),
    "monitor_source_consecutive_errors": frozenset({"source"}),
    "monitor_source_last_success_timestamp_seconds": frozenset({"source"}),
    "monitor_source_lag_seconds": frozenset({"source"}),
    "monitor_fetched_to_delivered_seconds": frozenset({"sink"}),
    "monitor_published_to_delivered_seconds": frozenset({"sink"}),
    "monitor_rules_reloads_total": frozenset({"outcome"}),
}
PROMETHEUS_OWN = frozenset({"up"})  # written by Prometheus for every scrape target
TARGET_LABELS = frozenset({"job", "instance"})


def series_names() -> set[str]:
    """Every series name a scrape of monitor can show: histograms as _bucket/_sum/_count."""
    names: set[str] = set()
    for name, kind in METRICS.items():
        if kind == HISTOGRAM:
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    return names


def base_metric(series: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        stem = series.removesuffix(suffix)
        if stem != series and METRICS.get(stem) == HISTOGRAM:
            return stem
    return series


# --- the command line ---------------------------------------------------------------------


def cli_problem(argv: Sequence[str]) -> str | None:
    """None when `monitor <argv>` is a valid command line of the real CLI, else why not.

    Uses the daemon's own argparse parser (nothing runs)."""
    from monitor.cli import _parser

    args = list(argv)
    if args and Path(args[0]).name == "monitor":
        args = args[1:]
    try:
        _parser().parse_args(args)
    except SystemExit as exc:
        return f"`monitor {' '.join(args)}` is not a valid command line (exit {exc.code})"
    return None


# --- PromQL ---------------------------------------------------------------------------------

RANGE_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets", "delta", "idelta", "deriv"})
COUNTER_OK = frozenset({"rate", "irate", "increase", "resets"})


def parse_promql(expr: str):  # type: ignore[no-untyped-def]
    promql_parser = pytest.importorskip(
        "promql_parser", reason="promql-parser (a dev dependency) is not installed"
    )
    return promql_parser.parse(expr)


def _children(node):  # type: ignore[no-untyped-def]
    import promql_parser as pp

    if isinstance(node, pp.AggregateExpr):
        yield node.expr
        if node.param is not None:
            yield node.param
    elif isinstance(node, pp.BinaryExpr):
        yield node.lhs
        yield node.rhs
    elif isinstance(node, pp.Call):
        yield from node.args
    elif isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        yield node.expr
    elif isinstance(node, pp.MatrixSelector):
        yield node.vector_selector


def selectors(expr: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(series name, names of the enclosing functions, innermost last) for every selector."""
    import promql_parser as pp

    def visit(node, funcs: tuple[str, ...]):  # type: ignore[no-untyped-def]
        if isinstance(node, pp.VectorSelector):
            yield node.name or "", funcs
            return
        inner = (*funcs, node.func.name) if isinstance(node, pp.Call) else funcs
        for child in _children(node):
            yield from visit(child, inner)

    yield from visit(parse_promql(expr), ())


def quantile_groupings(expr: str) -> Iterator[tuple[str, ...] | None]:
    """For each histogram_quantile(), the `by` labels of the aggregation inside it (None when
    there is no aggregation, or it uses `without`)."""
    import promql_parser as pp

    def grouping(node) -> tuple[str, ...] | None:  # type: ignore[no-untyped-def]
        while isinstance(node, pp.ParenExpr):
            node = node.expr
        by = pp.AggModifierType.By
        if isinstance(node, pp.AggregateExpr) and node.modifier and node.modifier.type == by:
            return tuple(node.modifier.labels)
        return None

    def visit(node):  # type: ignore[no-untyped-def]
        if isinstance(node, pp.Call) and node.func.name == "histogram_quantile":
            yield grouping(node.args[1])
        for child in _children(node):
            yield from visit(child)

    yield from visit(parse_promql(expr))


def output_labels(expr: str) -> frozenset[str] | None:
    """The labels the result of `expr` can carry; None when that depends on the series."""
    import promql_parser as pp

    def is_scalar(node) -> bool:  # type: ignore[no-untyped-def]
        if isinstance(node, pp.NumberLiteral):
            return True
        if isinstance(node, pp.Call):
            return node.func.name in ("time", "scalar", "pi")
        if isinstance(node, pp.ParenExpr | pp.UnaryExpr):
            return is_scalar(node.expr)
        if isinstance(node, pp.BinaryExpr):
            return is_scalar(node.lhs) and is_scalar(node.rhs)
        return False

    def labels_of(node) -> frozenset[str] | None:  # type: ignore[no-untyped-def]
        if isinstance(node, pp.VectorSelector):
            name = node.name or ""
            return (
                METRIC_LABELS.get(base_metric(name), frozenset())
                | TARGET_LABELS
                | ({"le"} if name.endswith("_bucket") else set())
            )
        if isinstance(node, pp.MatrixSelector):
            return labels_of(node.vector_selector)
        if isinstance(node, pp.AggregateExpr):
            if node.modifier is None:
                return frozenset()
            if node.modifier.type == pp.AggModifierType.By:
                return frozenset(node.modifier.labels)
            inner = labels_of(node.expr)
            return None if inner is None else inner - set(node.modifier.labels)
        if isinstance(node, pp.Call):
            name = node.func.name
            if name == "absent":
                matchers = node.args[0].matchers.matchers
                return frozenset(m.name for m in matchers if m.op == pp.MatchOp.Equal)
            if name in ("time", "vector", "scalar"):
                return frozenset()
            if name == "histogram_quantile":
                inner = labels_of(node.args[1])
                return None if inner is None else inner - {"le"}
            vectors = [
                a for a in node.args if not isinstance(a, pp.NumberLiteral | pp.StringLiteral)
            ]
            return labels_of(vectors[0]) if vectors else frozenset()
        if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
            return labels_of(node.expr)
        if isinstance(node, pp.BinaryExpr):
            left, right = labels_of(node.lhs), labels_of(node.rhs)
            op = str(node.op)
            if op == "or":
                return None if left is None or right is None else left | right
            return right if is_scalar(node.lhs) else left
        return frozenset()

    return labels_of(parse_promql(expr))


GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "${__rate_interval}": "5m",
}


def grafana_to_promql(expr: str) -> str:
    """A Grafana query with its built-in interval variables replaced, so that PromQL parses it.
    Template variables such as $instance stay: they only appear inside label-matcher strings."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


# --- Markdown -------------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def markdown_anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            anchor = github_anchor(match.group(1))
            n = counts.get(anchor, 0)
            counts[anchor] = n + 1
            anchors.add(anchor if n == 0 else f"{anchor}-{n}")
    for match in re.finditer(r'<a (?:name|id)="([^"]+)"', path.read_text(encoding="utf-8")):
        anchors.add(match.group(1))
    return anchors


# --- tools ----------------------------------------------------------------------------------


def need_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed ({why})")
    return path


def run(argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=kwargs.pop("timeout", 120), **kwargs
    )
