"""Shared fixtures: a real redis-server (REDIS_URL or a throwaway one), stores, sample data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from monitor.store import Store
from monitor.store.redis import RedisStore
from monitor.store.sqlite import SqliteStore
from tests.support.redis_server import RedisServer, redis_url_from_env

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set, else a throwaway redis-server on a free port (never 6379)."""
    env = redis_url_from_env()
    if env:
        yield env
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A key namespace of its own per test; its keys are deleted afterwards (never FLUSHDB:
    REDIS_URL may point at a server that holds other data)."""
    ns = f"test-{uuid.uuid4().hex[:12]}"
    yield ns
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter("{" + ns + "}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, namespace: str
) -> AsyncIterator[Store]:
    """Every store implementation, opened; the contract suite runs against each."""
    impl: Store
    if request.param == "sqlite":
        impl = SqliteStore(tmp_path / "state.db")
    else:
        impl = RedisStore(redis_url, namespace=namespace)
    await impl.open()
    try:
        yield impl
    finally:
        await impl.close()
