"""RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed, over http(s) or from local files, via feedparser."""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser

from monitor import identity
from monitor.config.schema import RssSourceConfig
from monitor.errors import FeedParseError, FeedTooLarge, SourceUnavailable
from monitor.model import Item, utcnow
from monitor.sources import charset
from monitor.sources.base import FetchResult
from monitor.sources.htmltext import html_to_text, tidy
from monitor.sources.http import FeedClient, HttpLimits, fetch
from monitor.sources.jsonfeed import parse_json_feed
from monitor.store.base import Cursor

_THREAD_PARSE_BYTES = 512 * 1024  # parse big bodies off the event loop


class RssSource:
    def __init__(
        self,
        config: RssSourceConfig,
        *,
        client: FeedClient,
        limits: HttpLimits,
        base_dir: Path,
    ) -> None:
        self.id = config.id
        self.tags = config.tags
        self.config = config
        self.client = client
        self.limits = limits
        self.path = local_path(config.url, base_dir)

    async def aclose(self) -> None:
        return None

    async def fetch(self, cursor: Cursor) -> FetchResult:
        if self.path is not None:
            body, content_type = self._read_file(), ""
            etag = last_modified = None
            max_age = None
        else:
            result = await fetch(
                self.client,
                self.config.url,
                where=self.id,
                limits=self.limits,
                etag=cursor.etag,
                last_modified=cursor.last_modified,
            )
            etag = result.etag or cursor.etag
            last_modified = result.last_modified or cursor.last_modified
            max_age = result.max_age
            if result.status == 304:
                return FetchResult("304", etag=etag, last_modified=last_modified, min_delay=max_age)
            body, content_type = result.body, result.content_type
        body_hash = hashlib.blake2b(body, digest_size=16).hexdigest()
        if body_hash == cursor.body_hash:
            return FetchResult(
                "unchanged",
                etag=etag,
                last_modified=last_modified,
                body_hash=body_hash,
                min_delay=max_age,
            )
        if len(body) > _THREAD_PARSE_BYTES:
            parsed = await asyncio.to_thread(parse_feed, body, content_type, self.id, self.tags)
        else:
            parsed = parse_feed(body, content_type, self.id, self.tags)
        parsed.etag, parsed.last_modified, parsed.body_hash = etag, last_modified, body_hash
        if max_age is not None:
            parsed.min_delay = max(parsed.min_delay or 0.0, max_age)
        return parsed

    def _read_file(self) -> bytes:
        assert self.path is not None
        try:
            size = self.path.stat().st_size
            if size > self.limits.max_bytes:
                raise FeedTooLarge(f"file of {size} bytes over the cap", where=self.id)
            return self.path.read_bytes()
        except OSError as exc:
            raise SourceUnavailable(
                f"cannot read {self.path}: {exc.strerror}", where=self.id
            ) from exc


def local_path(url: str, base_dir: Path) -> Path | None:
    """The file a source URL names (`file://...` or a plain path), None for http(s)."""
    if url.startswith(("http://", "https://")):
        return None
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    path = Path(url).expanduser()
    return path if path.is_absolute() else base_dir / path


def _is_json(body: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return body.lstrip()[:1] == b"{"


def parse_feed(
    body: bytes, content_type: str, source_id: str, tags: tuple[str, ...]
) -> FetchResult:
    """Parse a feed body into items. Raises FeedParseError when nothing feed-like is in it."""
    notes: list[str] = []
    if _is_json(body, content_type):
        return parse_json_feed(body, source_id, tags)
    body, used = charset.as_utf8_xml(body, content_type)
    if used != "utf-8":
        notes.append(f"decoded as {used}")
    headers = {"content-type": charset.UTF8_XML}
    try:
        parsed: Any = feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser can raise from deep inside its SAX/sgml parsers
        raise FeedParseError(
            f"parser failed: {type(exc).__name__}: {exc}", where=source_id
        ) from exc
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if parsed.get("bozo") and not entries and not feed.get("title"):
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a readable feed: {reason}", where=source_id)
    fetched = utcnow()
    title = tidy(html_to_text(str(feed.get("title", "")))) or None
    items = []
    for entry in entries:
        item = entry_to_item(entry, source_id, tags, title, fetched)
        if item is not None:
            items.append(item)
    ttl = _ttl_seconds(feed.get("ttl"))
    return FetchResult("200", items=items, title=title, min_delay=ttl, notes=notes)


def entry_to_item(
    entry: Any, source_id: str, tags: tuple[str, ...], feed_title: str | None, fetched: datetime
) -> Item | None:
    title = _text_of(entry.get("title_detail"), entry.get("title", ""))
    text = _entry_text(entry)
    link = _link(entry)
    guid = entry.get("id") or entry.get("guid")
    return identity.feed_item(
        source_id=source_id,
        guid=str(guid) if guid else None,
        url=link,
        title=title,
        text=text,
        published=_when(entry),
        fetched=fetched,
        author=str(entry.get("author") or "") or None,
        tags=tags,
        source_title=feed_title,
    )


def _text_of(detail: Any, value: Any) -> str:
    value = str(value or "")
    kind = (detail or {}).get("type", "text/html") if isinstance(detail, dict) else "text/html"
    if kind == "text/plain":
        return tidy(value)
    return html_to_text(value)


def _entry_text(entry: Any) -> str:
    contents = entry.get("content") or []
    best = max(contents, key=lambda c: len(str(c.get("value", ""))), default=None)
    if best is not None and str(best.get("value", "")).strip():
        return _text_of(best, best.get("value"))
    return _text_of(entry.get("summary_detail"), entry.get("summary", ""))


def _link(entry: Any) -> str | None:
    link = entry.get("link")
    if isinstance(link, str) and link.strip().lower().startswith(("http://", "https://")):
        return link.strip()
    for candidate in entry.get("links") or []:
        href = str(candidate.get("href", "")).strip()
        if href.lower().startswith(("http://", "https://")):
            return href
    return None


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _ttl_seconds(value: Any) -> float | None:
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        return None
    return minutes * 60 if 0 < minutes < 7 * 24 * 60 else None
