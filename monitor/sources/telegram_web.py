"""Public Telegram channels through their web preview (`{web_base}/s/<channel>`), no account.

The preview shows the latest ~20 posts. Post ids are sequential per channel, so when the newest
id jumps past what the page shows, the posts in between are fetched with `?before=<id>` — a few
pages per poll; a larger gap is remembered in the cursor and finished on the next polls, so a
burst between two polls is never lost. Ids that no page shows are deleted posts: counted and
recorded, never asked for again. Edited posts come back with new text; the pipeline matches
them again (their content version changed).
"""

from __future__ import annotations

from typing import Any

from monitor import identity
from monitor.config.schema import TelegramWebSourceConfig
from monitor.errors import FeedParseError, SourceUnavailable
from monitor.model import Item, utcnow
from monitor.sources.base import FetchResult
from monitor.sources.http import FeedClient, HttpLimits, fetch
from monitor.sources.telegram_web_parse import (
    ChannelPage,
    WebPost,
    parse_channel_page,
    post_ids_covered,
)
from monitor.store.base import Cursor

HEADLINE = 120  # characters of a post's first line used as its title
KEEP_DELETED = 50  # deleted ids remembered in the cursor (for `monitor status`)


def headline(text: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= HEADLINE:
        return first
    cut = first.rfind(" ", 0, HEADLINE)
    return first[: cut if cut > HEADLINE // 2 else HEADLINE] + "…"


class TelegramWebSource:
    def __init__(
        self,
        config: TelegramWebSourceConfig,
        *,
        client: FeedClient,
        limits: HttpLimits,
        web_base: str,
    ) -> None:
        self.id = config.id
        self.tags = config.tags
        self.channel = config.channel.lstrip("@")
        self.max_pages = config.max_pages
        self.client = client
        self.limits = limits
        self.base = web_base.rstrip("/")

    async def aclose(self) -> None:
        return None

    async def _page(self, before: int | None = None) -> ChannelPage:
        url = f"{self.base}/s/{self.channel}" + (f"?before={before}" if before else "")
        result = await fetch(self.client, url, where=self.id, limits=self.limits)
        page = parse_or_raise(result.body, self.channel, self.id)
        if not page.has_history:
            reason = page.restricted_reason or "no message history"
            raise SourceUnavailable(
                f"channel @{self.channel} is private, restricted or missing ({reason})",
                where=self.id,
            )
        return page

    async def fetch(self, cursor: Cursor) -> FetchResult:
        state = dict(cursor.state)
        latest = await self._page()
        pages = [latest]
        last_id = state.get("last_id")
        pending: list[list[int]] = [list(r) for r in state.get("pending", [])]
        oldest = latest.oldest_id
        if isinstance(last_id, int) and oldest is not None and oldest > last_id + 1:
            pending.insert(0, [last_id, oldest])  # ids in between: not seen yet
        pages += await self._backfill(pending)
        covered = set().union(*(post_ids_covered(p) for p in pages))
        newest = max([latest.newest_id or 0, last_id or 0])
        if isinstance(last_id, int):
            self._record_deleted(state, last_id, newest, covered, pending)
        state.update(last_id=newest, pending=pending)
        posts = {post.id: post for page in pages for post in page.posts}
        items = [self._item(posts[i]) for i in sorted(posts) if not posts[i].service]
        notes = (
            [f"{sum(hi - lo - 1 for lo, hi in pending)} older posts still to fetch"]
            if pending
            else []
        )
        return FetchResult("200", items=items, state=state, title=latest.title, notes=notes)

    async def _backfill(self, pending: list[list[int]]) -> list[ChannelPage]:
        """Walk back through the unfetched ranges, at most max_pages - 1 pages per poll."""
        pages: list[ChannelPage] = []
        while pending and len(pages) < self.max_pages - 1:
            floor, before = pending[0]
            page = await self._page(before)
            pages.append(page)
            oldest = page.oldest_id
            if not page.posts or oldest is None or oldest <= floor + 1 or oldest >= before:
                pending.pop(0)  # the range is covered (or nothing older exists)
            else:
                pending[0] = [floor, oldest]
        return pages

    @staticmethod
    def _record_deleted(
        state: dict[str, Any],
        last_id: int,
        newest: int,
        covered: set[int],
        pending: list[list[int]],
    ) -> None:
        still_pending = {i for lo, hi in pending for i in range(lo + 1, hi)}
        deleted = [
            i for i in range(last_id + 1, newest + 1) if i not in covered and i not in still_pending
        ]
        if deleted:
            state["deleted_total"] = int(state.get("deleted_total", 0)) + len(deleted)
            state["deleted_recent"] = (list(state.get("deleted_recent", [])) + deleted)[
                -KEEP_DELETED:
            ]

    def _item(self, post: WebPost) -> Item:
        key = f"{self.channel}/{post.id}"
        text = post.text
        title = headline(text)
        return Item(
            source_id=self.id,
            key=key,
            title=title,
            text=text,
            url=f"https://t.me/{self.channel}/{post.id}",
            published=post.date,
            fetched=utcnow(),
            guid=key,
            author=post.forwarded_from,
            version=identity.version(title, text),
            tags=self.tags,
            source_title=f"@{self.channel}",
            edited=post.edited,
        )


def parse_or_raise(html: bytes, channel: str, where: str) -> ChannelPage:
    try:
        return parse_channel_page(html, channel)
    except Exception as exc:  # the parser promises not to raise; this keeps a bug contained
        raise FeedParseError(f"cannot read the channel page: {exc}", where=where) from exc
