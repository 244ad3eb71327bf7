"""A local HTTP endpoint that records what a generic webhook sink POSTs (and answers a status
the test chooses, with an optional Retry-After), like any receiving web service."""

from __future__ import annotations

from tests.fakes.http_base import FakeServer, Incoming, Reply


class FakeWebhookReceiver(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Incoming] = []
        self.status = 200
        self.retry_after: str | None = None

    def handle(self, request: Incoming) -> Reply:
        with self._lock:
            self.received.append(request)
            status, retry_after = self.status, self.retry_after
        headers = [("Retry-After", retry_after)] if retry_after else []
        return Reply(status=status, body=b"ok" if status < 300 else b"error", headers=headers)

    @property
    def url(self) -> str:
        return self.base_url + "/hook"
