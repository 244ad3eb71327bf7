"""Every feed of feedparser's own test corpus goes through our parsing path: no exception
escapes, nothing hangs, and no markup from a feed survives into an alert unescaped."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from monitor.errors import FeedParseError
from monitor.model import Alert, Destination, Hit, Level, RuleMatch
from monitor.sinks import render_slack, render_telegram
from monitor.sources.rss import parse_feed
from tests.conftest import SHARED

CORPUS = SHARED / "corpora" / "feedparser-tests"
PER_FILE_SECONDS = 10

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"the shared corpus is not here ({CORPUS}); it ships beside the project in CI",
)


def corpus_dirs() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@contextmanager
def deadline(seconds: int, what: str) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what}: still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def alert_for(item_title: str, item_text: str, url: str | None) -> Alert:
    from monitor.model import Item

    item = Item(source_id="corpus", key="k", title=item_title, text=item_text, url=url)
    hit_field = "text" if item_text else "title"
    length = len(item_text or item_title)
    match = RuleMatch("r", "rule", Level.HIGH, (Hit(hit_field, 0, min(3, length), "t"),))
    return Alert("a", Destination("desk"), "s", item, (match,))


@pytest.mark.parametrize("folder", corpus_dirs())
def test_corpus_folder_parses_and_renders_safely(folder: str) -> None:
    files = sorted(p for p in (CORPUS / folder).rglob("*") if p.is_file())
    assert files
    parsed = rejected = items = 0
    for path in files:
        with deadline(PER_FILE_SECONDS, str(path)):
            try:
                result = parse_feed(path.read_bytes(), "", "corpus", ())
            except FeedParseError:
                rejected += 1  # a clear, typed error is the contract for unreadable input
                continue
        parsed += 1
        for item in result.items:
            items += 1
            assert "<script" not in item.text.lower() and "<script" not in item.title.lower()
            alert = alert_for(item.title, item.text, item.url)
            for part in render_telegram.render_alert(alert):
                render_telegram.split_html(part.html)  # raises on malformed or unescaped markup
                assert "javascript:" not in part.html.lower().replace(" ", "")
            for message in render_slack.render_alert(alert):
                text = str(message.blocks)
                assert "<!channel" not in text and "<!here" not in text
    assert parsed + rejected == len(files)
    assert parsed > 0


def test_corpus_is_the_expected_size() -> None:
    assert sum(1 for _ in CORPUS.rglob("*.xml")) > 2000


def test_a_hostile_item_reaches_the_alert_as_text(tmp_path: Path) -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>&lt;b&gt;bold&lt;/b&gt;'
        b'</title><description>&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href="javascript:x()"'
        b"&gt;click&lt;/a&gt; &amp;amp;lt;</description><link>javascript:alert(1)</link>"
        b"</item></channel></rss>"
    )
    (item,) = parse_feed(body, "", "s", ()).items
    assert item.url is None  # only http(s) links are links
    assert "alert(1)" not in item.text  # scripts dropped
    assert item.title == "bold"
    html = render_telegram.render_alert(alert_for(item.title, item.text, item.url))[0].html
    assert "javascript" not in html
