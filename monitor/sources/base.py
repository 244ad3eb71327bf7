"""What every source is: a thing that, given its cursor, fetches new items.

Sources know the data model and their own client library only. They never touch the store: the
pipeline hands them the cursor and commits what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.model import Item
from monitor.store.base import Cursor


@dataclass(slots=True)
class FetchResult:
    """The outcome of one successful poll.

    status: "200" (new body, parsed), "304" (not modified), "unchanged" (same body as last time,
    not parsed). `validators`/`state` replace the cursor's; `min_delay` is a server hint
    (Cache-Control max-age, RSS <ttl>) in seconds for the earliest next poll.
    """

    status: str
    items: list[Item] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    state: dict[str, Any] | None = None
    min_delay: float | None = None
    title: str | None = None
    notes: list[str] = field(default_factory=list)  # soft problems worth one log line


class Source(Protocol):
    id: str
    tags: tuple[str, ...]

    async def fetch(self, cursor: Cursor) -> FetchResult:
        """Poll once. Raises a `SourceError` subclass on failure."""
        ...

    async def aclose(self) -> None: ...
