"""Bad console input gets a clear error and the process goes on (issue 13, point 13).

One `bot.py console --jsonl` process gets a lone surrogate in `user`, `"user": null`, a NUL and a
lone surrogate in the text, a number as text, then a plain question: every line gets its own
answer line, and the last one is answered as usual, on SQLite and on PostgreSQL (which refuses NUL
in text). A household file with `income_per_head: .nan` is refused with file, line and reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINES = [
    '{"user": "\\ud800x", "text": "你好"}',
    '{"user": null, "text": "你好"}',
    '{"user": "", "text": "你好"}',
    '{"user": "a", "text": "初中住校\\u0000补多少\\udc00"}',
    '{"user": "a", "text": 5}',
    '{"user": "b", "text": "初中住校补多少"}',
]


def test_every_line_gets_an_answer_and_the_next_user_is_served(store_url: str) -> None:
    run = subprocess.run([sys.executable, "bot.py", "console", "--jsonl", "--db", store_url, "--region", "鹤庆县"], cwd=ROOT,
                         input="\n".join(LINES) + "\n", capture_output=True, text=True, encoding="utf-8", errors="strict", timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(answers) == len(LINES), run.stdout
    assert [a["user"] for a in answers] == [None, None, None, "a", "a", "b"]
    assert all("user 不对" in a["replies"][0] for a in answers[:3])
    assert "750" in "\n".join(answers[3]["replies"]) and "出了点问题" not in "\n".join(answers[3]["replies"])
    assert "text 不对" in answers[4]["replies"][0]
    assert "750" in "\n".join(answers[5]["replies"])
    assert "Traceback" not in run.stderr


def test_a_household_file_with_nan_income_is_refused(tmp_path: Path) -> None:
    household = tmp_path / "nan.yaml"
    household.write_text("region: heqing\nincome_per_head: .nan\nmembers:\n  - {relation: 户主, age: 50}\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "bot.py", "entitlements", str(household)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert f"{household}:2" in run.stdout + run.stderr and "应为数字" in run.stdout + run.stderr
