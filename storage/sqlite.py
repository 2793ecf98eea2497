"""SQLite back end (stdlib sqlite3): the default, one file shared by any number of processes.

Threads share one connection behind a lock. Measured against a connection per thread (8-16
threads, WAL, synchronous=NORMAL): equal within ±25% on throughput, the lock ahead on read-heavy
work and on tail latency (no busy-wait sleeps between threads of one process), and it also works
for :memory:. Processes each have their own connection; the file lock serializes their writers:
every write transaction starts with BEGIN IMMEDIATE, so it waits for the write lock up front instead
of failing when a read lock cannot be upgraded. The waiting is done here, not by SQLite's busy
handler, which sleeps 1, 2, 5, 10… ms between tries: against another process that holds the lock
for tens of microseconds at a time, those sleeps were most of the tail latency of two WeChat
server processes on one file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .base import StoreUnavailable
from .sql import SQLITE, Tx
from .sqlstore import SqlStore

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's write to finish
BUSY_RETRY = (0.00005, 0.002)
SCRUB_WAIT = 2.0  # how long deleting personal data waits for other processes' readers to let the WAL be truncated  # first and longest sleep between tries for a lock another process holds


class SQLiteStore(SqlStore):
    dialect = SQLITE
    local = True

    def __init__(self, path: str | Path, url: str | None = None) -> None:
        """`path` is a file (its folder is created) or ":memory:"."""
        super().__init__(url or f"sqlite:///{path}")
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = _connect(str(path))
        self.migrate()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def _transact(self, work: Callable[[Tx], T], write: bool) -> T:
        """Runs the transaction again while another process holds the lock (nothing of it was kept)."""
        deadline, pause = time.monotonic() + BUSY_TIMEOUT_MS / 1000, BUSY_RETRY[0]
        while True:
            try:
                return super()._transact(work, write)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreUnavailable("another process held the database's write lock too long") from exc
            time.sleep(pause)
            pause = min(pause * 2, BUSY_RETRY[1])

    def _begin(self, conn: sqlite3.Connection, write: bool) -> None:
        """Reads are one statement each (see `reads`), which SQLite already runs in one snapshot:
        a BEGIN and COMMIT around it would only cost two more calls into SQLite."""
        if write:
            conn.execute("BEGIN IMMEDIATE")

    def _lock_schema(self, tx: Tx) -> None:
        """Nothing more to do: migrate() writes, so its BEGIN IMMEDIATE already holds the file's write lock."""

    def _scrub(self, tables: tuple[str, ...]) -> None:
        """Deleted values are zeroed in the file as they go (secure_delete); the WAL still holds
        older copies of the pages, so it is checkpointed into the file and truncated to nothing.
        Another process reading at that moment holds the WAL: try again for a little while."""
        deadline = time.monotonic() + SCRUB_WAIT
        while True:
            with self._lock:
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()["busy"]
            if not busy or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: sqlite3 must not open transactions itself; _begin does it.
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)  # see SQLiteStore._transact
    conn.row_factory = _dict_row
    _use_wal(conn)  # readers don't block the writer, nor it them
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash may lose the last commits, never corrupt
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")  # what is deleted or overwritten is zeroed in the file, not left in free space
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. The switch needs a moment when no other process is in a transaction, and
    SQLite answers "locked" at once instead of waiting, so retry for the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
