"""What the two-process dispatch test runs in each child (a module, so children can import it by name)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foundation.clock import Clock
from policy_kb.loader import default_kb
from reminders.scheduler import Scheduler
from storage.sqlstore import SqlStore
from tests.storage.storage_workers import CONTEXT, _child


class FilePusher:
    """Records each push as a line "<channel> <user> <text>" in its own file."""

    def __init__(self, path: Path) -> None:
        self.out = path.open("w", encoding="utf-8")

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        self.out.write(f"{channel} {user} {texts[0]}\n")
        return True


def dispatch_all(store: SqlStore, index: int, now: float, out_dir: str) -> int:
    """Runs the real scheduler once, without a cap: it dispatches until nothing due is left to claim."""
    pusher = FilePusher(Path(out_dir) / f"{index}.txt")
    report = Scheduler(store, default_kb(), pusher, worker=f"worker{index}", max_per_run=10**9, plan_every=0).run_once(now)
    pusher.out.close()
    return report.sent


# -- a dispatcher killed with SIGKILL mid-run (test_two_processes.py) ---------------------------
class ChannelFile:
    """A fake channel every process shares: a push is accepted when its line "<text> <pid> <time>" is in the file.

    Written with O_APPEND and no buffer, so what a SIGKILLed process pushed stays pushed. The
    process given `die_at` kills itself (SIGKILL) right after the channel accepted its die_at-th push,
    while the pushes of its other deliveries wait for their answer: killed between send and mark.
    With `idempotent`, the receiver shows the user a message once per key (a file made O_EXCL per key).
    """

    def __init__(self, out_dir: str, die_at: int | None = None, idempotent: bool = False) -> None:
        self.dir = Path(out_dir)
        self.fd = os.open(self.dir / "channel.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self.die_at = die_at
        if idempotent:
            self.idempotent = True  # the scheduler then passes a key per reminder
        self.pushes = 0

    async def send(self, channel: str, user: str, texts: list[str], key: str | None = None) -> str:
        if key is not None:
            try:
                os.close(os.open(self.dir / "shown" / key.replace(":", "_"), os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return f"m-{texts[0]}"  # a repeat of a key: the receiver drops it
        os.write(self.fd, f"{texts[0]} {os.getpid()} {time.time()}\n".encode())
        self.pushes += 1
        if self.die_at is not None and self.pushes >= self.die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        await asyncio.sleep(0.003)  # the channel's answer on its way
        return f"m-{texts[0]}"


def dispatch_until_settled(store: SqlStore, index: int, offset: float, out_dir: str, die_at: int | None, idempotent: bool,
                           lease: float) -> float:
    """Dispatches (Beijing time = wall time + offset) until no reminder is pending or being sent; returns when it ended (wall time).

    Process 0 dies at its `die_at`-th push.
    """
    pusher = ChannelFile(out_dir, die_at if index == 0 else None, idempotent)
    clock = Clock(lambda: time.time() + offset)
    run = Scheduler(store, default_kb(), pusher, worker=f"worker{index}", max_per_run=10**9, batch=40, lease_seconds=lease,
                    plan_every=0, clock=clock)
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        asyncio.run(run.dispatch(clock.now()))
        counts = store.reminder_counts()
        if not counts.get("pending") and not counts.get("sending"):
            break
        time.sleep(0.05)
    return time.time()


def race_with_kill(url: str, work: Callable[..., Any], *args: Any) -> tuple[int | None, int | None, Any]:
    """Runs work(store, index, *args) in two processes released together; process 0 is expected to SIGKILL itself.

    Returns (process 0's exit code, its pid, process 1's result).
    """
    barrier = CONTEXT.Barrier(2)
    results = CONTEXT.Queue()
    children = [CONTEXT.Process(target=_child, args=(url, work, index, args, barrier, results)) for index in range(2)]
    for child in children:
        child.start()
    try:
        index, ok, value = results.get(timeout=120)
    finally:
        for child in children:
            child.join(timeout=30)
    assert ok, value
    assert index == 1, f"process 0 was to die, yet it reported: {value}"
    return children[0].exitcode, children[0].pid, value
