"""Feed documents as sites publish them: RSS 2.0, Atom 1.0, RSS 1.0 (RDF) and JSON Feed 1.1.

Items are dicts: guid, title, link, description, pubDate (a datetime, or a string used as is,
to serve odd dates), optional content (HTML), author, cdata (True: description and content in
CDATA sections, as many Arabic news sites do). Text is escaped with xml.sax.saxutils; the
document is encoded in the requested encoding, with character references for what the
encoding cannot hold (a windows-1256 feed keeps its emoji as `&#128293;`).
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "rdf": "application/rdf+xml",
    "json": "application/feed+json",
}
Item = dict[str, Any]


def render(
    kind: str,
    items: Sequence[Item],
    *,
    title: str,
    link: str,
    encoding: str = "utf-8",
    xml_decl: bool = True,
    ttl: int | None = None,
    updated: datetime | None = None,
) -> bytes:
    updated = updated or datetime.now(UTC)
    if kind == "json":
        return _json_feed(items, title, link, encoding)
    if kind == "rss":
        text = _rss(items, title, link, ttl, updated)
    elif kind == "atom":
        text = _atom(items, title, link, updated)
    elif kind == "rdf":
        text = _rdf(items, title, link)
    else:
        raise ValueError(f"unknown feed kind {kind!r}")
    if xml_decl:
        text = f'<?xml version="1.0" encoding="{encoding}"?>\n' + text
    return text.encode(encoding, errors="xmlcharrefreplace")


def _el(name: str, value: Any, cdata: bool = False, attrs: str = "") -> str:
    if value is None:
        return ""
    text = str(value)
    if cdata:
        body = "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    else:
        body = escape(text)
    return f"<{name}{attrs}>{body}</{name}>"


def rfc822(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return email.utils.format_datetime(_aware(value))


def rfc3339(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _aware(value).isoformat()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rss(items: Sequence[Item], title: str, link: str, ttl: int | None, updated: datetime) -> str:
    parts = [
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        _el("title", title),
        _el("link", link),
        _el("description", f"أخبار {title}"),
        _el("language", "ar"),
        _el("lastBuildDate", rfc822(updated)),
        _el("ttl", ttl),
    ]
    for item in items:
        cdata = bool(item.get("cdata"))
        guid = item.get("guid")
        permalink = (
            ' isPermaLink="true"' if guid and guid == item.get("link") else ' isPermaLink="false"'
        )
        parts += [
            "<item>",
            _el("title", item.get("title")),
            _el("link", item.get("link")),
            _el("description", item.get("description"), cdata),
            _el("content:encoded", item.get("content"), cdata),
            _el("dc:creator", item.get("author")),
            _el("guid", guid, attrs=permalink),
            _el("pubDate", rfc822(item.get("pubDate"))),
            "</item>",
        ]
    parts += ["</channel>", "</rss>"]
    return "\n".join(p for p in parts if p) + "\n"


def _atom(items: Sequence[Item], title: str, link: str, updated: datetime) -> str:
    parts = [
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
        _el("title", title),
        _el("id", link),
        f'<link rel="alternate" href={quoteattr(link)}/>',
        _el("updated", rfc3339(updated)),
    ]
    for item in items:
        cdata = bool(item.get("cdata"))
        date = rfc3339(item.get("updated") or item.get("pubDate"))
        href = f'<link rel="alternate" href={quoteattr(item["link"])}/>' if item.get("link") else ""
        author = f"<author>{_el('name', item['author'])}</author>" if item.get("author") else ""
        parts += [
            "<entry>",
            _el("title", item.get("title"), attrs=' type="text"'),
            _el("id", item.get("guid") or item.get("link")),
            href,
            _el("published", rfc3339(item.get("pubDate"))),
            _el("updated", date),
            author,
            _el("summary", item.get("description"), cdata, ' type="html"'),
            _el("content", item.get("content"), cdata, ' type="html"'),
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(p for p in parts if p) + "\n"


def _rdf(items: Sequence[Item], title: str, link: str) -> str:
    resources = "".join(
        f"<rdf:li rdf:resource={quoteattr(str(i.get('link') or i.get('guid')))}/>" for i in items
    )
    parts = [
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"<channel rdf:about={quoteattr(link)}>",
        _el("title", title),
        _el("link", link),
        _el("description", f"أخبار {title}"),
        f"<items><rdf:Seq>{resources}</rdf:Seq></items>",
        "</channel>",
    ]
    for item in items:
        about = quoteattr(str(item.get("link") or item.get("guid")))
        parts += [
            f"<item rdf:about={about}>",
            _el("title", item.get("title")),
            _el("link", item.get("link")),
            _el("description", item.get("description"), bool(item.get("cdata"))),
            _el("dc:creator", item.get("author")),
            _el("dc:date", rfc3339(item.get("pubDate"))),
            "</item>",
        ]
    parts.append("</rdf:RDF>")
    return "\n".join(p for p in parts if p) + "\n"


def _json_feed(items: Sequence[Item], title: str, link: str, encoding: str) -> bytes:
    entries = []
    for item in items:
        entry: dict[str, Any] = {"id": str(item.get("guid") or item.get("link"))}
        for key, name in (("link", "url"), ("title", "title"), ("description", "summary")):
            if item.get(key) is not None:
                entry[name] = item[key]
        entry["content_html"] = item.get("content") or item.get("description") or ""
        if item.get("pubDate") is not None:
            entry["date_published"] = rfc3339(item["pubDate"])
        if item.get("author"):
            entry["authors"] = [{"name": item["author"]}]
        entries.append(entry)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": link,
        "language": "ar",
        "items": entries,
    }
    try:
        return json.dumps(document, ensure_ascii=False, indent=1).encode(encoding)
    except UnicodeEncodeError:
        return json.dumps(document, ensure_ascii=True, indent=1).encode(encoding)
