"""Chooses and opens the back end from a URL (or DATABASE_URL, or the default SQLite file)."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Store
from .sqlite import SQLiteStore

DEFAULT_SQLITE = Path(__file__).resolve().parent.parent / "data" / "assistant.db"


def open_store(url: str | None = None) -> Store:
    """Opens the store and brings its schema up to date.

    url: None (then DATABASE_URL, then data/assistant.db), a file path, sqlite:///abs/path.db,
    sqlite:///:memory:, or postgresql://... / postgres://... (optionally ?schema=name).
    """
    url = url or os.environ.get("DATABASE_URL") or str(DEFAULT_SQLITE)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # imported only when used: psycopg is not needed for SQLite

        return PostgresStore(url)
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path.startswith("/"):
            raise ValueError(f"{url}: write sqlite:///absolute/path.db or sqlite:///:memory:")
        path = ":memory:" if path == "/:memory:" else path
    elif "://" in url:
        raise ValueError(f"{url}: unsupported database; use a file path, sqlite:///..., or postgresql://...")
    else:
        path = url
    return SQLiteStore(path, url)
