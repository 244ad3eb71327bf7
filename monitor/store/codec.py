"""JSON encoding of store records, shared by every store implementation."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from monitor.model import Alert, Mention, format_time, parse_time, utcnow
from monitor.store.base import Cursor, OutboxEntry, SentRecord

_CURSOR_TIMES = ("last_poll", "last_success", "not_before")


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def cursor_to_json(cursor: Cursor) -> str:
    data: dict[str, Any] = {
        "source_id": cursor.source_id,
        "etag": cursor.etag,
        "last_modified": cursor.last_modified,
        "body_hash": cursor.body_hash,
        "last_status": cursor.last_status,
        "error_count": cursor.error_count,
        "last_error": cursor.last_error,
        "items_total": cursor.items_total,
        "state": cursor.state,
    }
    for name in _CURSOR_TIMES:
        value: datetime | None = getattr(cursor, name)
        data[name] = format_time(value)
    return dumps(data)


def cursor_from_json(raw: str) -> Cursor:
    data = json.loads(raw)
    times = {n: parse_time(data.get(n)) for n in _CURSOR_TIMES}
    return Cursor(
        source_id=data["source_id"],
        etag=data.get("etag"),
        last_modified=data.get("last_modified"),
        body_hash=data.get("body_hash"),
        last_status=data.get("last_status"),
        error_count=int(data.get("error_count", 0)),
        last_error=data.get("last_error"),
        items_total=int(data.get("items_total", 0)),
        state=dict(data.get("state") or {}),
        **times,
    )


def entry_to_json(alert: Alert, attempts: int = 0, last_error: str | None = None) -> str:
    return dumps({"alert": alert.to_dict(), "attempts": attempts, "last_error": last_error})


def entry_from_json(raw: str, state: str, due: datetime | None) -> OutboxEntry:
    data = json.loads(raw)
    return OutboxEntry(
        alert=Alert.from_dict(data["alert"]),
        state=state,
        attempts=int(data.get("attempts", 0)),
        due=due,
        last_error=data.get("last_error"),
    )


def sent_to_json(record: SentRecord) -> str:
    return dumps(
        {
            "alert_id": record.alert_id,
            "sink_id": record.sink_id,
            "target": record.target,
            "title": record.title,
            "sent_at": format_time(record.sent_at),
            "receipt": record.receipt,
        }
    )


def sent_from_json(raw: str) -> SentRecord:
    data = json.loads(raw)
    return SentRecord(
        alert_id=data["alert_id"],
        sink_id=data["sink_id"],
        target=data.get("target"),
        title=data["title"],
        sent_at=parse_time(data["sent_at"]) or utcnow(),
        receipt=data.get("receipt"),
    )


def mention_to_json(mention: Mention) -> str:
    return dumps({**mention.to_dict(), "t": time.time()})


def mentions_from_json(raws: list[str]) -> tuple[Mention, ...]:
    """Mentions in the order they joined the story."""
    data = sorted((json.loads(r) for r in raws), key=lambda d: float(d.get("t", 0)))
    return tuple(Mention.from_dict(d) for d in data)


def alert_from_entry(raw: str | None) -> Alert | None:
    """The alert inside an outbox entry (or a claim, which holds the same JSON)."""
    if not raw or not raw.startswith("{"):
        return None
    return Alert.from_dict(json.loads(raw)["alert"])
