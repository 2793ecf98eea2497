"""A process killed (SIGKILL) while submitting never makes two applications nor loses one silently.

Each round, `bot.py console --jsonl` takes three users through the application flow and then gets
their three confirming "1" lines back to back; the process is killed after a random delay (0 to
5 ms), so kills land before, during and after the submissions, at different points for each
user. The next process answers each user's next message: it must say whether the application
was submitted, and the store must hold exactly that many (zero or one) applications for the user.
Confirming again then makes exactly one. Twelve submissions are interrupted in all.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.open import open_store

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4
USERS_PER_ROUND = 3
FLOW = ["申请纳入监测", "1", "张三", "金墩村", "13812345678", "跳过", "4", "2万", "1", "老伴住院"]


class Console:
    """`bot.py console --jsonl` as a child process, one reply line read per line written."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "bot.py", "console", "--jsonl", "--db", str(db), "--region", "鹤庆县", "--date", "2026-11-23"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def send(self, user: str, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"user": user, "text": text}, ensure_ascii=False) + "\n").encode())
        self.process.stdin.flush()

    def ask(self, user: str, text: str) -> str:
        self.send(user, text)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        assert ready, f"no reply to {text!r}"
        return "\n".join(json.loads(self.process.stdout.readline())["replies"])

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(timeout=30) == 0


def applications(db: Path, user: str) -> list[str]:
    with open_store(str(db)) as store:
        return [a.number for a in store.list_applications(user=("console", user))]


def check_after_crash(console: Console, db: Path, user: str) -> str:
    """The user's next message says what happened; the store agrees; a missing application can be confirmed again."""
    reply = console.ask(user, "我的申请到哪一步了")
    numbers = applications(db, user)
    assert len(numbers) <= 1, f"{user}: {numbers}"
    if numbers:
        assert numbers[0] in reply and "还没有提交" not in reply, reply
        return "submitted"
    assert "还没有提交" in reply, reply
    assert "申请已提交" in console.ask(user, "1")
    assert len(applications(db, user)) == 1
    return "not submitted"


def test_kill_during_submission(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(20261123)
    outcomes = []
    for round_ in range(ROUNDS + 1):
        console = Console(db)
        outcomes += [check_after_crash(console, db, f"u{round_ - 1}-{n}") for n in range(USERS_PER_ROUND) if round_]
        if round_ == ROUNDS:
            console.close()
            break
        users = [f"u{round_}-{n}" for n in range(USERS_PER_ROUND)]
        for user in users:
            for line in FLOW:
                console.ask(user, line)
        for user in users:
            console.send(user, "1")  # 确认提交
        time.sleep(rng.choice([0.0, rng.uniform(0, 0.002), rng.uniform(0, 0.005)]))  # the three take about 5 ms in all
        console.kill()
    # Whatever the kill interrupted, every user ends with exactly one application: none lost, none doubled.
    everyone = [f"u{r}-{n}" for r in range(ROUNDS) for n in range(USERS_PER_ROUND)]
    assert {user: len(applications(db, user)) for user in everyone} == dict.fromkeys(everyone, 1)
    assert set(outcomes) <= {"submitted", "not submitted"}
