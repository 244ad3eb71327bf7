"""A source double for pipeline tests: returns the items a test put in it (or raises).

The network path of real sources is tested against local servers elsewhere; this one lets a
test drive the pipeline's own decisions item by item."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor import identity
from monitor.model import Item
from monitor.sources.base import FetchResult
from monitor.store import Cursor


@dataclass
class ListSource:
    id: str = "feed-a"
    tags: tuple[str, ...] = ()
    items: list[Item] = field(default_factory=list)
    error: Exception | None = None
    calls: int = 0

    async def fetch(self, cursor: Cursor) -> FetchResult:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return FetchResult("200", items=list(self.items), etag=f"e{self.calls}")

    async def aclose(self) -> None:
        return None


def news_item(
    source_id: str,
    guid: str,
    title: str,
    text: str,
    url: str | None = None,
    tags: tuple[str, ...] = (),
) -> Item:
    return Item(
        source_id=source_id,
        key=guid,
        guid=guid,
        title=title,
        text=text,
        url=url or f"https://{source_id}.example/{guid}",
        version=identity.version(title, text),
        tags=tags,
    )
