"""FakeFeedServer serves feeds the way real sites do, checked with httpx and feedparser."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from tests.fakes.feeds import FakeFeedServer

ITEMS = [
    {
        "guid": "https://news.example/2",
        "title": "قصف على قاعدة عين الأسد 🔥",
        "link": "https://news.example/2",
        "description": "<p>صواريخ & <b>أضرار</b></p>",
        "pubDate": datetime(2025, 3, 14, 6, 30, tzinfo=UTC),
    },
    {
        "guid": "n-1",
        "title": "هدنة في العراق <تحديث>",
        "link": "https://news.example/1?a=1&b=2",
        "description": "وقف إطلاق النار",
        "pubDate": datetime(2025, 3, 14, 6, 0, tzinfo=UTC),
        "cdata": True,
    },
]


@pytest.fixture
def feeds() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as srv:
        yield srv
    assert srv.internal_errors == []


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


@pytest.mark.parametrize("kind", ["rss", "atom", "rdf"])
@pytest.mark.parametrize("encoding", ["utf-8", "windows-1256"])
def test_xml_feeds_parse(
    feeds: FakeFeedServer, client: httpx.Client, kind: str, encoding: str
) -> None:
    url = feeds.add_feed("/feed", ITEMS, kind=kind, encoding=encoding)
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer.content.startswith(f'<?xml version="1.0" encoding="{encoding}"?>'.encode())
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == [i["title"] for i in ITEMS]
    assert parsed.entries[1].link == "https://news.example/1?a=1&b=2"
    assert "<b>أضرار</b>" in parsed.entries[0].summary


def test_windows_1256_bytes_and_lying_header(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/ar.xml", ITEMS, encoding="windows-1256", charset_header="utf-8")
    answer = client.get(url)
    assert answer.headers["content-type"] == "application/rss+xml; charset=utf-8"  # a lie
    with pytest.raises(UnicodeDecodeError):
        answer.content.decode("utf-8")
    text = answer.content.decode("cp1256")
    assert "قصف على قاعدة عين الأسد &#128293;" in text  # cp1256 has no emoji
    assert "هدنة".encode("cp1256") in answer.content
    bare = feeds.add_feed("/bare.xml", ITEMS, encoding="windows-1256", xml_decl=False)
    assert client.get(bare).content.startswith(b"<rss")
    assert client.get(bare).headers["content-type"] == "application/rss+xml"


def test_json_feed(feeds: FakeFeedServer, client: httpx.Client) -> None:
    answer = client.get(feeds.add_feed("/feed.json", ITEMS, kind="json"))
    assert answer.headers["content-type"] == "application/feed+json"
    document = json.loads(answer.content)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["items"][0]["title"] == ITEMS[0]["title"]
    assert document["items"][1]["date_published"] == "2025-03-14T06:00:00+00:00"


def test_escaping_survives_hostile_text(feeds: FakeFeedServer, client: httpx.Client) -> None:
    hostile = {
        "guid": "x",
        "title": "]]> </title><script>&amp;",
        "link": "https://e.x/",
        "cdata": True,
        "description": "a ]]> b <![CDATA[ c",
    }
    url = feeds.add_feed("/h.xml", [hostile])
    parsed = feedparser.parse(client.get(url).content)
    assert not parsed.bozo
    assert parsed.entries[0].title == "]]> </title><script>&amp;"


def test_conditional_get(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/rss.xml", ITEMS[1:], cache_control="max-age=300", ttl=15)
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and first.headers["cache-control"] == "max-age=300"
    assert b"<ttl>15</ttl>" in first.content
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    older = client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200
    stale_tag = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert stale_tag.status_code == 200  # If-None-Match wins over If-Modified-Since
    feeds.add_items("/rss.xml", ITEMS[:1])
    changed = client.get(url, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200
    assert feedparser.parse(changed.content).entries[0].title == ITEMS[0]["title"]
    stats = feeds.stats("/rss.xml")
    assert (stats.requests, stats.conditional, stats.ok, stats.not_modified) == (7, 6, 5, 2)
    assert feeds.requests_for("/rss.xml")[1].headers["if-none-match"] == etag


def test_no_etag_same_body(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/plain.xml", ITEMS, etag=False)
    one, two = client.get(url), client.get(url, headers={"If-None-Match": '"x"'})
    assert "etag" not in one.headers and one.content == two.content and two.status_code == 200
    assert (
        client.get(url, headers={"If-Modified-Since": one.headers["last-modified"]}).status_code
        == 304
    )
    bare = feeds.add_feed("/bare.xml", ITEMS, etag=False, last_modified=False)
    answer = client.get(bare, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert answer.status_code == 200 and "last-modified" not in answer.headers


def test_gzip_when_accepted(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/gz.xml", ITEMS, gzip=True)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert (
        zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    )
    assert zipped.content == feeds.body("/gz.xml")  # httpx inflated it
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == feeds.body("/gz.xml")


def test_failures(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/f.xml", ITEMS)
    feeds.fail("/f.xml", 503, times=2, retry_after=120)
    first = client.get(url)
    assert first.status_code == 503 and first.headers["retry-after"] == "120"
    assert client.get(url).status_code == 503
    assert client.get(url).status_code == 200
    feeds.fail("/f.xml", 429, retry_after="Fri, 01 Jan 2100 00:00:00 GMT")
    assert [client.get(url).status_code for _ in range(3)] == [429] * 3  # until recover()
    feeds.recover("/f.xml")
    assert client.get(url).status_code == 200
    feeds.fail("/f.xml", 410)
    assert client.get(url).status_code == 410
    assert client.get(feeds.url("/missing")).status_code == 404
    assert feeds.stats("/f.xml").ok == 2


def test_slow_headers_then_stall(feeds: FakeFeedServer, client: httpx.Client) -> None:
    url = feeds.add_feed("/slow.xml", ITEMS)
    feeds.slow("/slow.xml", 2.0)
    started = time.monotonic()
    with client.stream("GET", url, timeout=httpx.Timeout(5.0, read=0.3)) as answer:
        assert answer.status_code == 200  # the headers came at once
        with pytest.raises(httpx.ReadTimeout):
            answer.read()
    assert time.monotonic() - started < 1.5
    feeds.recover("/slow.xml")
    feeds.slow("/slow.xml", 2.0, before_headers=True)
    with pytest.raises(httpx.ReadTimeout):
        client.get(url, timeout=httpx.Timeout(5.0, read=0.3))


@pytest.mark.parametrize("content_length", [True, False])
def test_huge(feeds: FakeFeedServer, client: httpx.Client, content_length: bool) -> None:
    size = 3_000_000
    feeds.huge("/huge.xml", size, content_length=content_length)
    with client.stream("GET", feeds.url("/huge.xml")) as answer:
        if content_length:
            assert answer.headers["content-length"] == str(size)
        else:
            assert "content-length" not in answer.headers
            assert answer.headers["transfer-encoding"] == "chunked"
        received = sum(len(piece) for piece in answer.iter_raw())
    assert received == size


def test_gzip_bomb(feeds: FakeFeedServer, client: httpx.Client) -> None:
    inflated = 20_000_000
    feeds.gzip_bomb("/bomb.xml", inflated)
    with client.stream(
        "GET", feeds.url("/bomb.xml"), headers={"Accept-Encoding": "identity"}
    ) as answer:
        assert answer.headers["content-encoding"] == "gzip"  # sent whatever was accepted
        wire = b"".join(answer.iter_raw())
    assert len(wire) == int(answer.headers["content-length"]) < inflated // 500
    inflater = zlib.decompressobj(31)
    head = inflater.decompress(wire, 100)
    assert head.startswith(b'<?xml version="1.0"')
    assert len(head) + len(inflater.decompress(inflater.unconsumed_tail)) == inflated


def test_redirects_and_raw(feeds: FakeFeedServer, client: httpx.Client) -> None:
    feeds.add_feed("/new.xml", ITEMS)
    feeds.redirect("/old.xml", "/new.xml")
    moved = client.get(feeds.url("/old.xml"), follow_redirects=True)
    assert moved.status_code == 200 and str(moved.url).endswith("/new.xml")
    assert moved.history[0].status_code == 301
    feeds.redirect_loop("/loop.xml")
    with pytest.raises(httpx.TooManyRedirects):
        client.get(feeds.url("/loop.xml"), follow_redirects=True)
    assert feeds.stats("/loop.xml").requests == 21  # httpx follows 20
    feeds.raw(
        "/raw.xml", b"\xff\xfe<rss", {"Content-Type": "text/html; charset=iso-8859-1", "X-Odd": "1"}
    )
    raw = client.get(feeds.url("/raw.xml"))
    assert raw.content == b"\xff\xfe<rss" and raw.headers["x-odd"] == "1"
    assert raw.headers["content-type"] == "text/html; charset=iso-8859-1"
