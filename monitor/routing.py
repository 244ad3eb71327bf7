"""Which destinations an item's matches go to, and the alerts that makes (pure).

A rule that names `route:` sinks goes to those; otherwise the config's routes decide (a route
selects rules by id, `tag:<tag>` or `*`, sources by id or `tag:<tag>`, and a minimum level).
With no routes configured, every active sink gets every match. Subscribers (chats that asked
for a rule or tag through the bot) are added by the `subscribers` callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.identity import digest
from monitor.model import Alert, Destination, Item, Level, RuleMatch, utcnow

Subscribers = Callable[[RuleMatch], Iterable[Destination]]


@dataclass(frozen=True, slots=True)
class Route:
    sinks: tuple[str, ...]
    rules: tuple[str, ...] = ("*",)
    sources: tuple[str, ...] = ()
    min_level: Level = Level.INFO

    def selects(self, item: Item, match: RuleMatch) -> bool:
        if match.level.rank < self.min_level.rank:
            return False
        if self.sources and not _selects(self.sources, item.source_id, item.tags):
            return False
        return _selects(self.rules, match.rule_id, match.tags)


def _selects(selectors: Sequence[str], ident: str, tags: Sequence[str]) -> bool:
    for selector in selectors:
        if selector == "*" or selector == ident:
            return True
        if selector.startswith("tag:") and selector[4:] in tags:
            return True
    return False


def alert_id(destination: Destination, story_key: str) -> str:
    return digest(f"{destination.key}\x00{story_key}")


class Router:
    def __init__(
        self,
        routes: Sequence[Route],
        sink_levels: Mapping[str, Level],
        subscribers: Subscribers | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.sink_levels = dict(sink_levels)
        self.subscribers = subscribers

    def destinations(self, item: Item, match: RuleMatch) -> set[Destination]:
        if match.routes:
            sinks = set(match.routes)
        elif self.routes:
            sinks = {s for r in self.routes if r.selects(item, match) for s in r.sinks}
        else:
            sinks = set(self.sink_levels)
        out = {
            Destination(s)
            for s in sinks
            if s in self.sink_levels and match.level.rank >= self.sink_levels[s].rank
        }
        if self.subscribers is not None:
            out.update(
                d
                for d in self.subscribers(match)
                if d.sink_id in self.sink_levels
                and match.level.rank >= self.sink_levels[d.sink_id].rank
            )
        return out

    def alerts(self, item: Item, matches: Sequence[RuleMatch], story_key: str) -> list[Alert]:
        """One alert per destination, carrying every match routed there (most urgent first)."""
        grouped: dict[Destination, list[RuleMatch]] = {}
        for match in matches:
            for destination in self.destinations(item, match):
                grouped.setdefault(destination, []).append(match)
        now = utcnow()
        alerts = []
        for destination in sorted(grouped, key=lambda d: d.key):
            routed = sorted(grouped[destination], key=lambda m: -m.level.rank)
            alerts.append(
                Alert(
                    id=alert_id(destination, story_key),
                    destination=destination,
                    story_key=story_key,
                    item=item,
                    matches=tuple(routed),
                    created=now,
                )
            )
        return alerts
