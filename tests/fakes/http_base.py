"""Plumbing shared by the local HTTP fakes (Bot API, Slack, feeds).

A fake subclasses `FakeServer` and implements `handle(Incoming) -> Reply`; this module runs a
`ThreadingHTTPServer` on 127.0.0.1 port 0 in a background thread, speaks HTTP/1.1 with
keep-alive (Content-Length on every answer, or chunked when a streamed body has no length),
reads request bodies (Content-Length or chunked) and carries out the faults a reply asks for:
a delay before answering, a stall after the headers, a streamed body, or a connection closed
without any answer.

`stop()` closes every connection a client still holds open, wakes threads that sleep in a
delay or a long poll (`self.stopping`), and never waits for a handler thread.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Incoming:
    """One request as the fake sees it. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass
class Reply:
    """What to answer. `stream` sends the body in pieces (chunked unless `length` is given)."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = "text/plain; charset=utf-8"
    stream: Iterable[bytes] | None = None
    length: int | None = None  # Content-Length announced for a streamed body
    delay: float = 0.0  # seconds before anything is sent
    stall: float = 0.0  # seconds between the headers and the body
    drop: bool = False  # close the connection without answering
    no_body: bool = False  # 304 and HEAD: headers only


class FakeServer:
    """Lifecycle and the request loop; subclasses implement `handle`."""

    server_header = "nginx"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.stopping = threading.Event()
        self.internal_errors: list[str] = []  # tracebacks of bugs in the fake (answered 500)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: Incoming) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_stop(self) -> None:
        """Called by `stop()` before connections are closed (wake long polls here)."""

    def __enter__(self) -> Self:
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
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one interval
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.on_stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
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

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the fake stops."""
        if seconds > 0:
            self.stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not block stop()
    # socketserver's default backlog of 5 drops the SYNs of a burst of new connections, and the
    # client's TCP retries them a second later: a delay no real service adds
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a daemon stopped mid-request) is normal, not a fake's bug."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeServer
    ) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def version_string(self) -> str:
        return self.server.fake.server_header

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Incoming(self.command, parts.path, parts.query, headers, body)
        try:
            reply = fake.handle(request)
        except Exception:  # a bug in the fake: loud, but the client still gets an answer
            fake.internal_errors.append(traceback.format_exc())
            reply = Reply(500, b"fake server bug, see internal_errors")
        fake.sleep(reply.delay)
        if fake.stopping.is_set() or reply.drop:
            self._drop()
            return
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, reply: Reply) -> None:
        no_body = reply.no_body or self.command == "HEAD" or reply.status in (204, 304)
        self.send_response(reply.status)
        if reply.content_type is not None and reply.status != 304:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        chunked = False
        if reply.stream is None:
            if reply.status != 304:
                self.send_header("Content-Length", str(len(reply.body)))
        elif reply.length is not None:
            self.send_header("Content-Length", str(reply.length))
        else:
            chunked = True
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        fake = self.server.fake
        if reply.stall:
            fake.sleep(reply.stall)
            if fake.stopping.is_set():
                self._drop()
                return
        if no_body:
            return
        if reply.stream is None:
            self.wfile.write(reply.body)
            return
        for piece in reply.stream:
            if fake.stopping.is_set():
                self._drop()
                return
            if not piece:
                continue
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
