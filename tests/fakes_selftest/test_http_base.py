"""The shared server plumbing: HTTP/1.1 keep-alive, bodies in, clean stop."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import httpx

from tests.fakes.feeds import FakeFeedServer
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram_api import FakeTelegramBotAPI


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with FakeFeedServer() as srv:
        srv.add_feed("/a.xml", [{"guid": "1", "title": "أ"}])
        host, port = srv.base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            for _ in range(3):
                conn.request("GET", "/a.xml")
                answer = conn.getresponse()
                body = answer.read()
                assert answer.version == 11 and answer.status == 200
                assert int(answer.headers["Content-Length"]) == len(body)
                assert answer.headers.get("Connection") != "close"
            conn.request("HEAD", "/a.xml")
            head = conn.getresponse()
            assert head.status == 200 and head.read() == b""
            conn.request("GET", "/missing")
            missing = conn.getresponse()
            assert missing.status == 404 and missing.read().startswith(b"<html>")
            first_socket = conn.sock
            conn.request("GET", "/a.xml")
            conn.getresponse().read()
            assert conn.sock is first_socket  # never reconnected
        finally:
            conn.close()


def test_chunked_request_body() -> None:
    with FakeSlack() as srv:

        def pieces() -> object:
            yield b'{"text": '
            yield '"مرحبا"}'.encode()

        answer = httpx.post(
            srv.base_url + "/services/T/B/C",
            content=pieces(),  # type: ignore[arg-type]
            headers={"Content-Type": "application/json"},
        )
        assert answer.text == "ok"
        assert srv.requests[0].headers.get("transfer-encoding") == "chunked"
        assert srv.messages()[0].text == "مرحبا"


def test_stop_is_quick_with_idle_and_busy_connections() -> None:
    srv = FakeTelegramBotAPI()
    srv.start()
    srv.add_chat(1)
    host, port = srv.base_url.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)), timeout=5)
    srv.delay_next(30.0)
    polled: list[BaseException] = []

    def slow_call() -> None:
        try:
            httpx.post(f"{srv.base_url}/bot{srv.token}/getMe", timeout=10)
        except httpx.HTTPError as exc:
            polled.append(exc)

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    srv.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2.0
    assert polled and isinstance(polled[0], httpx.RemoteProtocolError)
    assert idle.recv(1) == b""  # the idle keep-alive connection was closed
    idle.close()


def test_restart_keeps_state() -> None:
    srv = FakeFeedServer()
    with srv:
        srv.add_feed("/x.xml", [])
        assert srv.base_url.startswith("http://127.0.0.1:")
    with srv:  # a new free port, the same feeds
        assert httpx.get(srv.url("/x.xml")).status_code == 200
    assert srv.stats("/x.xml").requests == 1


def test_a_bug_in_a_fake_is_answered_500_and_kept() -> None:
    with FakeFeedServer() as srv:
        srv.add_feed("/bad.xml", [{"guid": "1", "pubDate": object()}])  # cannot be rendered
        answer = httpx.get(srv.url("/bad.xml"))
        assert answer.status_code == 500
        assert "Traceback" in srv.internal_errors[0]
