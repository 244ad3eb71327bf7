"""Routing: which destinations get an item's matches; one alert per destination."""

from __future__ import annotations

from dataclasses import replace

from monitor.model import Destination, Level
from monitor.routing import Route, Router, alert_id
from tests.support import factories

LEVELS = {"console": Level.INFO, "desk": Level.INFO, "urgent": Level.HIGH}


def test_no_routes_sends_everything_everywhere() -> None:
    router = Router([], LEVELS)
    alerts = router.alerts(factories.item(), [factories.rule_match(level=Level.CRITICAL)], "story")
    assert [a.destination.sink_id for a in alerts] == ["console", "desk", "urgent"]


def test_sink_min_level_filters() -> None:
    router = Router([], LEVELS)
    alerts = router.alerts(factories.item(), [factories.rule_match(level=Level.MEDIUM)], "story")
    assert "urgent" not in [a.destination.sink_id for a in alerts]


def test_routes_select_by_rule_tag_source_and_level() -> None:
    routes = [
        Route(sinks=("desk",), rules=("iraq-truce",)),
        Route(sinks=("urgent",), rules=("tag:bases",), min_level=Level.HIGH),
        Route(sinks=("console",), rules=("*",), sources=("tag:iraq",)),
    ]
    router = Router(routes, LEVELS)
    item = factories.item()  # no tags
    truce = factories.rule_match("iraq-truce", Level.HIGH)
    assert {d.sink_id for d in router.destinations(item, truce)} == {"desk"}
    base = replace(factories.rule_match("strike", Level.CRITICAL), tags=("bases",))
    assert {d.sink_id for d in router.destinations(item, base)} == {"urgent"}
    assert router.destinations(item, replace(base, level=Level.MEDIUM)) == set()
    tagged = replace(item, tags=("iraq",))
    assert {d.sink_id for d in router.destinations(tagged, truce)} == {"desk", "console"}


def test_rule_route_overrides_config_routes_and_unknown_sinks_are_skipped() -> None:
    router = Router([Route(sinks=("console",))], LEVELS)
    match = replace(factories.rule_match(), routes=("desk", "gone"))
    assert router.destinations(factories.item(), match) == {Destination("desk")}


def test_one_alert_per_destination_with_all_its_matches_most_urgent_first() -> None:
    router = Router([], {"desk": Level.INFO})
    low = factories.rule_match("a", Level.LOW)
    high = factories.rule_match("b", Level.HIGH)
    (alert,) = router.alerts(factories.item(), [low, high], "story-1")
    assert [m.rule_id for m in alert.matches] == ["b", "a"]
    assert alert.id == alert_id(Destination("desk"), "story-1")
    assert alert.level is Level.HIGH


def test_subscribers_add_destinations() -> None:
    router = Router(
        [Route(sinks=("console",))], LEVELS, subscribers=lambda m: [Destination("desk", "42")]
    )
    dests = router.destinations(factories.item(), factories.rule_match())
    assert dests == {Destination("console"), Destination("desk", "42")}
