"""What the multi-process storage tests run in their child processes.

A separate module because child processes import the code they run by module name.
Children come from a forkserver: they share no database connection with the test process.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage.open import open_store
from storage.sqlstore import SqlStore

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["storage.open", "storage.postgres", "tests.storage.storage_workers"])


def race(url: str, work: Callable[..., Any], *args: Any, processes: int = 2) -> list[Any]:
    """Runs work(store, index, *args) in `processes` processes released together; returns their results by index."""
    barrier = CONTEXT.Barrier(processes)
    results = CONTEXT.Queue()
    children = [CONTEXT.Process(target=_child, args=(url, work, index, args, barrier, results)) for index in range(processes)]
    for child in children:
        child.start()
    outcomes: dict[int, tuple[bool, Any]] = {}
    deadline = time.monotonic() + 120
    while len(outcomes) < processes:
        try:
            index, ok, value = results.get(timeout=0.5)
            outcomes[index] = (ok, value)
        except queue.Empty:
            crashed = [child.exitcode for child in children if child.exitcode]  # died without reporting
            assert not crashed and time.monotonic() < deadline, f"child processes failed: exit codes {crashed}"
    for child in children:
        child.join(timeout=30)
    failures = [value for ok, value in outcomes.values() if not ok]
    assert not failures, "\n".join(failures)
    return [outcomes[index][1] for index in range(processes)]


def _child(url: str, work: Callable[..., Any], index: int, args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=60)  # open at the same moment: the migrations race too
        with open_store(url) as store:
            barrier.wait(timeout=60)
            results.put((index, True, work(store, index, *args)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


def open_only(store: SqlStore, index: int) -> int:
    return store.schema_version()


def claim_messages(store: SqlStore, index: int, keys: list[str]) -> list[str]:
    return [key for key in keys if store.claim_message(key)]


def take_leases(store: SqlStore, index: int, keys: list[str]) -> list[str]:
    return [key for key in keys if store.kv_lock(key, 60)]


def redeem_codes(store: SqlStore, index: int, codes: list[str]) -> list[str]:
    return [code for code in codes if store.redeem_invite(code, "wechat", f"cadre{index}")]


def submit(store: SqlStore, index: int, keys: list[str]) -> list[tuple[str, str, bool]]:
    results = []
    for key in keys:
        app, created = store.submit_application(key, {"name": f"申请人{key}", "by": index}, channel="wechat", user=f"u{key}")
        results.append((key, app.number, created))
    return results


def advance(store: SqlStore, index: int, numbers: list[str]) -> list[str]:
    return [number for number in numbers if store.transition(number, "submitted", "reviewing", f"cadre{index}", "checked")]


def deliver(store: SqlStore, index: int, now: float, out_dir: str) -> int:
    """Sends (records) due reminders until none are left to claim; each id sent goes on a line of out_dir/<index>.txt."""
    sent = 0
    with (Path(out_dir) / f"{index}.txt").open("w") as out:
        while batch := store.claim_due(now, 50, f"worker{index}"):
            for reminder in batch:
                out.write(f"{reminder.id}\n")
                store.mark_sent(reminder.id)
                sent += 1
    return sent
