"""Every storage test runs on SQLite (a file in tmp_path) and on PostgreSQL (TEST_POSTGRES_URL, one fresh schema per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.open import open_store
from storage.sqlstore import SqlStore


class Clock:
    """A settable time source for a store's `clock`, so expiry tests don't sleep."""

    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def clock(store: SqlStore) -> Clock:
    store.clock = fake = Clock()
    return fake
