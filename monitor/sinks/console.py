"""The console sink: alerts as readable blocks on standard output (the demo, cron, debugging)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from monitor.config.schema import ConsoleSinkConfig
from monitor.errors import PermanentDeliveryError
from monitor.model import Alert, Hit, Level
from monitor.sinks.base import Limit

_MARK = {
    Level.CRITICAL: "!!!",
    Level.HIGH: "!! ",
    Level.MEDIUM: "!  ",
    Level.LOW: ".  ",
    Level.INFO: "   ",
}


class ConsoleSink:
    kind = "console"

    def __init__(self, config: ConsoleSinkConfig, stream: TextIO | None = None) -> None:
        self.id = config.id
        self.stream = stream or sys.stdout
        self.color = config.color if config.color is not None else self.stream.isatty()

    def destination_key(self, alert: Alert) -> str:
        return self.id

    def limits(self, alert: Alert) -> tuple[Limit, ...]:
        return ()

    async def send(self, alert: Alert) -> str | None:
        try:
            self.stream.write(render(alert, color=self.color) + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError) as exc:  # the reader went away / stream closed
            raise PermanentDeliveryError(f"console output closed: {exc}", where=self.id) from exc
        return None

    async def send_digest(self, alerts: Sequence[Alert]) -> str | None:
        self.stream.write(f"=== {len(alerts)} alerts ===\n")
        for alert in alerts:
            await self.send(alert)
        return None

    async def aclose(self) -> None:
        return None


def render(alert: Alert, *, color: bool = False) -> str:
    item = alert.item
    level = alert.level
    rules = ", ".join(f"{m.rule_id} ({m.level.value})" for m in alert.matches)
    title = _clean(item.title) or "(no title)"
    head = f"{_MARK[level]}[{level.value.upper()}] {title}"
    if alert.kind == "update":
        head = "  + also reported: " + title
    lines = [head, f"    rules: {_clean(rules)}", f"    source: {item.source_id}"]
    when = item.published or item.fetched
    lines[-1] += f"  time: {when:%Y-%m-%d %H:%M} UTC"
    if item.url:
        lines.append(f"    link: {_clean(item.url)}")
    hits = outermost([h for m in alert.matches for h in m.hits])
    if hits:
        lines.append(
            "    hits: " + "; ".join(_hit(item.title, item.text, h, color) for h in hits[:6])
        )
    for mention in alert.also:
        lines.append(f"    also: {mention.source_id} {_clean(mention.url or mention.title)}")
    return "\n".join(lines)


def outermost(hits: list[Hit]) -> list[Hit]:
    """Hits not inside another hit of the same field (قاعدة عين الأسد, not also عين الأسد),
    in reading order."""
    ordered = sorted(hits, key=lambda h: (h.field != "title", h.start, -h.end))
    kept: list[Hit] = []
    for hit in ordered:
        if kept and kept[-1].field == hit.field and hit.end <= kept[-1].end:
            continue
        kept.append(hit)
    return kept


def _hit(title: str, text: str, hit: Hit, color: bool) -> str:
    source = title if hit.field == "title" else text
    start, end = max(0, hit.start - 30), min(len(source), hit.end + 30)
    before = _clean(source[start : hit.start])
    word = _clean(source[hit.start : hit.end])
    after = _clean(source[hit.end : end])
    word = f"\x1b[1;31m{word}\x1b[0m" if color else f"[{word}]"
    return f"…{before}{word}{after}…"


_CONTROLS = {c: " " for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}


def _clean(text: str) -> str:
    """Feed text must not move the cursor or change colours on the operator's terminal."""
    return text.translate(_CONTROLS)
