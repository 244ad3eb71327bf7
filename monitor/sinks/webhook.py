"""Generic webhook sink: the alert as JSON, signed with HMAC-SHA256 over the exact body.

Headers: `X-Monitor-Timestamp` (unix seconds) and `X-Monitor-Signature: sha256=<hex>` where the
MAC covers `<timestamp>.<body>`, so a receiver can reject replays (check the timestamp's age)
and forgeries (compare with hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from monitor.config.schema import WebhookSinkConfig
from monitor.model import Alert
from monitor.sinks.base import Limit
from monitor.sinks.httpsend import post_json


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSink:
    kind = "webhook"

    def __init__(self, config: WebhookSinkConfig, http: httpx.AsyncClient) -> None:
        self.id = config.id
        self.config = config
        self.http = http

    def destination_key(self, alert: Alert) -> str:
        return self.id

    def limits(self, alert: Alert) -> tuple[Limit, ...]:
        return ()

    async def send(self, alert: Alert) -> str | None:
        await self._post({"type": alert.kind, "alert": alert.to_dict()})
        return None

    async def send_digest(self, alerts: Sequence[Alert]) -> str | None:
        await self._post({"type": "digest", "alerts": [a.to_dict() for a in alerts]})
        return None

    async def aclose(self) -> None:
        return None

    async def _post(self, document: dict[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {**self.config.headers, "Content-Type": "application/json"}
        headers["X-Monitor-Timestamp"] = timestamp
        if self.config.secret:
            headers["X-Monitor-Signature"] = signature(self.config.secret, timestamp, body)
        await post_json(self.http, self.config.url, content=body, headers=headers, where=self.id)
