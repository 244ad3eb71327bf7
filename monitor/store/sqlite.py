"""The embedded store: one SQLite file, so `monitor run` works with no server.

SQLite in WAL mode with synchronous=NORMAL survives a killed process with every committed
transaction intact, and lets `monitor status` read while the daemon writes. All calls run on one
worker thread (SQLite connections are not for sharing across threads), so the event loop never
blocks on disk. Several processes may share the file; transactions are IMMEDIATE so two writers
serialize instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from monitor.errors import StoreError
from monitor.model import Alert
from monitor.store import codec
from monitor.store import sqlite_stories as stories
from monitor.store.base import (
    Batch,
    Cursor,
    StoryClaim,
    StoryFound,
)
from monitor.store.keys import Ttls
from monitor.store.sqlite_outbox import SqliteOutbox

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (source_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
  source_id TEXT NOT NULL, identity TEXT NOT NULL, version TEXT NOT NULL, expires REAL NOT NULL,
  PRIMARY KEY (source_id, identity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claim (
  id TEXT PRIMARY KEY, expires REAL NOT NULL, alert TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL,
  state TEXT NOT NULL, due REAL NOT NULL, lease_until REAL, died REAL);
CREATE INDEX IF NOT EXISTS outbox_state_due ON outbox (state, due);
CREATE TABLE IF NOT EXISTS sent (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipt (id TEXT PRIMARY KEY, receipt TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL);
CREATE TABLE IF NOT EXISTS pace (key TEXT NOT NULL, t REAL NOT NULL);
CREATE INDEX IF NOT EXISTS pace_key_t ON pace (key, t);
"""

_PURGE_EVERY = 300.0


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class SqliteStore(SqliteOutbox):
    shared = False  # one host: its processes share the file (and this table of send times)

    def __init__(self, path: Path, ttls: Ttls | None = None) -> None:
        self.path = path
        self.ttls = ttls or Ttls()
        self._db: sqlite3.Connection | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._last_purge = 0.0

    def __repr__(self) -> str:
        return f"SqliteStore({self.path})"

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise StoreError("store is not open", where=str(self.path))
        try:
            return fn(self._db)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {exc}", where=str(self.path)) from exc

    def _tx(self, db: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = body(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    # lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        def connect() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.executescript(_SCHEMA + stories.SCHEMA)
            self._db = db

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, connect)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open sqlite store: {exc}", where=str(self.path)) from exc

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())

    # sources ---------------------------------------------------------------------------

    async def get_cursor(self, source_id: str) -> Cursor | None:
        def get(db: sqlite3.Connection) -> Cursor | None:
            row = db.execute("SELECT data FROM cursor WHERE source_id=?", (source_id,)).fetchone()
            return None if row is None else codec.cursor_from_json(row[0])

        return await self._run(get)

    async def save_cursor(self, cursor: Cursor) -> None:
        raw = codec.cursor_to_json(cursor)
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO cursor (source_id, data) VALUES (?, ?)",
                (cursor.source_id, raw),
            )
        )

    async def list_cursors(self) -> list[Cursor]:
        def get(db: sqlite3.Connection) -> list[Cursor]:
            rows = db.execute("SELECT data FROM cursor ORDER BY source_id").fetchall()
            return [codec.cursor_from_json(r[0]) for r in rows]

        return await self._run(get)

    async def seen_versions(self, source_id: str, identities: list[str]) -> list[str | None]:
        now = time.time()

        def get(db: sqlite3.Connection) -> list[str | None]:
            found: dict[str, str] = {}
            for start in range(0, len(identities), 500):
                chunk = identities[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT identity, version FROM seen WHERE source_id=? AND expires>? "
                    f"AND identity IN ({marks})",
                    (source_id, now, *chunk),
                )
                found.update(rows)
            return [found.get(i) for i in identities]

        return await self._run(get)

    async def commit(self, batch: Batch) -> list[str]:
        now = time.time()
        cursor_json = codec.cursor_to_json(batch.cursor)
        entries = [(a.id, codec.entry_to_json(a)) for a in batch.alerts]

        def body(db: sqlite3.Connection) -> list[str]:
            won: list[str] = []
            for index, (alert_id, raw) in enumerate(entries):
                if self._claim(db, alert_id, raw, now):
                    self._insert_entry(db, alert_id, raw, now + index * 1e-6)
                    won.append(alert_id)
            db.executemany(
                "INSERT OR REPLACE INTO seen (source_id, identity, version, expires) "
                "VALUES (?, ?, ?, ?)",
                [
                    (batch.cursor.source_id, m.identity, m.version, now + self.ttls.seen)
                    for m in batch.seen
                ],
            )
            db.execute(
                "INSERT OR REPLACE INTO cursor (source_id, data) VALUES (?, ?)",
                (batch.cursor.source_id, cursor_json),
            )
            return won

        won = await self._run(lambda db: self._tx(db, body))
        if now - self._last_purge > _PURGE_EVERY:
            self._last_purge = now
            await self._run(self._purge)
        return won

    def _claim(self, db: sqlite3.Connection, alert_id: str, raw: str, now: float) -> bool:
        row = db.execute("SELECT expires FROM claim WHERE id=?", (alert_id,)).fetchone()
        if row is not None and row[0] > now:
            return False
        db.execute(
            "INSERT OR REPLACE INTO claim (id, expires, alert) VALUES (?, ?, ?)",
            (alert_id, now + self.ttls.claim, raw),
        )
        return True

    async def assign_stories(self, claims: list[StoryClaim], threshold: float) -> list[StoryFound]:
        if not claims:
            return []
        now = time.time()
        window = float(self.ttls.claim)
        return await self._run(
            lambda db: self._tx(db, lambda d: stories.assign(d, claims, threshold, window, now))
        )

    async def claimed_alerts(self, alert_ids: list[str]) -> list[Alert | None]:
        now = time.time()

        def get(db: sqlite3.Connection) -> list[Alert | None]:
            out: list[Alert | None] = []
            for alert_id in alert_ids:
                row = db.execute(
                    "SELECT alert FROM claim WHERE id=? AND expires>?", (alert_id, now)
                ).fetchone()
                out.append(None if row is None else codec.alert_from_entry(row[0]))
            return out

        return await self._run(get)

    @staticmethod
    def _purge(db: sqlite3.Connection) -> None:
        now = time.time()
        db.execute("DELETE FROM seen WHERE expires<=?", (now,))
        db.execute("DELETE FROM claim WHERE expires<=?", (now,))
        db.execute("DELETE FROM receipt WHERE expires<=?", (now,))
        db.execute("DELETE FROM kv WHERE expires IS NOT NULL AND expires<=?", (now,))
        for statement in stories.PURGE:
            db.execute(statement, (now,))

    # liveness and small state ----------------------------------------------------------

    async def heartbeat(self, instance: str, ttl_seconds: float) -> None:
        now = datetime.now(UTC).isoformat()
        await self.kv_set(f"heartbeat:{instance}", now, ttl_seconds)

    async def last_heartbeat(self) -> datetime | None:
        def get(db: sqlite3.Connection) -> datetime | None:
            rows = db.execute(
                "SELECT value FROM kv WHERE name LIKE 'heartbeat:%' AND expires>?", (time.time(),)
            ).fetchall()
            beats = [datetime.fromisoformat(r[0]) for r in rows]
            return max(beats) if beats else None

        return await self._run(get)

    async def pace(self, limits: list[tuple[str, float, float]]) -> float:
        now = time.time()
        windows = [(k, (1.0, per / rate) if rate < 1 else (rate, per)) for k, rate, per in limits]

        def body(db: sqlite3.Connection) -> float:
            wait = 0.0
            for key, (rate, per) in windows:
                db.execute("DELETE FROM pace WHERE key=? AND t<=?", (key, now - per))
                count, oldest = db.execute(
                    "SELECT COUNT(*), MIN(t) FROM pace WHERE key=?", (key,)
                ).fetchone()
                if count >= int(rate):
                    wait = max(wait, oldest + per - now)
            if wait <= 0:
                db.executemany(
                    "INSERT INTO pace (key, t) VALUES (?, ?)", [(k, now) for k, _ in windows]
                )
            return max(wait, 0.0)

        return await self._run(lambda db: self._tx(db, body))

    async def end_heartbeat(self, instance: str) -> None:
        await self.kv_delete(f"heartbeat:{instance}")

    async def kv_get(self, name: str) -> str | None:
        def get(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT value FROM kv WHERE name=? AND (expires IS NULL OR expires>?)",
                (name, time.time()),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def kv_set(self, name: str, value: str, ttl_seconds: float | None = None) -> None:
        expires = None if ttl_seconds is None else time.time() + ttl_seconds
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO kv (name, value, expires) VALUES (?, ?, ?)",
                (name, value, expires),
            )
        )

    async def kv_set_nx(self, name: str, value: str, ttl_seconds: float) -> bool:
        now = time.time()

        def body(db: sqlite3.Connection) -> bool:
            row = db.execute(
                "SELECT 1 FROM kv WHERE name=? AND (expires IS NULL OR expires>?)", (name, now)
            ).fetchone()
            if row is not None:
                return False
            db.execute(
                "INSERT OR REPLACE INTO kv (name, value, expires) VALUES (?, ?, ?)",
                (name, value, now + ttl_seconds),
            )
            return True

        return await self._run(lambda db: self._tx(db, body))

    async def kv_delete(self, name: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM kv WHERE name=?", (name,)))
