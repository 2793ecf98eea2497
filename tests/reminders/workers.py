"""What the two-process dispatch test runs in each child (a module, so children can import it by name)."""

from __future__ import annotations

from pathlib import Path

from policy_kb.loader import default_kb
from reminders.scheduler import Scheduler
from storage.sqlstore import SqlStore


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
