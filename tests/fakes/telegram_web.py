"""A local fake of the Telegram web preview, for tests.

    with FakeTelegramWeb() as srv:
        first = srv.post("alamn_now", "قصف على قاعدة عين الأسد")
        srv.post("alamn_now", "بالصور", album=3)          # takes 3 ids, one card
        srv.edit("alamn_now", first, "تحديث: ...")
        srv.delete("alamn_now", first)
        srv.fail_next(429, retry_after=7)
        httpx.get(f"{srv.base_url}/s/alamn_now")          # -> 429, then pages again
        srv.requests                                        # ["/s/alamn_now", ...]

It generates pages from in-memory posts with the same templates as the fixture files
(telegram_web_markup.py), so they have the structure of real `t.me/s/<channel>` pages.
Behaviour copied from the real service:

- `/s/<channel>` shows the newest cards, `?before=<id>` the cards with smaller ids (the id
  itself excluded), `?after=<id>` the cards with larger ids. A page holds about `page_size`
  MESSAGES: an album of N counts N, as on t.me, so a page may show fewer cards.
- An album of N uses N consecutive ids and shows one card under its first id.
- A deleted id never comes back; new posts keep counting up.
- An unknown, private or restricted channel has no web preview: `/s/<channel>` answers 302 to
  `/<channel>`, a 200 landing page without history (`redirect_missing=False`: the landing page
  directly at `/s/<channel>`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from tests.fakes.telegram_web_markup import Card, ChannelInfo, Media, text_to_html
from tests.fakes.telegram_web_pages import render_channel_page, render_landing

RESTRICTED = "This channel can’t be displayed because it violated Telegram's Terms of Service."


@dataclass
class FakePost:
    ids: list[int]  # the card's id first; more than one for an album
    text: str
    date: datetime
    kinds: list[str]  # media kind of each id ([] for a text post)
    forwarded_from: str | None = None
    edited: bool = False
    service: bool = False
    views: int = 1


@dataclass
class FakeChannel:
    name: str
    title: str
    posts: dict[int, FakePost] = field(default_factory=dict)  # by card id
    next_id: int = 1
    access: str = "public"  # public | private | restricted


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: float | None


class FakeTelegramWeb:
    def __init__(self, *, page_size: int = 20, redirect_missing: bool = True) -> None:
        self.page_size = page_size
        self.redirect_missing = redirect_missing
        self.channels: dict[str, FakeChannel] = {}
        self.requests: list[str] = []
        self.clock = datetime(2025, 3, 14, 6, 0, tzinfo=UTC)
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeTelegramWeb:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- state, as a test drives it -------------------------------------------------------

    def channel(self, name: str, title: str | None = None, *, first_id: int = 1) -> FakeChannel:
        """The channel `name`, created public and empty on first use."""
        with self._lock:
            if name not in self.channels:
                self.channels[name] = FakeChannel(name, title or f"قناة {name}", next_id=first_id)
            return self.channels[name]

    def post(
        self,
        channel: str,
        text: str = "",
        *,
        media: str | Sequence[str] | None = None,
        album: int = 1,
        forwarded_from: str | None = None,
        service: bool = False,
        date: datetime | None = None,
    ) -> int:
        """Publish a post; returns its (first) id. `album=N` takes N ids and shows one card."""
        kinds = _kinds(media, album)
        with self._lock:
            chan = self.channel(channel)
            first = chan.next_id
            ids = list(range(first, first + max(1, len(kinds))))
            chan.next_id = ids[-1] + 1
            self.clock += timedelta(minutes=1)
            chan.posts[first] = FakePost(
                ids, text, date or self.clock, kinds, forwarded_from, service=service, views=first
            )
            return first

    def edit(self, channel: str, post_id: int, text: str) -> None:
        with self._lock:
            post = self._find(channel, post_id)
            post.text, post.edited = text, True

    def delete(self, channel: str, post_id: int) -> None:
        """Delete one id. Deleting an album's first id moves the card to the next media."""
        with self._lock:
            chan = self.channels[channel]
            post = self._find(channel, post_id)
            head = post.ids[0]
            index = post.ids.index(post_id)
            del post.ids[index]
            if post.kinds:
                del post.kinds[index]
            del chan.posts[head]
            if post.ids:
                caption = "" if post_id == head else post.text  # the caption goes with the head
                chan.posts[post.ids[0]] = replace(post, text=caption)

    def make_private(self, channel: str) -> None:
        self._set_access(channel, "private")

    def restrict(self, channel: str) -> None:
        self._set_access(channel, "restricted")

    def make_public(self, channel: str) -> None:
        self._set_access(channel, "public")

    def fail_next(self, status: int, retry_after: float | None = None, times: int = 1) -> None:
        """Answer the next `times` requests with `status` (and a Retry-After header if given)."""
        with self._lock:
            self._failures.extend(_Failure(status, retry_after) for _ in range(times))

    def ids(self, channel: str) -> list[int]:
        """Every id that currently exists in `channel`, ascending."""
        with self._lock:
            chan = self.channels.get(channel)
            return sorted(i for p in chan.posts.values() for i in p.ids) if chan else []

    # --- pages ----------------------------------------------------------------------------

    def page_html(self, channel: str, before: int | None = None, after: int | None = None) -> str:
        """The `/s/<channel>` page as served (public channels), without going through HTTP."""
        with self._lock:
            chan = self.channels.get(channel)
            if chan is None or chan.access != "public":
                return self.landing_html(channel)
            posts = _window(sorted(chan.posts.values(), key=_head), before, after, self.page_size)
            heads = sorted(chan.posts)
            older = bool(posts) and heads[0] < _head(posts[0])
            paged = before is not None or after is not None
            newer = bool(posts) and heads[-1] > _head(posts[-1]) and paged
            info = ChannelInfo(chan.name, chan.title, f"قناة تجريبية: {chan.title}")
            cards = [_card(chan.name, p) for p in posts]
            return render_channel_page(
                info,
                cards,
                before=_head(posts[0]) if older else None,
                after=_head(posts[-1]) if newer else None,
            )

    def landing_html(self, channel: str) -> str:
        with self._lock:
            chan = self.channels.get(channel)
            if chan is None:
                return render_landing(channel)
            extra = f"{1000 + len(chan.posts)} subscribers"
            return render_landing(
                channel,
                title=chan.title,
                extra=extra,
                description_html=RESTRICTED if chan.access == "restricted" else None,
                preview_link=chan.access == "public",
            )

    # --- internals ------------------------------------------------------------------------

    def _find(self, channel: str, post_id: int) -> FakePost:
        for post in self.channels[channel].posts.values():
            if post_id in post.ids:
                return post
        raise KeyError(f"{channel}/{post_id}")

    def _set_access(self, channel: str, access: str) -> None:
        with self._lock:
            self.channel(channel).access = access

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _public(self, channel: str) -> bool:
        with self._lock:
            chan = self.channels.get(channel)
            return chan is not None and chan.access == "public"


def _kinds(media: str | Sequence[str] | None, album: int) -> list[str]:
    if isinstance(media, str):
        media = [media]
    kinds = list(media or [])
    if album > 1:
        return kinds if len(kinds) == album else [kinds[0] if kinds else "photo"] * album
    return kinds[:1]


def _head(post: FakePost) -> int:
    return post.ids[0]


def _window(
    posts: list[FakePost], before: int | None, after: int | None, size: int
) -> list[FakePost]:
    """The cards of one page: about `size` messages, an album counting each of its media."""
    if after is not None:
        chosen = [p for p in posts if _head(p) > after]
    else:
        chosen = [p for p in posts if before is None or _head(p) < before][::-1]
    page: list[FakePost] = []
    count = 0
    for post in chosen:
        if count >= size:
            break
        page.append(post)
        count += len(post.ids)
    return sorted(page, key=_head)


def _card(channel: str, post: FakePost) -> Card:
    media = tuple(Media(kind) for kind in post.kinds)
    return Card(
        channel=channel,
        id=_head(post),
        date=post.date,
        html=post.text if post.service else text_to_html(post.text),
        views=None if post.service else f"{post.views}",
        edited=post.edited,
        forwarded_from=(post.forwarded_from, None) if post.forwarded_from else None,
        media=media,
        service=post.service,
        album_ids=tuple(post.ids) if len(post.ids) > 1 else (),
    )


def _handler_for(fake: FakeTelegramWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with fake._lock:
                fake.requests.append(self.path)
            failure = fake._take_failure()
            if failure is not None:
                self._send(failure.status, "<html><body>Too Many Requests</body></html>", failure)
                return
            parts = urlsplit(self.path)
            segments = [s for s in parts.path.split("/") if s]
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if len(segments) == 2 and segments[0] == "s":
                self._channel_page(segments[1], query)
            elif len(segments) == 1:
                self._send(200, fake.landing_html(segments[0]))
            else:
                self._send(404, "<html><body>Not Found</body></html>")

        def _channel_page(self, channel: str, query: dict[str, str]) -> None:
            if not fake._public(channel):
                if fake.redirect_missing:
                    self._send(302, "", location=f"/{channel}")
                else:
                    self._send(200, fake.landing_html(channel))
                return
            before, after = _int(query.get("before")), _int(query.get("after"))
            self._send(200, fake.page_html(channel, before=before, after=after))

        def _send(
            self,
            status: int,
            body: str,
            failure: _Failure | None = None,
            location: str | None = None,
        ) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if failure is not None and failure.retry_after is not None:
                self.send_header("Retry-After", f"{failure.retry_after:g}")
            if location is not None:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
