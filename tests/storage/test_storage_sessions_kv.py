"""Sessions, message de-duplication, shared values with expiry, leases, reconnecting."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

import tests.storage.storage_workers as workers
from storage.open import open_store
from storage.sqlstore import MESSAGE_TTL, SqlStore


def test_session_round_trip(store: SqlStore) -> None:
    assert store.load_session("wechat", "u1") is None
    state = {"dialog": "apply", "answers": {"村": "河清村", "人口": 4}, "steps": [1, 2]}
    store.save_session("wechat", "u1", state)
    store.save_session("telegram", "u1", {"other": True})
    assert store.load_session("wechat", "u1") == state
    store.save_session("wechat", "u1", {"dialog": None})
    assert store.load_session("wechat", "u1") == {"dialog": None}
    store.delete_session("wechat", "u1")
    assert store.load_session("wechat", "u1") is None
    assert store.load_session("telegram", "u1") == {"other": True}


def test_a_session_and_a_reply_saved_together_stamp_the_users_last_message(store: SqlStore, clock) -> None:
    assert store.session_saved_at("wechat", "u1") is None
    store.save_session_and_reply("wechat", "u1", {"flow": {"id": "check"}}, "msg-7", ["好的"])
    assert (store.load_session("wechat", "u1"), store.get_reply("msg-7"), store.session_saved_at("wechat", "u1")) == (
        {"flow": {"id": "check"}}, ["好的"], clock())


def test_sqlite_writer_waits_out_another_processes_write_lock(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'shared.db'}")
    other = sqlite3.connect(tmp_path / "shared.db", isolation_level=None, check_same_thread=False)  # a second server process
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, other.execute, ["COMMIT"]).start()
    started = time.monotonic()
    store.kv_set("token", "abc")
    assert (store.kv_get("token"), time.monotonic() - started >= 0.25) == ("abc", True)
    store.close()
    other.close()


def test_claim_message_once_then_again_after_a_day(store: SqlStore, clock) -> None:
    assert store.claim_message("msg-1")
    assert not store.claim_message("msg-1")
    assert store.get_reply("msg-1") is None
    store.save_reply("msg-1", ["你好", {"type": "menu"}])
    assert store.get_reply("msg-1") == ["你好", {"type": "menu"}]
    clock.advance(MESSAGE_TTL + 1)
    assert store.get_reply("msg-1") is None
    assert store.claim_message("msg-1")  # expired keys can be claimed again (and get cleaned up)
    assert store.get_reply("msg-1") is None


def test_claim_message_exactly_once_across_processes(store_url: str, store: SqlStore) -> None:
    keys = [f"msg-{i}" for i in range(300)]
    first, second = workers.race(store_url, workers.claim_messages, keys)
    assert sorted(first + second) == sorted(keys)
    assert not set(first) & set(second)


def test_kv_values_expire(store: SqlStore, clock) -> None:
    assert store.kv_get("token") is None
    store.kv_set("token", "abc", ttl_seconds=7200)
    store.kv_set("forever", "x")
    clock.advance(7199)
    assert store.kv_get("token") == "abc"
    clock.advance(1)
    assert store.kv_get("token") is None
    store.kv_set("token", "def", ttl_seconds=10)
    assert store.kv_get("token") == "def"
    clock.advance(10**6)
    assert store.kv_get("forever") == "x"


def test_kv_lock_has_one_holder_until_unlock_or_expiry(store_url: str, store: SqlStore, clock) -> None:
    with open_store(store_url) as other:
        other.clock = clock
        assert store.kv_lock("refresh-token", 30)
        assert not store.kv_lock("refresh-token", 30)
        assert not other.kv_lock("refresh-token", 30)
        other.kv_unlock("refresh-token")  # not other's lease: no effect
        assert not other.kv_lock("refresh-token", 30)
        store.kv_unlock("refresh-token")
        assert other.kv_lock("refresh-token", 30)
        clock.advance(30)
        assert store.kv_lock("refresh-token", 30)  # other's lease ran out
        other.kv_unlock("refresh-token")  # too late: the lease is store's now
        assert not other.kv_lock("refresh-token", 30)


def test_kv_lock_one_winner_across_processes(store_url: str, store: SqlStore) -> None:
    keys = [f"lease-{i}" for i in range(100)]
    first, second = workers.race(store_url, workers.take_leases, keys)
    assert sorted(first + second) == sorted(keys)
    assert not set(first) & set(second)


def test_reconnects_once_when_the_connection_broke(store_url: str, store: SqlStore) -> None:
    if not store_url.startswith("postgresql://"):
        pytest.skip("only PostgreSQL connections break")
    store.kv_set("k", "before")
    pid = store._transact(lambda tx: tx.one("SELECT pg_backend_pid() AS pid"), write=False)["pid"]
    with psycopg.connect(store_url.split("?")[0], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert store.kv_get("k") == "before"
    store.kv_set("k", "after")
    assert store.kv_get("k") == "after"


def test_threads_share_one_store(store: SqlStore) -> None:
    keys = [f"msg-{i}" for i in range(200)]

    def work(thread: int) -> list[str]:
        claimed = [key for key in keys if store.claim_message(key)]
        store.save_session("wechat", f"t{thread}", {"claimed": len(claimed)})
        return claimed

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert sorted(key for claimed in results for key in claimed) == sorted(keys)
    assert sum(store.load_session("wechat", f"t{thread}")["claimed"] for thread in range(8)) == len(keys)
