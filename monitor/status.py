"""`monitor status`, `monitor outbox retry`, `monitor health`: read and mend the store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO

from monitor.config import LoadedConfig
from monitor.errors import StoreError
from monitor.model import format_time, parse_time, utcnow
from monitor.store import Cursor, Store, open_store

HEALTH_MAX_AGE = 60.0  # seconds: a heartbeat older than this means the daemon is not running


def _store(loaded: LoadedConfig) -> Store:
    cfg = loaded.config.store
    return open_store(cfg.url, base_dir=loaded.base_dir, namespace=cfg.namespace)


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def _next_poll(loaded: LoadedConfig, cursor: Cursor | None, source_id: str) -> datetime | None:
    if cursor is None or cursor.last_poll is None:
        return None
    cfg = next((s for s in loaded.config.sources if s.id == source_id), None)
    interval = (cfg.interval if cfg and cfg.interval else None) or loaded.config.defaults.interval
    due = cursor.last_poll + timedelta(seconds=interval)
    return max(due, cursor.not_before) if cursor.not_before else due


async def collect(loaded: LoadedConfig, store: Store) -> dict[str, Any]:
    cursors = {c.source_id: c for c in await store.list_cursors()}
    sources = []
    for cfg in loaded.config.sources:
        cursor = cursors.get(cfg.id)
        sources.append(
            {
                "id": cfg.id,
                "type": cfg.type,
                "enabled": cfg.enabled,
                "last_poll": format_time(cursor.last_poll if cursor else None),
                "last_success": format_time(cursor.last_success if cursor else None),
                "status": cursor.last_status if cursor else None,
                "items": cursor.items_total if cursor else 0,
                "errors": cursor.error_count if cursor else 0,
                "last_error": cursor.last_error if cursor else None,
                "next_poll": format_time(_next_poll(loaded, cursor, cfg.id)),
            }
        )
    stats = await store.outbox_stats()
    dead = await store.list_dead(50)
    sent = await store.recent_sent(15)
    beat = await store.last_heartbeat()
    return {
        "sources": sources,
        "outbox": {"queued": stats.queued, "sending": stats.sending, "dead": stats.dead},
        "dead": [
            {
                "id": e.alert.id,
                "sink": e.alert.destination.key,
                "reason": e.last_error,
                "title": e.alert.item.title,
                "attempts": e.attempts,
                "died": format_time(e.due),
            }
            for e in dead
        ],
        "recent": [
            {"id": r.alert_id, "sink": r.sink_id, "title": r.title, "sent": format_time(r.sent_at)}
            for r in sent
        ],
        "heartbeat": format_time(beat),
    }


def _short(value: str | None, size: int) -> str:
    value = (value or "-").replace("\n", " ")
    return value if len(value) <= size else value[: size - 1] + "…"


def render_text(data: dict[str, Any]) -> str:
    parts = ["Sources"]
    rows = [
        [
            s["id"],
            s["type"],
            _when(parse_time(s["last_poll"])),
            s["status"] or "-",
            str(s["items"]),
            str(s["errors"]),
            _when(parse_time(s["next_poll"])),
            _short(s["last_error"], 60),
        ]
        for s in data["sources"]
    ]
    parts.append(
        table(
            rows,
            ["ID", "TYPE", "LAST POLL", "STATUS", "ITEMS", "ERRORS", "NEXT POLL", "LAST ERROR"],
        )
    )
    box = data["outbox"]
    parts.append(f"\nOutbox: {box['queued']} queued, {box['sending']} sending, {box['dead']} dead")
    parts.append(f"Heartbeat: {data['heartbeat'] or 'none (daemon not running?)'}")
    if data["dead"]:
        parts.append("\nDead letters (monitor outbox retry ID | --all)")
        parts.append(
            table(
                [
                    [d["id"], d["sink"], _short(d["reason"], 50), _short(d["title"], 40)]
                    for d in data["dead"]
                ],
                ["ID", "SINK", "REASON", "TITLE"],
            )
        )
    if data["recent"]:
        parts.append("\nRecent alerts")
        parts.append(
            table(
                [
                    [_when(parse_time(r["sent"])), r["sink"], _short(r["title"], 70)]
                    for r in data["recent"]
                ],
                ["SENT", "SINK", "TITLE"],
            )
        )
    return "\n".join(parts) + "\n"


async def status(loaded: LoadedConfig, out: TextIO, *, as_json: bool = False) -> int:
    store = _store(loaded)
    try:
        await store.open()
        data = await collect(loaded, store)
    except StoreError as exc:
        out.write(f"store unavailable: {exc}\n")
        return 1
    finally:
        await store.close()
    out.write(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n" if as_json else render_text(data)
    )
    return 0


async def outbox_retry(loaded: LoadedConfig, ids: list[str] | None, out: TextIO) -> int:
    store = _store(loaded)
    try:
        await store.open()
        moved = await store.requeue_dead(ids)
    except StoreError as exc:
        out.write(f"store unavailable: {exc}\n")
        return 1
    finally:
        await store.close()
    out.write(f"{moved} dead letter(s) queued again\n")
    return 0 if moved or ids is None else 1


async def health(loaded: LoadedConfig, out: TextIO) -> int:
    store = _store(loaded)
    try:
        await store.open()
        beat = await store.last_heartbeat()
    except StoreError as exc:
        out.write(f"unhealthy: store unavailable: {exc}\n")
        return 1
    finally:
        await store.close()
    if beat is None:
        out.write("unhealthy: no heartbeat\n")
        return 1
    age = (utcnow() - beat).total_seconds()
    if age > HEALTH_MAX_AGE:
        out.write(f"unhealthy: last heartbeat {age:.0f} s ago\n")
        return 1
    out.write(f"ok: heartbeat {age:.0f} s ago\n")
    return 0
