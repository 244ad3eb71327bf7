"""The Slack Web API methods of FakeSlack (slack.py): auth.test, chat.postMessage,
chat.update, chat.delete. Errors are HTTP 200 with `{"ok": false, "error": "..."}`, as Slack
answers them; only rate limiting is HTTP 429 (with Retry-After)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from tests.fakes.http_base import Incoming
from tests.fakes.slack_blocks import BlockError, validate_blocks

if TYPE_CHECKING:
    from tests.fakes.slack import FakeSlack, SlackMessage

BOT_USER = "U0BOTUSER"
BOT_ID = "B0BOTID"
TEAM = "T000"
Outcome = tuple[int, Any]


@dataclass(frozen=True)
class RateLimited:
    retry_after: int


def _error(error: str, **extra: Any) -> Outcome:
    return 200, {"ok": False, "error": error, **extra}


class WebApi:
    def __init__(self, fake: FakeSlack, request: Incoming) -> None:
        self.fake = fake
        self.request = request
        self.method = request.path[len("/api/") :].strip("/")
        self.warnings: list[str] = []

    def payload(self) -> tuple[dict[str, Any], Outcome | None]:
        """The arguments (JSON or form body), or the auth / format error Slack gives."""
        ctype = self.request.headers.get("content-type", "").lower()
        body = self.request.body
        args: dict[str, Any]
        if ctype.startswith("application/json"):
            if "charset" not in ctype:
                self.warnings.append("missing_charset")
            try:
                decoded = json.loads(body or b"{}")
            except ValueError:
                return {}, _error("invalid_json")
            if not isinstance(decoded, dict):
                return {}, _error("invalid_json")
            args = decoded
            token = None  # a JSON body cannot carry the token
        else:
            args = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            args.update(self.request.query_params())
            token = args.pop("token", None)
            for name in ("blocks", "attachments", "metadata"):
                if isinstance(args.get(name), str):
                    try:
                        args[name] = json.loads(args[name])
                    except ValueError:
                        return args, _error(
                            f"invalid_{name}" if name != "blocks" else "invalid_blocks_format"
                        )
        header = self.request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[len("bearer ") :].strip()
        if not token:
            return args, _error("not_authed")
        if token != self.fake.token:
            return args, _error("invalid_auth")
        return args, None

    def run(self, args: dict[str, Any]) -> Outcome:
        handler = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.delete": self.delete,
        }.get(self.method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": self.method}
        status, body = handler(args)
        if isinstance(body, dict) and self.warnings:
            body["warning"] = ",".join(self.warnings)
            body.setdefault("response_metadata", {})["warnings"] = list(self.warnings)
        return status, body

    def auth_test(self, args: dict[str, Any]) -> Outcome:
        return 200, {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "monitor",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def post_message(self, args: dict[str, Any]) -> Outcome:
        channel, problem = self._channel(args)
        if problem is not None:
            return problem
        problem = self._content(args)
        if problem is not None:
            return problem
        limited = self.fake._limit(self.method, channel)
        if limited is not None:
            return 429, limited
        message = self.fake.post("api", channel, channel, args)
        return 200, {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": _api_message(message),
        }

    def update(self, args: dict[str, Any]) -> Outcome:
        channel, problem = self._channel(args)
        if problem is not None:
            return problem
        message = self.fake.find(channel, str(args.get("ts") or ""))
        if message is None:
            return _error("message_not_found")
        if message.via != "api":
            return _error("cant_update_message")
        problem = self._content(args)
        if problem is not None:
            return problem
        with self.fake._lock:
            message.versions.append(message.payload)
            message.payload = {**message.payload, **args}
        return 200, {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "text": message.text or "",
            "message": _api_message(message),
        }

    def delete(self, args: dict[str, Any]) -> Outcome:
        channel, problem = self._channel(args)
        if problem is not None:
            return problem
        message = self.fake.find(channel, str(args.get("ts") or ""))
        if message is None:
            return _error("message_not_found")
        message.deleted = True
        return 200, {"ok": True, "channel": channel, "ts": message.ts}

    def _channel(self, args: dict[str, Any]) -> tuple[str, Outcome | None]:
        fake = self.fake
        channel = fake._resolve(str(args.get("channel") or ""))
        if channel not in fake.channels:
            return channel, _error("channel_not_found")
        if channel in fake.archived:
            return channel, _error("is_archived")
        if channel in fake.not_member:
            return channel, _error("not_in_channel")
        return channel, None

    def _content(self, args: dict[str, Any]) -> Outcome | None:
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return _error("no_text")
        if "blocks" in args:
            try:
                validate_blocks(args["blocks"])
            except BlockError as exc:
                return _error(
                    exc.error,
                    errors=[m.removeprefix("[ERROR] ") for m in exc.messages],
                    response_metadata={"messages": exc.messages},
                )
        attachments = args.get("attachments")
        if attachments is not None and not isinstance(attachments, list):
            return _error("invalid_attachments")
        if len(attachments or []) > 100:
            return _error("too_many_attachments")
        return None


def _api_message(message: SlackMessage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "team": TEAM,
        "ts": message.ts,
        "text": message.text or "",
    }
    for key in ("blocks", "attachments", "thread_ts"):
        if message.payload.get(key):
            out[key] = message.payload[key]
    if message.versions:
        out["edited"] = {"user": BOT_USER, "ts": message.ts}
    return out
