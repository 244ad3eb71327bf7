"""State: the Store protocol and its two implementations (Redis, embedded SQLite)."""

from __future__ import annotations

from pathlib import Path

from monitor.store.base import (
    Batch,
    Cursor,
    OutboxEntry,
    OutboxStats,
    SeenMark,
    SentRecord,
    Store,
)
from monitor.store.keys import Ttls

__all__ = [
    "Batch",
    "Cursor",
    "OutboxEntry",
    "OutboxStats",
    "SeenMark",
    "SentRecord",
    "Store",
    "Ttls",
    "open_store",
    "sqlite_path",
]


def sqlite_path(url: str, base_dir: Path) -> Path | None:
    """The file of an embedded-store URL (`sqlite:///abs`, `sqlite:rel`), None for other URLs.
    Relative paths are relative to `base_dir` (the config file's folder)."""
    if not url.startswith("sqlite:"):
        return None
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        return Path(rest[2:])
    rest = rest.removeprefix("//")
    path = Path(rest)
    return path if path.is_absolute() else base_dir / path


def open_store(
    url: str, *, base_dir: Path, namespace: str = "monitor", ttls: Ttls | None = None
) -> Store:
    """Build (not connect) the store named by `url`: `redis://`, `rediss://`, `unix://` or
    `sqlite:`."""
    path = sqlite_path(url, base_dir)
    if path is not None:
        from monitor.store.sqlite import SqliteStore

        return SqliteStore(path, ttls)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from monitor.store.redis import RedisStore

        return RedisStore(url, namespace=namespace, ttls=ttls)
    raise ValueError(
        f"unknown store URL scheme: {url.split(':', 1)[0]!r} (use redis:// or sqlite:)"
    )
