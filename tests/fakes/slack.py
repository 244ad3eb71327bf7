"""A local fake of Slack: incoming webhooks and the Web API, for tests.

    with FakeSlack() as srv:
        hook = srv.base_url + "/services/T000/B000/XXXX"
        httpx.post(hook, json={"text": "عاجل"})                    # 200 "ok"
        httpx.post(srv.base_url + "/api/chat.postMessage",
                   headers={"Authorization": f"Bearer {srv.token}"},
                   json={"channel": "C0ALERTS", "text": "x"})       # {"ok": true, "ts": ...}
        srv.messages("/services/T000/B000/XXXX")[0].text
        srv.special_tokens(srv.messages()[0])                      # [] unless a mention got in
        srv.fail_next("webhook", status=429, retry_after=3)         # 429, Retry-After: 3

Incoming webhooks (`POST /services/...`, any path unless `webhooks` is given) answer like
Slack: 200 `ok` (text/plain), 400 `invalid_payload` / `no_text` / `invalid_blocks`,
404 `no_service`, 403 `action_prohibited`, 410 `channel_is_archived`, 429 `rate_limited`
with Retry-After, 500. The Web API (`POST /api/<method>`: auth.test, chat.postMessage,
chat.update, chat.delete) needs `Authorization: Bearer <token>` (or a `token` form field),
answers HTTP 200 with `{"ok": false, "error": ...}` for its errors and 429 with Retry-After
when rate limited. Block checks and token extraction: slack_blocks.py.

`enforce_limits = True`: about 1 message per second per channel or webhook, a burst of
`burst` allowed; each 429 is recorded in `srv.rate_limited`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.faults import Fault, Faults
from tests.fakes.http_base import FakeServer, Incoming, Reply
from tests.fakes.slack_api import RateLimited, WebApi
from tests.fakes.slack_blocks import (
    MAX_TEXT,
    BlockError,
    mrkdwn_strings,
    special_tokens,
    unescaped,
    validate_blocks,
)

DEFAULT_TOKEN = "xoxb-000000000000-0000000000000-FakeSlackTokenForTests"
WEBHOOK_ERRORS = {  # error word -> HTTP status, as Slack answers a webhook
    "invalid_payload": 400,
    "no_text": 400,
    "invalid_blocks": 400,
    "too_many_attachments": 400,
    "user_not_found": 400,
    "invalid_token": 403,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
    "channel_not_found": 404,
    "no_service": 404,
    "channel_is_archived": 410,
    "rate_limited": 429,
    "internal_error": 500,
}
_STATUS_WORD = {400: "invalid_payload", 403: "action_prohibited", 404: "no_service"}
_STATUS_WORD |= {410: "channel_is_archived", 429: "rate_limited", 500: "internal_error"}


@dataclass
class SlackMessage:
    via: str  # "webhook" | "api"
    target: str  # the webhook path, or the channel id
    channel: str | None  # the channel id (a webhook's when it was given one)
    payload: dict[str, Any]  # the body as received (API: blocks/attachments decoded)
    ts: str
    time: float  # time.monotonic() when accepted
    truncated: bool = False  # text over 40,000 characters, cut as Slack does
    versions: list[dict[str, Any]] = field(default_factory=list)  # payloads before chat.update
    deleted: bool = False

    @property
    def text(self) -> str | None:
        text = self.payload.get("text")
        return text[:MAX_TEXT] if isinstance(text, str) else None

    @property
    def blocks(self) -> list[Any] | None:
        blocks = self.payload.get("blocks")
        return blocks if isinstance(blocks, list) else None

    @property
    def thread_ts(self) -> str | None:
        return self.payload.get("thread_ts")


@dataclass
class SlackRequest:
    method: str  # "webhook" or the API method
    path: str
    headers: dict[str, str]
    body: bytes
    time: float
    status: int | None = None  # None until answered; stays None when the connection was dropped
    error: str | None = None  # the error word of an error answer


@dataclass(frozen=True)
class RateLimitEvent:
    time: float
    method: str
    target: str | None
    retry_after: int
    injected: bool


class FakeSlack(FakeServer):
    server_header = "Apache"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        channels: dict[str, str] | None = None,
        webhooks: dict[str, str | None] | None = None,
        enforce_limits: bool = False,
        burst: int = 3,
    ) -> None:
        """`channels`: id -> name (default C0ALERTS alerts, C0DESK desk). `webhooks`: path ->
        channel id; None accepts every path under /services/."""
        super().__init__()
        self.token = token
        self.channels = dict(channels or {"C0ALERTS": "alerts", "C0DESK": "desk"})
        self.webhooks = None if webhooks is None else dict(webhooks)
        self.archived: set[str] = set()
        self.not_member: set[str] = set()
        self.webhook_errors: dict[str, str] = {}
        self.enforce_limits = enforce_limits
        self.burst = burst
        self.requests: list[SlackRequest] = []
        self.rate_limited: list[RateLimitEvent] = []
        self.faults = Faults()
        self._messages: list[SlackMessage] = []
        self._buckets: dict[str, tuple[float, float]] = {}
        self._ts = 0

    # --- state ----------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> None:
        with self._lock:
            self.channels[channel_id] = name
            if not member:
                self.not_member.add(channel_id)

    def archive(self, channel_id: str) -> None:
        with self._lock:
            self.archived.add(channel_id)

    def webhook_error(self, path: str, error: str | None) -> None:
        """Make a webhook answer `error` (a key of WEBHOOK_ERRORS) from now on; None heals."""
        with self._lock:
            if error is None:
                self.webhook_errors.pop(path, None)
            else:
                self.webhook_errors[path] = error

    # --- faults (as FakeTelegramBotAPI; method "webhook", "chat.postMessage", ...) --------

    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        retry_after: int = 2,
        times: int = 1,
        channel: str | None = None,
        *,
        error: str | None = None,
        deliver: bool = False,
    ) -> None:
        """The next `times` calls fail: `status` (429 with Retry-After), or HTTP 200 with
        `{"ok": false, "error": error}` for the Web API when `status` is 200."""
        target = channel if channel is None or channel.startswith("/") else self._resolve(channel)
        fault = Fault("fail", method, target, status, retry_after, error, remaining=times)
        fault.deliver = deliver
        self.faults.add(fault)

    def fail_every(
        self,
        n: int,
        status: int = 429,
        retry_after: int = 1,
        *,
        method: str | None = None,
        error: str | None = None,
    ) -> None:
        self.faults.every(n, method, status, retry_after, error)

    def delay_next(
        self, seconds: float, method: str | None = None, times: int = 1, channel: str | None = None
    ) -> None:
        """Answer late; the message is posted first (as a slow Slack still posts it)."""
        target = channel if channel is None or channel.startswith("/") else self._resolve(channel)
        self.faults.add(Fault("delay", method, target, seconds=seconds, remaining=times))

    def drop_connection_next(
        self, method: str | None = None, times: int = 1, *, deliver: bool = False
    ) -> None:
        self.faults.add(Fault("drop", method, None, remaining=times, deliver=deliver))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- what arrived ---------------------------------------------------------------------

    def messages(self, target: str | None = None) -> list[SlackMessage]:
        """Messages posted to a webhook path, a channel id or `#name` / name; all when None."""
        with self._lock:
            channel = self._resolve(target) if target else None
            return [
                m
                for m in self._messages
                if target is None or m.target == target or (channel and m.channel == channel)
            ]

    def arrival_times(self, target: str | None = None) -> list[float]:
        return [m.time for m in self.messages(target)]

    @staticmethod
    def mrkdwn_strings(message: SlackMessage | dict[str, Any]) -> list[str]:
        return mrkdwn_strings(message.payload if isinstance(message, SlackMessage) else message)

    @staticmethod
    def special_tokens(message: SlackMessage | dict[str, Any]) -> list[str]:
        return special_tokens(message.payload if isinstance(message, SlackMessage) else message)

    @staticmethod
    def unescaped(message: SlackMessage | dict[str, Any]) -> list[str]:
        return unescaped(message.payload if isinstance(message, SlackMessage) else message)

    # --- HTTP -----------------------------------------------------------------------------

    def handle(self, request: Incoming) -> Reply:
        now = time.monotonic()
        if request.path.startswith("/services/"):
            method = "webhook"
        elif request.path.startswith("/api/"):
            method = request.path[len("/api/") :].strip("/")
        else:
            return Reply(404, b"Not Found")
        record = SlackRequest(method, request.path, request.headers, request.body, now)
        with self._lock:
            self.requests.append(record)
        if request.method != "POST":
            return self._answer(
                record, 405, "invalid_method" if method == "webhook" else "method_not_supported"
            )
        api = WebApi(self, request) if method != "webhook" else None
        payload, problem = api.payload() if api else _webhook_payload(request)
        target = request.path if api is None else self._resolve(str(payload.get("channel") or ""))
        delay, failure = self.faults.take(method, target)
        seconds = delay.seconds if delay else 0.0
        if failure is not None and not failure.deliver:
            return self._fault(record, failure, target, seconds)
        if problem is None:
            outcome = api.run(payload) if api else self._webhook(request.path, payload)
        else:
            outcome = problem
        if failure is not None:
            return self._fault(record, failure, target, seconds)
        status, body = outcome
        reply = self._answer(record, status, body)
        reply.delay = seconds
        return reply

    def _webhook(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            if self.webhooks is not None and path not in self.webhooks:
                return 404, "no_service"
            if path in self.webhook_errors:
                error = self.webhook_errors[path]
                return WEBHOOK_ERRORS.get(error, 400), error
            channel = self.webhooks.get(path) if self.webhooks else None
            if channel in self.archived:
                return 410, "channel_is_archived"
        if not any(payload.get(k) for k in ("text", "blocks", "attachments")):
            return 400, "no_text"
        if "blocks" in payload:
            try:
                validate_blocks(payload["blocks"])
            except BlockError:
                return 400, "invalid_blocks"
        if len(payload.get("attachments") or []) > 100:
            return 400, "too_many_attachments"
        limited = self._limit("webhook", path)
        if limited is not None:
            return 429, limited
        self.post("webhook", path, channel, payload)
        return 200, "ok"

    def post(
        self, via: str, target: str, channel: str | None, payload: dict[str, Any]
    ) -> SlackMessage:
        with self._lock:
            self._ts += 1
            ts = f"{int(time.time())}.{self._ts:06d}"
            text = payload.get("text")
            truncated = isinstance(text, str) and len(text) > MAX_TEXT
            message = SlackMessage(via, target, channel, payload, ts, time.monotonic(), truncated)
            self._messages.append(message)
            return message

    def find(self, channel: str, ts: str) -> SlackMessage | None:
        with self._lock:
            for message in self._messages:
                if message.channel == channel and message.ts == ts and not message.deleted:
                    return message
            return None

    def _limit(self, method: str, target: str) -> Any:
        """None, or the 429 outcome when `target` is over ~1 message/s (after a burst)."""
        if not self.enforce_limits:
            return None
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(target, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at))
            if tokens < 1.0:
                retry_after = max(1, math.ceil(1.0 - tokens))
                self.rate_limited.append(RateLimitEvent(now, method, target, retry_after, False))
                return RateLimited(retry_after)
            self._buckets[target] = (tokens - 1.0, now)
            return None

    def _fault(self, record: SlackRequest, fault: Fault, target: str | None, delay: float) -> Reply:
        if fault.kind == "drop":
            return Reply(drop=True, delay=delay)
        status = fault.status
        if status == 429:
            retry_after = int(fault.retry_after or 1)
            with self._lock:
                self.rate_limited.append(
                    RateLimitEvent(record.time, record.method, target, retry_after, True)
                )
            reply = self._answer(record, 429, RateLimited(retry_after))
        elif record.method == "webhook":
            reply = self._answer(
                record, status, fault.description or _STATUS_WORD.get(status, "internal_error")
            )
        else:
            reply = self._answer(
                record, status, {"ok": False, "error": fault.description or "internal_error"}
            )
        reply.delay = delay
        return reply

    def _answer(self, record: SlackRequest, status: int, body: Any) -> Reply:
        headers: list[tuple[str, str]] = []
        if isinstance(body, RateLimited):
            headers.append(("Retry-After", str(body.retry_after)))
            body = (
                "rate_limited"
                if record.method == "webhook"
                else {"ok": False, "error": "ratelimited"}
            )
        record.status = status
        if isinstance(body, dict):
            if not body.get("ok", True):
                record.error = str(body.get("error"))
            data = json.dumps(body, ensure_ascii=False).encode()
            return Reply(status, data, headers, content_type="application/json; charset=utf-8")
        if status != 200:
            record.error = str(body)
        return Reply(status, str(body).encode(), headers, content_type="text/plain; charset=utf-8")

    def _resolve(self, channel: str) -> str:
        """A channel id for an id, `#name` or name; the input when unknown."""
        with self._lock:
            if channel in self.channels:
                return channel
            name = channel.lstrip("#")
            for cid, cname in self.channels.items():
                if cname == name:
                    return cid
            return channel


def _webhook_payload(request: Incoming) -> tuple[dict[str, Any], tuple[int, Any] | None]:
    """The JSON payload (a JSON body, or the `payload` field of a form), or invalid_payload."""
    ctype = request.headers.get("content-type", "").lower()
    raw = request.body
    if ctype.startswith("application/x-www-form-urlencoded"):
        raw = dict(parse_qsl(raw.decode("utf-8", "replace"))).get("payload", "").encode()
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}, (400, "invalid_payload")
    if not isinstance(payload, dict):
        return {}, (400, "invalid_payload")
    return payload, None
