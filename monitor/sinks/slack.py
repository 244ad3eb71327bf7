"""Slack sink: an incoming webhook, or the Web API (chat.postMessage / chat.update) with a bot
token. Rendering (Block Kit, escaping, mention-proofing) is in render_slack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from monitor.config.schema import SlackConfig, SlackSinkConfig
from monitor.errors import DeliveryRateLimited, PermanentDeliveryError, TransientDeliveryError
from monitor.identity import digest
from monitor.model import Alert
from monitor.sinks import render_slack as render
from monitor.sinks.base import Limit
from monitor.sinks.httpsend import DEFAULT_RETRY_AFTER, post_json
from monitor.sources.http import retry_after_seconds

# Web API error codes (the `error` field of a 200 answer) that a retry can fix
_TRANSIENT = {
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
    "team_added_to_org", "rate_limited",
}  # fmt: skip


class SlackSink:
    kind = "slack"

    def __init__(
        self, config: SlackSinkConfig, slack: SlackConfig, http: httpx.AsyncClient
    ) -> None:
        self.id = config.id
        self.config = config
        self.slack = slack
        self.http = http
        self.token = config.bot_token or slack.bot_token
        self.use_api = bool(config.channel and self.token) and not config.webhook_url
        self.key = "slack:" + digest(config.webhook_url or f"{config.channel}", 6)

    def destination_key(self, alert: Alert) -> str:
        return alert.destination.target or self.config.channel or "webhook"

    def limits(self, alert: Alert) -> tuple[Limit, ...]:
        if not self.slack.pacing:
            return ()
        chan = self.destination_key(alert)
        return (Limit(f"{self.key}:{chan}", self.slack.channel_per_second, 1.0),)

    async def send(self, alert: Alert) -> str | None:
        if alert.kind == "update":
            return await self._update(alert)
        return await self._post_all(render.render_alert(alert), self.destination_key(alert))

    async def send_digest(self, alerts: Sequence[Alert]) -> str | None:
        return await self._post_all(render.render_digest(alerts), self.destination_key(alerts[0]))

    async def aclose(self) -> None:
        return None  # the shared http client is closed by its owner

    async def _update(self, alert: Alert) -> str | None:
        mode = self.config.updates
        channel, ts = _split_receipt(alert.reply_to)
        if mode == "silent":
            return alert.reply_to
        if mode == "edit" and self.use_api and channel and ts:
            (first, *_) = render.render_update(alert)
            try:
                await self._api("chat.update", {**first.payload(), "channel": channel, "ts": ts})
                return alert.reply_to
            except PermanentDeliveryError:
                pass  # not editable any more: reply instead
        reply = render.render_update_reply(alert)
        extra = {"thread_ts": ts} if ts and self.use_api else {}
        return await self._post(reply, self.destination_key(alert), extra)

    async def _post_all(self, messages: Sequence[render.SlackMessage], channel: str) -> str | None:
        receipt = None
        for message in messages:
            sent = await self._post(message, channel, {})
            receipt = receipt or sent
        return receipt

    async def _post(
        self, message: render.SlackMessage, channel: str, extra: dict[str, Any]
    ) -> str | None:
        if not self.use_api:
            await post_json(self.http, self.config.webhook_url, message.payload(), where=self.id)
            return None
        body = await self._api(
            "chat.postMessage", {**message.payload(), "channel": channel, **extra}
        )
        return f"{body.get('channel', channel)}:{body.get('ts', '')}"

    async def _api(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.slack.api_base.rstrip('/')}/{method}"
        headers = {"Authorization": f"Bearer {self.token}"}
        response = await post_json(self.http, url, payload, where=self.id, headers=headers)
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise TransientDeliveryError(f"{method}: answer is not JSON", where=self.id) from exc
        if body.get("ok"):
            return body
        error = str(body.get("error", "unknown_error"))
        if error in ("ratelimited", "rate_limited"):
            delay = retry_after_seconds(response.headers.get("retry-after", ""))
            raise DeliveryRateLimited(
                f"{method}: {error}", retry_after=delay or DEFAULT_RETRY_AFTER, where=self.id
            )
        if error in _TRANSIENT:
            raise TransientDeliveryError(f"{method}: {error}", where=self.id)
        raise PermanentDeliveryError(f"{method}: {error}", where=self.id)


def _split_receipt(receipt: str | None) -> tuple[str | None, str | None]:
    if not receipt or ":" not in receipt:
        return None, None
    channel, ts = receipt.split(":", 1)
    return channel or None, ts or None
