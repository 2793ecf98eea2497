"""Opening a store: URLs, migrations (idempotent, safe when processes open at once), SQL translation."""

from __future__ import annotations

import inspect
import re

import pytest

import tests.storage.storage_workers as workers
from storage import open as store_open
from storage.base import Store
from storage.open import open_store
from storage.sql import POSTGRES, SQLITE, migrations, split_statements
from storage.sqlite import SQLiteStore
from storage.sqlstore import SqlStore

LATEST = max(m.version for m in migrations())


def test_migrations_are_idempotent(store_url: str) -> None:
    with open_store(store_url) as first:
        assert first.schema_version() == LATEST
        assert first.migrate() == []
    with open_store(store_url) as again:
        assert again.migrate() == []
        assert again.schema_version() == LATEST


def test_processes_opening_a_new_database_at_once_migrate_it_once(store_url: str) -> None:
    assert workers.race(store_url, workers.open_only, processes=3) == [LATEST] * 3


def test_migration_files_are_numbered_and_split_into_statements() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(m.statements for m in found)
    assert split_statements("-- note; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE TABLE b (y TEXT);\n-- end\n") == [
        "-- note; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE TABLE b (y TEXT);",
    ]


def test_shared_sql_is_translated_per_dialect() -> None:
    text = "SELECT data FROM t WHERE a = ? AND b LIKE '5%' LIMIT ?{skip_locked} -- {json}"
    assert SQLITE.sql(text) == "SELECT data FROM t WHERE a = ? AND b LIKE '5%' LIMIT ? -- TEXT"
    assert POSTGRES.sql(text) == "SELECT data FROM t WHERE a = %s AND b LIKE '5%%' LIMIT %s FOR UPDATE SKIP LOCKED -- JSONB"


def test_open_store_sqlite_urls(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(store_open, "DEFAULT_SQLITE", tmp_path / "data" / "assistant.db")
    for url, path in [
        (None, tmp_path / "data" / "assistant.db"),
        (str(tmp_path / "plain.db"), tmp_path / "plain.db"),
        (f"sqlite:///{tmp_path}/nested/url.db", tmp_path / "nested" / "url.db"),
    ]:
        with open_store(url) as store:
            assert isinstance(store, SQLiteStore)
            store.kv_set("k", "v")
        assert path.exists()
    monkeypatch.setenv("DATABASE_URL", str(tmp_path / "env.db"))
    open_store().close()
    assert (tmp_path / "env.db").exists()
    with open_store("sqlite:///:memory:") as memory:
        memory.kv_set("k", "v")
        assert memory.kv_get("k") == "v"
    for bad in ("sqlite://relative.db", "mysql://host/db"):
        with pytest.raises(ValueError):
            open_store(bad)


def test_open_store_postgres_scheme_alias_and_schema_check(store_url: str) -> None:
    if not store_url.startswith("postgresql://"):
        pytest.skip("PostgreSQL URL forms")
    from storage.postgres import PostgresStore

    with open_store(store_url.replace("postgresql://", "postgres://", 1)) as store:
        assert isinstance(store, PostgresStore)
        assert store.schema_version() == LATEST
    with pytest.raises(ValueError):
        open_store(re.sub(r"schema=\w+", "schema=bad;name", store_url))


def test_store_has_every_protocol_method_with_its_signature(store: SqlStore) -> None:
    for name, declared in vars(Store).items():
        if callable(declared) and not name.startswith("_"):
            implemented = inspect.signature(getattr(store, name))
            expected = inspect.signature(declared)
            assert list(implemented.parameters) == list(expected.parameters)[1:], name  # [1:]: self is bound
            assert implemented.return_annotation == expected.return_annotation, name
    assert isinstance(store.url, str)
