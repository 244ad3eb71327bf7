"""A local fake of the web sites that publish feeds, for tests.

    with FakeFeedServer() as srv:
        url = srv.add_feed("/rss.xml", [{"guid": "1", "title": "هدنة", "link": "..."}],
                           encoding="windows-1256", charset_header="utf-8")  # a wrong header
        httpx.get(url)                                   # 200, ETag, Last-Modified
        httpx.get(url, headers={"If-None-Match": etag})  # 304
        srv.add_items("/rss.xml", [{"guid": "2", ...}])  # newest first; new ETag
        srv.fail("/rss.xml", 503, times=2, retry_after=120)
        srv.gzip_bomb("/bomb.xml", inflated_bytes=200_000_000)
        srv.stats("/rss.xml")                            # requests, conditional, ok, not_modified

Behaviour copied from real sites: an ETag (strong, from the body) and a Last-Modified on every
200; 304 when If-None-Match matches, or, without If-None-Match, when If-Modified-Since is not
older than the content; `etag=False` sends no ETag and the same body each time (and
`last_modified=False` no Last-Modified: no conditional GET at all). gzip when the client
accepts it and the feed has `gzip=True`. Each change of the items moves Last-Modified on by at
least one second, so a client's If-Modified-Since never hides it.

Faults per path: `fail` (any status, Retry-After, for n requests or until `recover`), `slow`
(headers, then a stall), `huge` (a streamed body, with or without Content-Length), `gzip_bomb`,
`redirect`, `redirect_loop`, `raw` (any bytes and headers). Unknown paths answer 404.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import hashlib
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakes.feed_render import CONTENT_TYPES, Item, render
from tests.fakes.http_base import FakeServer, Incoming, Reply


@dataclass
class FeedSpec:
    path: str
    kind: str
    items: list[Item]
    encoding: str
    charset_header: str | None
    xml_decl: bool
    etag: bool
    last_modified: bool
    gzip: bool
    cache_control: str | None
    ttl: int | None
    title: str
    content_type: str | None
    modified: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))


@dataclass
class FeedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    time: float  # time.monotonic()
    status: int | None = None


@dataclass
class FeedStats:
    requests: int = 0
    conditional: int = 0  # sent If-None-Match or If-Modified-Since
    ok: int = 0  # 200s
    not_modified: int = 0  # 304s


@dataclass
class _Rule:
    kind: str  # fail | slow | huge | bomb | redirect | loop | raw
    status: int = 200
    remaining: int | None = None  # None: until recover()
    retry_after: float | str | None = None
    seconds: float = 0.0
    size: int = 0
    content_length: bool = True
    before_headers: bool = False
    location: str = ""
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class FakeFeedServer(FakeServer):
    server_header = "Apache/2.4.41 (Ubuntu)"

    def __init__(self) -> None:
        super().__init__()
        self.feeds: dict[str, FeedSpec] = {}
        self.requests: list[FeedRequest] = []
        self._stats: dict[str, FeedStats] = {}
        self._rules: dict[str, list[_Rule]] = {}
        self._bombs: dict[int, bytes] = {}

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- feeds ----------------------------------------------------------------------------

    def add_feed(
        self,
        path: str,
        items: Sequence[Item] = (),
        *,
        kind: str = "rss",
        encoding: str = "utf-8",
        charset_header: str | None = None,
        xml_decl: bool = True,
        etag: bool = True,
        last_modified: bool = True,
        gzip: bool = False,
        cache_control: str | None = None,
        ttl: int | None = None,
        title: str = "وكالة الأنباء التجريبية",
        content_type: str | None = None,
    ) -> str:
        """Serve a feed at `path` (items newest first); returns its URL. `charset_header`
        goes into Content-Type as is (it may lie about `encoding`); `content_type` replaces
        the usual type of `kind` (sites that send text/html or text/xml)."""
        if kind not in CONTENT_TYPES:
            raise ValueError(f"kind must be one of {sorted(CONTENT_TYPES)}")
        with self._lock:
            self.feeds[path] = FeedSpec(
                path,
                kind,
                [dict(i) for i in items],
                encoding,
                charset_header,
                xml_decl,
                etag,
                last_modified,
                gzip,
                cache_control,
                ttl,
                title,
                content_type,
            )
        return self.url(path) if self._server is not None else path

    def add_items(self, path: str, items: Sequence[Item]) -> None:
        """Publish `items` on top of the feed (newest first)."""
        with self._lock:
            spec = self.feeds[path]
            self._changed(spec, [dict(i) for i in items] + spec.items)

    def set_items(self, path: str, items: Sequence[Item]) -> None:
        with self._lock:
            self._changed(self.feeds[path], [dict(i) for i in items])

    def body(self, path: str) -> bytes:
        """The document as served (before gzip)."""
        with self._lock:
            spec = self.feeds[path]
            return render(
                spec.kind,
                spec.items,
                title=spec.title,
                link=self.base_url + "/",
                encoding=spec.encoding,
                xml_decl=spec.xml_decl,
                ttl=spec.ttl,
                updated=spec.modified,
            )

    def etag(self, path: str) -> str:
        return '"' + hashlib.sha1(self.body(path)).hexdigest()[:20] + '"'

    def _changed(self, spec: FeedSpec, items: list[Item]) -> None:
        spec.items = items
        now = datetime.now(UTC).replace(microsecond=0)
        spec.modified = max(now, spec.modified + timedelta(seconds=1))

    # --- faults ---------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int = 500,
        times: int | None = None,
        retry_after: float | str | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer `status` (with Retry-After when given) `times` times, or until recover()."""
        body = body or f"<html><body><h1>{status}</h1></body></html>".encode()
        self._rule(path, _Rule("fail", status, times, retry_after, body=body))

    def slow(self, path: str, seconds: float, *, before_headers: bool = False) -> None:
        """Send the headers, then stall `seconds` before the body (or stall before anything)."""
        self._rule(path, _Rule("slow", seconds=seconds, before_headers=before_headers))

    def huge(self, path: str, size_bytes: int, *, content_length: bool = True) -> None:
        """A feed-looking body of `size_bytes`, streamed (chunked when no Content-Length)."""
        self._rule(path, _Rule("huge", size=size_bytes, content_length=content_length))

    def gzip_bomb(self, path: str, inflated_bytes: int) -> None:
        """A small gzip body (Content-Encoding: gzip, whatever the client accepts) that
        inflates to `inflated_bytes`: an XML prolog and then whitespace."""
        self._rule(path, _Rule("bomb", size=inflated_bytes))

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self._rule(path, _Rule("redirect", status, location=to))

    def redirect_loop(self, path: str) -> None:
        """302 to `path?hop=N+1`, forever."""
        self._rule(path, _Rule("loop", 302))

    def raw(
        self, path: str, body_bytes: bytes, headers: dict[str, str] | None = None, status: int = 200
    ) -> None:
        """Answer exactly these bytes and headers (no Content-Type unless given)."""
        self._rule(
            path, _Rule("raw", status, body=body_bytes, headers=list((headers or {}).items()))
        )

    def recover(self, path: str) -> None:
        """Remove every fault of `path`."""
        with self._lock:
            self._rules.pop(path, None)

    def _rule(self, path: str, rule: _Rule) -> None:
        with self._lock:
            self._rules.setdefault(path, []).append(rule)

    # --- counters -------------------------------------------------------------------------

    def stats(self, path: str) -> FeedStats:
        with self._lock:
            found = self._stats.get(path, FeedStats())
            return FeedStats(found.requests, found.conditional, found.ok, found.not_modified)

    def requests_for(self, path: str) -> list[FeedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- HTTP -----------------------------------------------------------------------------

    def handle(self, request: Incoming) -> Reply:
        headers = request.headers
        record = FeedRequest(request.method, request.path, request.query, headers, time.monotonic())
        conditional = "if-none-match" in headers or "if-modified-since" in headers
        with self._lock:
            self.requests.append(record)
            stats = self._stats.setdefault(request.path, FeedStats())
            stats.requests += 1
            stats.conditional += int(conditional)
            reply, delay, stall = self._faulted(request)
            if reply is None:
                spec = self.feeds.get(request.path)
                reply = _not_found() if spec is None else self._serve(spec, headers)
            reply.delay, reply.stall = max(reply.delay, delay), max(reply.stall, stall)
            record.status = reply.status
            stats.ok += int(reply.status == 200)
            stats.not_modified += int(reply.status == 304)
            return reply

    def _faulted(self, request: Incoming) -> tuple[Reply | None, float, float]:
        """The fault's reply (None: serve the feed), a delay before it, a stall after headers."""
        delay = stall = 0.0
        for rule in list(self._rules.get(request.path, [])):
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules[request.path].remove(rule)
            if rule.kind == "slow":
                if rule.before_headers:
                    delay = rule.seconds
                else:
                    stall = rule.seconds
                continue
            return self._fault(rule, request), delay, stall
        return None, delay, stall

    def _fault(self, rule: _Rule, request: Incoming) -> Reply:
        if rule.kind == "fail":
            headers = [] if rule.retry_after is None else [("Retry-After", str(rule.retry_after))]
            return Reply(rule.status, rule.body, headers, content_type="text/html; charset=utf-8")
        if rule.kind == "redirect":
            return Reply(rule.status, b"", [("Location", rule.location)], content_type="text/html")
        if rule.kind == "loop":
            hop = int(request.query_params().get("hop", "0") or 0) + 1
            return Reply(
                302, b"", [("Location", f"{request.path}?hop={hop}")], content_type="text/html"
            )
        if rule.kind == "raw":
            return Reply(rule.status, rule.body, rule.headers, content_type=None)
        if rule.kind == "huge":
            return Reply(
                200,
                stream=_huge_body(rule.size),
                length=rule.size if rule.content_length else None,
                content_type="application/rss+xml; charset=utf-8",
            )
        body = self._bomb(rule.size)
        return Reply(200, body, [("Content-Encoding", "gzip")], content_type="application/rss+xml")

    def _serve(self, spec: FeedSpec, headers: dict[str, str]) -> Reply:
        tag = self.etag(spec.path)
        out: list[tuple[str, str]] = []
        if spec.etag:
            out.append(("ETag", tag))
        if spec.last_modified:
            out.append(("Last-Modified", email.utils.format_datetime(spec.modified, usegmt=True)))
        if spec.cache_control:
            out.append(("Cache-Control", spec.cache_control))
        if _not_modified(spec, tag, headers):
            return Reply(304, b"", out, content_type=None)
        body = self.body(spec.path)
        if spec.gzip:
            out.append(("Vary", "Accept-Encoding"))
            if "gzip" in headers.get("accept-encoding", "").lower():
                body = gzip_module.compress(body, mtime=0)
                out.append(("Content-Encoding", "gzip"))
        ctype = spec.content_type or CONTENT_TYPES[spec.kind]
        if spec.charset_header:
            ctype += f"; charset={spec.charset_header}"
        return Reply(200, body, out, content_type=ctype)

    def _bomb(self, inflated: int) -> bytes:
        if inflated not in self._bombs:
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            head = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            parts, left = [packer.compress(head)], inflated - len(head)
            block = b" " * (1 << 20)
            while left > 0:
                parts.append(packer.compress(block[: min(left, len(block))]))
                left -= len(block)
            parts.append(packer.flush())
            self._bombs[inflated] = b"".join(parts)
        return self._bombs[inflated]


def _not_modified(spec: FeedSpec, tag: str, headers: dict[str, str]) -> bool:
    if spec.etag and "if-none-match" in headers:
        wanted = [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
        return "*" in wanted or tag in wanted
    since = headers.get("if-modified-since")
    if not spec.last_modified or not since:
        return False
    try:
        parsed = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return spec.modified <= parsed


def _huge_body(size: int) -> Iterator[bytes]:
    head = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>huge</title>'
    )
    item = "<item><title>خبر</title><description>" + "حشو " * 200 + "</description></item>\n"
    block = item.encode() * max(1, (1 << 16) // len(item.encode()))
    sent = 0
    piece = head
    while sent < size:
        piece = piece[: size - sent]
        yield piece
        sent += len(piece)
        piece = block


def _not_found() -> Reply:
    return Reply(404, b"<html><body><h1>Not Found</h1></body></html>", content_type="text/html")
