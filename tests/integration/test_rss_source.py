"""The feed source against a local server that behaves like real sites: conditional GET, body
hashes, server hints, errors by type, size caps (also after decompression), charsets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from monitor.config.schema import RssSourceConfig
from monitor.errors import (
    FeedParseError,
    FeedTooLarge,
    FetchError,
    SourceRateLimited,
    SourceUnavailable,
)
from monitor.sources.base import FetchResult
from monitor.sources.http import FeedClient, HttpLimits, build_client
from monitor.sources.rss import RssSource
from monitor.store import Cursor
from tests.fakes.feeds import FakeFeedServer

ITEMS = [
    {"guid": "a1", "title": "سقوط صواريخ على قاعدة عين الأسد", "link": "https://news.example/a1",
     "description": "<p>أفادت مصادر أمنية بسقوط صواريخ</p>", "pubDate": "Mon, 30 Nov 2026 08:00:00 GMT"},
    {"guid": "a2", "title": "هدنة في غزة", "link": "https://news.example/a2",
     "description": "تمديد الهدنة أسبوعاً"},
]  # fmt: skip


@pytest.fixture
def site() -> Iterator[FakeFeedServer]:
    with FakeFeedServer() as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[FeedClient]:
    http = build_client(connect_timeout=2, read_timeout=2, user_agent="t")
    yield http
    await http.aclose()


def source(url: str, client: FeedClient, **limits: float) -> RssSource:
    config = RssSourceConfig(id="feed", type="rss", url=url)
    return RssSource(
        config,
        client=client,
        limits=HttpLimits(**limits),
        base_dir=Path.cwd(),  # type: ignore[arg-type]
    )


def advance(cursor: Cursor, result: FetchResult) -> Cursor:
    """What the pipeline stores after a successful poll."""
    return Cursor(
        cursor.source_id,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=result.body_hash or cursor.body_hash,
    )


async def test_conditional_get_round_trip(site: FakeFeedServer, client: FeedClient) -> None:
    url = site.add_feed("/rss.xml", ITEMS)
    src = source(url, client)
    first = await src.fetch(Cursor("feed"))
    assert first.status == "200" and [i.guid for i in first.items] == ["a1", "a2"]
    assert first.items[0].text == "أفادت مصادر أمنية بسقوط صواريخ"
    assert first.items[0].published is not None and first.etag
    cursor = advance(Cursor("feed"), first)
    second = await src.fetch(cursor)
    assert second.status == "304" and second.items == []
    sent = site.requests_for("/rss.xml")[-1].headers
    assert sent.get("if-none-match") == first.etag and "if-modified-since" in sent
    site.add_items("/rss.xml", [{"guid": "a3", "title": "جديد", "link": "https://news.example/a3"}])
    third = await src.fetch(advance(cursor, second))
    assert third.status == "200" and third.items[0].guid == "a3"
    stats = site.stats("/rss.xml")
    assert (stats.requests, stats.not_modified) == (3, 1)


async def test_same_body_without_validators_is_not_parsed_again(
    site: FakeFeedServer, client: FeedClient
) -> None:
    url = site.add_feed("/plain.xml", ITEMS, etag=False, last_modified=False)
    src = source(url, client)
    first = await src.fetch(Cursor("feed"))
    second = await src.fetch(advance(Cursor("feed"), first))
    assert second.status == "unchanged" and second.items == []


async def test_server_hints(site: FakeFeedServer, client: FeedClient) -> None:
    url = site.add_feed("/hint.xml", ITEMS, cache_control="public, max-age=900", ttl=30)
    result = await source(url, client).fetch(Cursor("feed"))
    assert result.min_delay == 30 * 60  # the larger of max-age (900 s) and <ttl> (30 min)


@pytest.mark.parametrize(
    ("status", "retry_after", "error"),
    [
        (429, 120, SourceRateLimited),
        (503, "Wed, 21 Oct 2099 07:28:00 GMT", SourceRateLimited),
        (503, None, FetchError),
        (500, None, FetchError),
        (404, None, SourceUnavailable),
        (410, None, SourceUnavailable),
        (403, None, SourceUnavailable),
    ],
)
async def test_errors_by_type(
    site: FakeFeedServer, client: FeedClient, status: int, retry_after: object, error: type
) -> None:
    url = site.add_feed("/e.xml", ITEMS)
    site.fail("/e.xml", status, retry_after=retry_after)  # type: ignore[arg-type]
    with pytest.raises(error) as info:
        await source(url, client).fetch(Cursor("feed"))
    assert info.value.where == "feed"
    if status == 429:
        assert info.value.retry_after == 120
    if retry_after and status == 503:
        assert info.value.retry_after == 24 * 3600  # capped at a day


async def test_stalled_server_times_out(site: FakeFeedServer, client: FeedClient) -> None:
    url = site.add_feed("/slow.xml", ITEMS)
    site.slow("/slow.xml", 5)
    with pytest.raises(FetchError, match=r"timeout|within"):
        await source(url, client, total_timeout=1).fetch(Cursor("feed"))


@pytest.mark.parametrize("content_length", [True, False])
async def test_size_cap_while_streaming(
    site: FakeFeedServer, client: FeedClient, content_length: bool
) -> None:
    url = site.add_feed("/big.xml", ITEMS)
    site.huge("/big.xml", 5_000_000, content_length=content_length)
    with pytest.raises(FeedTooLarge):
        await source(url, client, max_bytes=1_000_000).fetch(Cursor("feed"))


async def test_size_cap_after_decompression(site: FakeFeedServer, client: FeedClient) -> None:
    url = site.add_feed("/bomb.xml", ITEMS)
    site.gzip_bomb("/bomb.xml", inflated_bytes=200_000_000)
    with pytest.raises(FeedTooLarge, match="cap"):
        await source(url, client, max_bytes=1_000_000).fetch(Cursor("feed"))


async def test_gzip_feed(site: FakeFeedServer, client: FeedClient) -> None:
    url = site.add_feed("/gz.xml", ITEMS, gzip=True)
    result = await source(url, client).fetch(Cursor("feed"))
    assert [i.guid for i in result.items] == ["a1", "a2"]


async def test_redirects(site: FakeFeedServer, client: FeedClient) -> None:
    site.add_feed("/new.xml", ITEMS)
    site.add_feed("/old.xml", ITEMS)
    site.redirect("/old.xml", "/new.xml")
    assert len((await source(site.url("/old.xml"), client).fetch(Cursor("feed"))).items) == 2
    site.add_feed("/loop.xml", ITEMS)
    site.redirect_loop("/loop.xml")
    with pytest.raises(FetchError, match="too many redirects"):
        await source(site.url("/loop.xml"), client).fetch(Cursor("feed"))


@pytest.mark.parametrize(
    ("header", "decl"),
    [
        ("windows-1256", True),
        ("utf-8", True),
        ("utf-8", False),
        (None, False),
        ("ISO-8859-1", False),
    ],
)
async def test_windows_1256_feeds(
    site: FakeFeedServer, client: FeedClient, header: str | None, decl: bool
) -> None:
    url = site.add_feed(
        "/ar.xml", ITEMS, encoding="windows-1256", charset_header=header, xml_decl=decl
    )
    result = await source(url, client).fetch(Cursor("feed"))
    assert [i.title for i in result.items] == [ITEMS[0]["title"], ITEMS[1]["title"]]


@pytest.mark.parametrize("kind", ["rss", "atom", "rdf", "json"])
async def test_every_feed_format(site: FakeFeedServer, client: FeedClient, kind: str) -> None:
    url = site.add_feed(f"/f.{kind}", ITEMS, kind=kind)
    result = await source(url, client).fetch(Cursor("feed"))
    assert [i.title for i in result.items] == [ITEMS[0]["title"], ITEMS[1]["title"]]
    assert result.items[0].url == "https://news.example/a1"


async def test_garbage_is_a_parse_error(site: FakeFeedServer, client: FeedClient) -> None:
    site.raw("/junk", b"\x00\x01 this is not a feed at all <<<", {"Content-Type": "text/html"})
    with pytest.raises(FeedParseError):
        await source(site.url("/junk"), client).fetch(Cursor("feed"))


async def test_connection_refused(client: FeedClient) -> None:
    with pytest.raises(FetchError):
        await source("http://127.0.0.1:9/feed.xml", client).fetch(Cursor("feed"))


async def test_local_files(tmp_path: Path, client: FeedClient) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(
        b'<rss version="2.0"><channel><title>t</title><item><guid>x</guid><title>\xd9\x87\xd8\xaf\xd9\x86\xd8\xa9'
        b"</title></item></channel></rss>"
    )
    src = RssSource(
        RssSourceConfig(id="f", type="rss", url="feed.xml"),
        client=client,
        limits=HttpLimits(),
        base_dir=tmp_path,
    )
    first = await src.fetch(Cursor("f"))
    assert first.items[0].title == "هدنة"
    again = await src.fetch(advance(Cursor("f"), first))
    assert again.status == "unchanged"
    src = RssSource(
        RssSourceConfig(id="f", type="rss", url=f"file://{path}"),
        client=client,
        limits=HttpLimits(),
        base_dir=Path("/"),
    )
    assert (await src.fetch(Cursor("f"))).items[0].title == "هدنة"
    missing = RssSource(
        RssSourceConfig(id="f", type="rss", url="nope.xml"),
        client=client,
        limits=HttpLimits(),
        base_dir=tmp_path,
    )
    with pytest.raises(SourceUnavailable, match=r"nope\.xml"):
        await missing.fetch(Cursor("f"))
