"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1) into items (pure).

feedparser 6 reads XML feeds only, so this small mapping covers JSON Feed with the same Item
shape and the same identity rules.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor import identity
from monitor.errors import FeedParseError
from monitor.model import Item, as_utc, utcnow
from monitor.sources.base import FetchResult
from monitor.sources.htmltext import html_to_text, tidy


def parse_json_feed(body: bytes, source_id: str, tags: tuple[str, ...]) -> FetchResult:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedParseError(f"not a readable JSON feed: {exc}", where=source_id) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedParseError("JSON without an items list is not a JSON Feed", where=source_id)
    title = tidy(str(data.get("title") or "")) or None
    fetched = utcnow()
    items = [
        item
        for raw in data["items"]
        if isinstance(raw, dict)
        for item in [_item(raw, source_id, tags, title, fetched)]
        if item is not None
    ]
    return FetchResult("200", items=items, title=title)


def _item(
    raw: dict[str, Any],
    source_id: str,
    tags: tuple[str, ...],
    feed_title: str | None,
    fetched: datetime,
) -> Item | None:
    title = tidy(str(raw.get("title") or ""))
    if raw.get("content_html"):
        text = html_to_text(str(raw["content_html"]))
    else:
        text = tidy(str(raw.get("content_text") or raw.get("summary") or ""))
    url = next(
        (
            str(u)
            for u in (raw.get("url"), raw.get("external_url"))
            if isinstance(u, str) and u.lower().startswith(("http://", "https://"))
        ),
        None,
    )
    guid = str(raw["id"]) if raw.get("id") not in (None, "") else None
    return identity.feed_item(
        source_id=source_id,
        guid=guid,
        url=url,
        title=title,
        text=text,
        published=_date(raw.get("date_published")) or _date(raw.get("date_modified")),
        fetched=fetched,
        author=_author(raw),
        tags=tags,
        source_title=feed_title,
    )


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _author(raw: dict[str, Any]) -> str | None:
    authors = raw.get("authors") or ([raw["author"]] if isinstance(raw.get("author"), dict) else [])
    names = [str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None
