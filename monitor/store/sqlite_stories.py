"""Story assignment for the embedded store: the same algorithm as the Redis script in redis.py
(aliases first, then LSH candidates verified by signature similarity), run inside one SQLite
transaction so that two processes sharing the file cannot start the same story twice."""

from __future__ import annotations

import sqlite3

from monitor.store import codec
from monitor.store.base import StoryClaim, StoryFound
from monitor.store.keys import story_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS story_alias (
  alias TEXT PRIMARY KEY, story TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS story_sig (
  story TEXT PRIMARY KEY, sig TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS story_band (
  band TEXT NOT NULL, story TEXT NOT NULL, expires REAL NOT NULL,
  PRIMARY KEY (band, story)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS story_mention (
  story TEXT NOT NULL, item TEXT NOT NULL, mention TEXT NOT NULL, expires REAL NOT NULL,
  PRIMARY KEY (story, item)) WITHOUT ROWID;
"""

PURGE = [
    "DELETE FROM story_alias WHERE expires<=?",
    "DELETE FROM story_sig WHERE expires<=?",
    "DELETE FROM story_band WHERE expires<=?",
    "DELETE FROM story_mention WHERE expires<=?",
]


def similarity(a: str, b: str) -> float:
    """Fraction of equal 8-hex-digit positions (as the Lua script computes it)."""
    n = len(a) // 8
    if n == 0 or len(a) != len(b):
        return 0.0
    return sum(a[i : i + 8] == b[i : i + 8] for i in range(0, n * 8, 8)) / n


def _alias(db: sqlite3.Connection, claim: StoryClaim, now: float) -> str | None:
    for alias in claim.aliases:
        row = db.execute(
            "SELECT story FROM story_alias WHERE alias=? AND expires>?", (alias, now)
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None


def _nearest(db: sqlite3.Connection, claim: StoryClaim, threshold: float, now: float) -> str | None:
    if not claim.signature or not claim.bands:
        return None
    marks = ",".join("?" * len(claim.bands))
    rows = db.execute(
        f"SELECT DISTINCT s.story, s.sig FROM story_band b JOIN story_sig s ON s.story=b.story "
        f"WHERE b.band IN ({marks}) AND b.expires>? AND s.expires>?",
        (*claim.bands, now, now),
    ).fetchall()
    best, score = None, threshold
    for story, sig in rows:
        sim = similarity(claim.signature, sig)
        if sim >= score:
            best, score = str(story), sim
    return best


def assign(
    db: sqlite3.Connection, claims: list[StoryClaim], threshold: float, window: float, now: float
) -> list[StoryFound]:
    found: list[StoryFound] = []
    expires = now + window
    for claim in claims:
        story = _alias(db, claim, now) or _nearest(db, claim, threshold, now)
        new = story is None
        if story is None:
            story = story_id(claim.key)
            if claim.signature:
                db.execute(
                    "INSERT OR REPLACE INTO story_sig (story, sig, expires) VALUES (?, ?, ?)",
                    (story, claim.signature, expires),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO story_band (band, story, expires) VALUES (?, ?, ?)",
                    [(band, story, expires) for band in claim.bands],
                )
        for alias in claim.aliases:
            db.execute(
                "INSERT INTO story_alias (alias, story, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (alias) DO UPDATE SET story=excluded.story, expires=excluded.expires "
                "WHERE story_alias.expires<=?",
                (alias, story, expires, now),
            )
        cur = db.execute(
            "INSERT OR IGNORE INTO story_mention (story, item, mention, expires) VALUES (?, ?, ?, ?)",
            (story, claim.key, codec.mention_to_json(claim.mention), expires),
        )
        rows = db.execute(
            "SELECT mention FROM story_mention WHERE story=? AND expires>?", (story, now)
        ).fetchall()
        found.append(
            StoryFound(
                story, new, cur.rowcount == 0, codec.mentions_from_json([r[0] for r in rows])
            )
        )
    return found
