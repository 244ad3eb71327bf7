"""The outbox half of the embedded store (see sqlite.py): queued, sending, dead, sent."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from monitor.model import Alert
from monitor.store import codec
from monitor.store.base import OutboxEntry, OutboxStats, SentRecord
from monitor.store.keys import SENT_KEEP, Ttls

T = TypeVar("T")


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class SqliteOutbox:
    """Mixed into SqliteStore, which provides the connection plumbing below."""

    ttls: Ttls

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _tx(self, db: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    @staticmethod
    def _insert_entry(db: sqlite3.Connection, alert_id: str, raw: str, due: float) -> None:
        db.execute(
            "INSERT INTO outbox (id, data, state, due) VALUES (?, ?, 'queued', ?) "
            "ON CONFLICT (id) DO UPDATE SET data=excluded.data, state='queued', "
            "due=excluded.due, lease_until=NULL, died=NULL",
            (alert_id, raw, due),
        )

    # outbox ----------------------------------------------------------------------------

    async def enqueue(self, alerts: list[Alert]) -> None:
        now = time.time()
        rows = [(a.id, codec.entry_to_json(a)) for a in alerts]

        def body(db: sqlite3.Connection) -> None:
            for index, (alert_id, raw) in enumerate(rows):
                self._insert_entry(db, alert_id, raw, now + index * 1e-6)

        await self._run(lambda db: self._tx(db, body))

    async def lease(self, limit: int, lease_seconds: float) -> list[OutboxEntry]:
        now = time.time()

        def body(db: sqlite3.Connection) -> list[OutboxEntry]:
            db.execute(
                "UPDATE outbox SET state='queued', lease_until=NULL "
                "WHERE state='sending' AND lease_until<=?",
                (now,),
            )
            rows = db.execute(
                "SELECT id, data, due FROM outbox WHERE state='queued' AND due<=? "
                "ORDER BY due, seq LIMIT ?",
                (now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE outbox SET state='sending', lease_until=? WHERE id=?",
                [(now + lease_seconds, r[0]) for r in rows],
            )
            return [codec.entry_from_json(r[1], "sending", _ts(r[2])) for r in rows]

        return await self._run(lambda db: self._tx(db, body))

    async def ack(self, alert_id: str, receipt: str | None = None) -> None:
        now = time.time()

        def body(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT data FROM outbox WHERE id=?", (alert_id,)).fetchone()
            if row is None:
                return
            entry = codec.entry_from_json(row[0], "sent", None)
            record = SentRecord(
                alert_id=alert_id,
                sink_id=entry.alert.destination.sink_id,
                target=entry.alert.destination.target,
                title=entry.alert.item.title,
                sent_at=datetime.fromtimestamp(now, UTC),
                receipt=receipt,
            )
            db.execute("DELETE FROM outbox WHERE id=?", (alert_id,))
            db.execute("INSERT INTO sent (data) VALUES (?)", (codec.sent_to_json(record),))
            db.execute(
                "DELETE FROM sent WHERE seq <= (SELECT MAX(seq) FROM sent) - ?", (SENT_KEEP,)
            )
            if receipt is not None:
                db.execute(
                    "INSERT OR REPLACE INTO receipt (id, receipt, expires) VALUES (?, ?, ?)",
                    (alert_id, receipt, now + self.ttls.receipt),
                )

        await self._run(lambda db: self._tx(db, body))

    def _update_entry(
        self, alert_id: str, state: str, due: float, error: str, died: float | None
    ) -> Callable[[sqlite3.Connection], None]:
        def body(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT data FROM outbox WHERE id=?", (alert_id,)).fetchone()
            if row is None:
                return
            entry = codec.entry_from_json(row[0], state, None)
            raw = codec.entry_to_json(entry.alert, entry.attempts + 1, error)
            db.execute(
                "UPDATE outbox SET data=?, state=?, due=?, lease_until=NULL, died=? WHERE id=?",
                (raw, state, due, died, alert_id),
            )

        return lambda db: self._tx(db, body)

    async def retry(self, alert_id: str, due: datetime, error: str) -> None:
        await self._run(self._update_entry(alert_id, "queued", due.timestamp(), error, None))

    async def release(self, alert_ids: list[str], due: datetime) -> None:
        rows = [(due.timestamp(), alert_id) for alert_id in alert_ids]
        await self._run(
            lambda db: self._tx(
                db,
                lambda d: d.executemany(
                    "UPDATE outbox SET state='queued', due=?, lease_until=NULL "
                    "WHERE id=? AND state='sending'",
                    rows,
                ),
            )
        )

    async def touch(self, alert_ids: list[str], lease_seconds: float) -> None:
        until = time.time() + lease_seconds
        rows = [(until, alert_id) for alert_id in alert_ids]
        await self._run(
            lambda db: self._tx(
                db,
                lambda d: d.executemany(
                    "UPDATE outbox SET lease_until=? WHERE id=? AND state='sending'", rows
                ),
            )
        )

    async def dead(self, alert_id: str, reason: str) -> None:
        now = time.time()
        await self._run(self._update_entry(alert_id, "dead", now, reason, now))

    async def outbox_stats(self) -> OutboxStats:
        def get(db: sqlite3.Connection) -> OutboxStats:
            counts = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
            return OutboxStats(
                queued=counts.get("queued", 0),
                sending=counts.get("sending", 0),
                dead=counts.get("dead", 0),
            )

        return await self._run(get)

    async def next_due(self) -> datetime | None:
        def get(db: sqlite3.Connection) -> datetime | None:
            row = db.execute(
                "SELECT MIN(CASE state WHEN 'queued' THEN due ELSE lease_until END) "
                "FROM outbox WHERE state IN ('queued', 'sending')"
            ).fetchone()
            return _ts(row[0]) if row and row[0] is not None else None

        return await self._run(get)

    async def list_dead(self, limit: int = 100) -> list[OutboxEntry]:
        def get(db: sqlite3.Connection) -> list[OutboxEntry]:
            rows = db.execute(
                "SELECT data, died FROM outbox WHERE state='dead' ORDER BY died DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [codec.entry_from_json(r[0], "dead", _ts(r[1])) for r in rows]

        return await self._run(get)

    async def requeue_dead(self, alert_ids: list[str] | None) -> int:
        now = time.time()

        def body(db: sqlite3.Connection) -> int:
            if alert_ids is None:
                cur = db.execute(
                    "UPDATE outbox SET state='queued', due=?, died=NULL WHERE state='dead'", (now,)
                )
                return cur.rowcount
            total = 0
            for alert_id in alert_ids:
                cur = db.execute(
                    "UPDATE outbox SET state='queued', due=?, died=NULL "
                    "WHERE state='dead' AND id=?",
                    (now, alert_id),
                )
                total += cur.rowcount
            return total

        return await self._run(lambda db: self._tx(db, body))

    async def recent_sent(self, limit: int = 20) -> list[SentRecord]:
        def get(db: sqlite3.Connection) -> list[SentRecord]:
            rows = db.execute("SELECT data FROM sent ORDER BY seq DESC LIMIT ?", (limit,))
            return [codec.sent_from_json(r[0]) for r in rows]

        return await self._run(get)

    async def pending(self, alert_ids: list[str]) -> list[bool]:
        def get(db: sqlite3.Connection) -> list[bool]:
            return [
                db.execute(
                    "SELECT 1 FROM outbox WHERE id=? AND state IN ('queued', 'sending')", (i,)
                ).fetchone()
                is not None
                for i in alert_ids
            ]

        return await self._run(get)

    async def receipt(self, alert_id: str) -> str | None:
        def get(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT receipt FROM receipt WHERE id=? AND expires>?", (alert_id, time.time())
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)
