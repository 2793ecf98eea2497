"""Store URLs for tests: a SQLite file, or a fresh PostgreSQL schema (TEST_POSTGRES_URL), dropped afterwards.

The same approach as tests/storage/conftest.py; the workflow and reminders conftests both use it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
NO_POSTGRES = "PostgreSQL skipped: set TEST_POSTGRES_URL=postgresql://... to run these tests on it too"
BACKENDS = ["sqlite", "postgres"]


def store_urls(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yields a URL for `backend` ("sqlite" or "postgres"); skips the test without a PostgreSQL server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from store_urls(request.param, tmp_path)
