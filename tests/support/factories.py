"""Small builders of model objects for tests."""

from __future__ import annotations

from monitor.model import Alert, Destination, Hit, Item, Level, RuleMatch


def item(
    n: int = 1,
    *,
    source_id: str = "feed-a",
    title: str | None = None,
    text: str = "سقوط صواريخ على قاعدة عين الأسد",
    url: str | None = None,
) -> Item:
    return Item(
        source_id=source_id,
        key=f"key-{n}",
        title=title if title is not None else f"خبر رقم {n}",
        text=text,
        url=url if url is not None else f"https://example.com/news/{n}",
        version=f"v{n}",
    )


def rule_match(rule_id: str = "iraq-truce", level: Level = Level.HIGH) -> RuleMatch:
    return RuleMatch(
        rule_id=rule_id,
        title="هدنة",
        level=level,
        hits=(Hit(field="text", start=0, end=4, term="سقوط"),),
    )


def alert(n: int = 1, *, sink_id: str = "console", target: str | None = None) -> Alert:
    it = item(n)
    return Alert(
        id=f"alert-{sink_id}-{target}-{n}",
        destination=Destination(sink_id, target),
        story_key=f"story-{n}",
        item=it,
        matches=(rule_match(),),
    )
