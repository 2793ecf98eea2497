"""PostgreSQL back end (psycopg 3), for several bot processes or hosts sharing one database.

Threads take connections from a small pool, one transaction per connection at a time (autocommit
off; commit or rollback at the end of each Store method). Isolation is READ COMMITTED: the shared
SQL only relies on single statements that check and change rows together, which PostgreSQL
re-checks against the newest row version when two transactions touch the same row.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.types.string import TextLoader

from .base import StoreUnavailable
from .sql import POSTGRES, Tx
from .sqlstore import SqlStore

log = logging.getLogger(__name__)
T = TypeVar("T")

POOL_SIZE = 8
MIGRATION_LOCK = 0x66616E70696E  # pg_advisory_xact_lock key ("fanpin"): one migrating process at a time
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PostgresStore(SqlStore):
    dialect = POSTGRES
    local = False

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        """`url` is a libpq URL; an extra `schema=name` query parameter puts all tables in that schema (created if missing)."""
        super().__init__(url)
        self._conninfo, self._schema = _conninfo(url)
        self._pool = _Pool(self._connect, pool_size)
        self.migrate()

    def _transact(self, work: Callable[[Tx], T], write: bool) -> T:
        try:
            return super()._transact(work, write)
        except psycopg.OperationalError as exc:  # the server is gone or the connection broke twice
            raise StoreUnavailable(str(exc)) from exc

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self._conninfo, autocommit=False, row_factory=dict_row)
        # JSONB comes back as text, as from SQLite, so the shared code decodes both the same way.
        conn.adapters.register_loader("jsonb", TextLoader)
        return conn

    def _connection(self) -> AbstractContextManager[psycopg.Connection]:
        return self._pool.connection()

    def _begin(self, conn: psycopg.Connection, write: bool) -> None:
        """Nothing to send: with autocommit off, psycopg opens the transaction at the first statement."""

    def _is_broken(self, conn: psycopg.Connection) -> bool:
        return conn.broken

    def _lock_schema(self, tx: Tx) -> None:
        # Transaction-scoped, so it is released by the migration's COMMIT or ROLLBACK, even if the process dies.
        tx.one("SELECT pg_advisory_xact_lock(?)", MIGRATION_LOCK)
        if self._schema:
            tx.run(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")  # a checked plain identifier, as in search_path

    def _scrub(self, tables: tuple[str, ...]) -> None:
        """Old row versions stay in the table files until a vacuum: VACUUM FULL writes each table
        anew (the old file is removed). The WAL still holds the values as they were written: a
        switch to a new segment and a checkpoint, twice, let the server drop the old segments, which
        it deletes (rather than keeping them for reuse, content and all) when `wal_recycle` is off.
        Switching and checkpointing need a superuser (or pg_checkpoint and EXECUTE on
        pg_switch_wal); without them the tables are still clean and a warning says what is left."""
        with self._connection() as conn:
            conn.autocommit = True
            try:
                for table in tables:
                    conn.execute(f"VACUUM FULL {table}")
                try:
                    # Twice: a segment still holding the last checkpoint's start is kept by the first round.
                    for statement in ("CHECKPOINT", "SELECT pg_switch_wal()", "CHECKPOINT", "SELECT pg_switch_wal()", "CHECKPOINT"):
                        conn.execute(statement)
                    recycled = conn.execute("SHOW wal_recycle").fetchone()["wal_recycle"] == "on"
                except psycopg.errors.InsufficientPrivilege:
                    recycled = True
                if recycled:
                    log.warning("deleted personal data may stay in PostgreSQL's old WAL segments until they are overwritten: "
                                "run the bot as a role that may CHECKPOINT and pg_switch_wal(), with wal_recycle = off (docs/privacy.md)")
            finally:
                conn.autocommit = False

    def close(self) -> None:
        self._pool.close()


class _Pool:
    """Up to `size` connections; a thread waits when all are in use. Broken ones are dropped, not reused."""

    def __init__(self, connect: Callable[[], psycopg.Connection], size: int) -> None:
        self._connect = connect
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            conn = conn or self._connect()
            try:
                yield conn
            finally:
                if conn.info.transaction_status == TransactionStatus.IDLE:
                    with self._lock:
                        self._idle.append(conn)
                else:  # broken, closed, or left mid-transaction by an error in rollback
                    conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _conninfo(url: str) -> tuple[str, str | None]:
    """libpq conninfo for the URL, whose `schema=name` (not a libpq parameter) becomes the search_path option."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    conninfo = urlunsplit(parts._replace(query=urlencode([(key, value) for key, value in query if key != "schema"])))
    if schema is None:
        return conninfo, None
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema must be a plain identifier, not {schema!r}")
    params = conninfo_to_dict(conninfo)
    params["options"] = f"{params.get('options', '')} -csearch_path={schema}".strip()  # keeps the URL's own options
    return make_conninfo(**params), schema
