"""Polite HTTP fetching for sources: conditional GET, size cap, timeouts, server hints.

The body is decompressed here (not by the client) so that the size cap holds after
decompression too: a 10 KB gzip bomb that inflates to 10 GB stops at the cap. Status codes map
onto the exception tree, so the caller decides by type.

aiohttp, not httpx (which the sinks use): polling is the hot path, and httpcore's connection
pool checks every pooled socket on every request. Measured on the same 304 workload
(bench/bench_polling.py): aiohttp 0.15 ms of CPU per request, httpx 0.5 to 1.3 ms.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from multidict import CIMultiDictProxy

from monitor.errors import (
    FeedTooLarge,
    FetchError,
    SourceRateLimited,
    SourceUnavailable,
)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
MAX_RETRY_AFTER = 24 * 3600.0
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_bytes: int = 10 * 1000 * 1000
    total_timeout: float = 60.0
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int  # 200 or 304
    body: bytes
    url: str  # after redirects
    content_type: str
    etag: str | None
    last_modified: str | None
    max_age: float | None


class FeedClient:
    """The shared HTTP session of every source (pooling, keep-alive). The aiohttp session is
    made on first use, inside the running event loop it belongs to."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        user_agent: str,
        max_connections: int = 100,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.user_agent = user_agent
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections, limit_per_host=8, ttl_dns_cache=300
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout
                ),
                headers={"User-Agent": self.user_agent, "Accept": ACCEPT},
                auto_decompress=False,
                trust_env=True,  # HTTP(S)_PROXY from the environment, like any client
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_client(
    *, connect_timeout: float, read_timeout: float, user_agent: str, max_connections: int = 100
) -> FeedClient:
    return FeedClient(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent=user_agent,
        max_connections=max_connections,
    )


async def fetch(
    client: FeedClient,
    url: str,
    *,
    where: str,
    limits: HttpLimits,
    etag: str | None = None,
    last_modified: str | None = None,
) -> HttpResult:
    headers = {"Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(limits.total_timeout):
            return await _fetch(client, url, headers, where, limits)
    except TimeoutError as exc:
        raise FetchError(
            f"timeout: no complete answer within {limits.total_timeout:g} s", where=where
        ) from exc
    except aiohttp.TooManyRedirects as exc:
        raise FetchError("too many redirects", where=where) from exc
    except aiohttp.InvalidURL as exc:
        raise SourceUnavailable(f"invalid URL: {exc}", where=where) from exc
    except aiohttp.ClientError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}", where=where) from exc


async def _fetch(
    client: FeedClient,
    url: str,
    headers: dict[str, str],
    where: str,
    limits: HttpLimits,
) -> HttpResult:
    redirects = limits.max_redirects
    async with client.session.get(
        url, headers=headers, allow_redirects=redirects > 0, max_redirects=max(redirects, 1)
    ) as response:
        _raise_for_status(response.status, response.headers, where)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limits.max_bytes:
            raise FeedTooLarge(f"Content-Length {length} over the cap", where=where)
        if response.status == 304:
            body = b""
            await response.read()  # empty, but read: the connection goes back to the pool
        else:
            body = await _read_capped(response, limits.max_bytes, where)
        return HttpResult(
            status=response.status,
            body=body,
            url=str(response.url),
            content_type=response.headers.get("content-type", ""),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            max_age=_max_age(response.headers.get("cache-control", "")),
        )


def _raise_for_status(code: int, headers: CIMultiDictProxy[str], where: str) -> None:
    if code in (200, 203, 304) or (200 <= code < 300 and code != 204):
        return
    if code in (429, 503) and "retry-after" in headers:
        delay = retry_after_seconds(headers["retry-after"])
        if delay is not None:
            raise SourceRateLimited(
                f"HTTP {code}, retry after {delay:g} s", retry_after=delay, where=where
            )
    if code == 429 or code >= 500:
        raise FetchError(f"HTTP {code}", where=where)
    raise SourceUnavailable(f"HTTP {code}", where=where)


async def _read_capped(response: aiohttp.ClientResponse, cap: int, where: str) -> bytes:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    inflater = _inflater(encoding, where)
    chunks: list[bytes] = []
    size = 0
    first = True
    async for raw in response.content.iter_chunked(65536):
        data = raw
        if inflater is not None:
            try:
                data = _inflate(inflater, raw, cap - size)
            except zlib.error:
                if not (first and encoding == "deflate"):
                    raise FetchError("corrupt compressed body", where=where) from None
                inflater = zlib.decompressobj(-15)  # raw deflate, as some servers send it
                data = _inflate(inflater, raw, cap - size)
        first = False
        size += len(data)
        if size > cap:
            raise FeedTooLarge(f"body over the {cap} byte cap", where=where)
        chunks.append(data)
    if inflater is not None:
        try:
            tail = inflater.flush()
        except zlib.error as exc:
            raise FetchError("corrupt compressed body", where=where) from exc
        size += len(tail)
        if size > cap:
            raise FeedTooLarge(f"body over the {cap} byte cap", where=where)
        chunks.append(tail)
    return b"".join(chunks)


def _inflate(inflater: zlib._Decompress, raw: bytes, room: int) -> bytes:
    """Inflate at most room + 1 bytes: one byte past the cap is enough to know it is over."""
    data = inflater.decompress(raw, room + 1)
    while inflater.unconsumed_tail and len(data) <= room:
        data += inflater.decompress(inflater.unconsumed_tail, room - len(data) + 1)
    return data


def _inflater(encoding: str, where: str) -> zlib._Decompress | None:
    if encoding in ("identity", ""):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        # 47 = auto-detect gzip or zlib header; raw deflate (no header) is handled by retry
        return zlib.decompressobj(47)
    raise FetchError(f"unsupported Content-Encoding {encoding!r}", where=where)


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, capped at a day; None when unreadable."""
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _max_age(cache_control: str) -> float | None:
    if "no-store" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None
