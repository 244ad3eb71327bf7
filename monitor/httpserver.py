"""A small HTTP server for probes and metrics: /healthz, /readyz, /metrics.

asyncio streams only (no web framework): three GET endpoints do not justify a dependency, and
answering from the daemon's own event loop is what proves the loop is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from monitor.logging import get_logger

log = get_logger("monitor.http")

Check = Callable[[], Awaitable[tuple[bool, str]]]
Render = Callable[[], bytes]

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host.strip("[]") or "0.0.0.0"), int(port)


class ProbeServer:
    def __init__(self, listen: str, *, ready: Check, live: Check, metrics: Render) -> None:
        self.host, self.port = parse_listen(listen)
        self.ready = ready
        self.live = live
        self.metrics = metrics
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, self.host, self.port)
        sock = self.server.sockets[0].getsockname()
        self.port = int(sock[1])
        log.info("http.listening", address=f"{self.host}:{self.port}")

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                status, ctype, body = await self._answer(request)
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, request: bytes) -> tuple[int, str, bytes]:
        parts = request.decode("latin-1").split()
        if len(parts) < 2:
            return 405, "text/plain", b"bad request\n"
        method, path = parts[0], parts[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"GET only\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics()
        if path in ("/healthz", "/readyz"):
            ok, why = await (self.live if path == "/healthz" else self.ready)()
            return (200 if ok else 503), "text/plain; charset=utf-8", (why + "\n").encode()
        return 404, "text/plain", b"not found\n"
