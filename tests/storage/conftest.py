"""Every storage test runs on SQLite (a file in tmp_path) and on PostgreSQL (TEST_POSTGRES_URL, one fresh schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from storage.open import open_store
from storage.sqlstore import SqlStore

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
NO_POSTGRES = "set TEST_POSTGRES_URL=postgresql://... to run the PostgreSQL tests"


class Clock:
    """A settable time source for a store's `clock`, so expiry tests don't sleep."""

    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    # Not waiting for the WAL flush at each commit changes no locking or visibility, only crash durability,
    # and makes the 10,000-reminder test several times faster.
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}&options=-csynchronous_commit%3Doff"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def clock(store: SqlStore) -> Clock:
    store.clock = fake = Clock()
    return fake
