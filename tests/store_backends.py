"""The `store_url` fixture every store-backed test uses: a SQLite file, or a fresh PostgreSQL
schema (TEST_POSTGRES_URL) dropped afterwards; PostgreSQL is skipped, saying how to enable it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
NO_POSTGRES = "set TEST_POSTGRES_URL=postgresql://... to run the PostgreSQL tests"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    # Not waiting for the WAL flush at each commit changes no locking or visibility, only crash durability,
    # and makes the 10,000-reminder tests several times faster.
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}&options=-csynchronous_commit%3Doff"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
