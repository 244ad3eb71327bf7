"""Operator notices: one message when a source starts failing, one when it recovers (pure).

They travel as alerts (kind "notice") through the same outbox, pacing and retries as news
alerts, to the sinks named in `health.notify`.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.identity import digest
from monitor.model import Alert, Destination, Item, Level, RuleMatch, utcnow

RULE_ID = "source-health"


def source_notice(
    source_id: str, sinks: Sequence[str], *, failing: bool, errors: int, error: str | None
) -> list[Alert]:
    now = utcnow()
    if failing:
        title = f"⚠️ Source {source_id} is failing ({errors} polls in a row)"
        text = (
            f"Last error: {error or 'unknown'}. It backs off and keeps trying; alerts from it wait."
        )
        level = Level.HIGH
    else:
        title = f"✅ Source {source_id} recovered"
        text = f"It polls normally again after {errors} failed polls."
        level = Level.INFO
    item = Item(
        source_id=source_id,
        key=f"notice:{source_id}:{now.isoformat()}",
        title=title,
        text=text,
        fetched=now,
        published=now,
    )
    match = RuleMatch(RULE_ID, "Source health", level)
    return [
        Alert(
            id=digest(f"notice\x00{sink}\x00{item.key}"),
            destination=Destination(sink),
            story_key=item.key,
            item=item,
            matches=(match,),
            kind="notice",
        )
        for sink in sinks
    ]
