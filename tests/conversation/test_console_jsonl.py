"""The console's JSON-lines contract, driven as outside evaluations drive it: a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_console(db: Path, lines: list[str], *extra: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "bot.py", "console", "--jsonl", "--db", str(db), "--date", "2026-11-22", *extra],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60, encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def ask(user: str, text: str) -> str:
    return json.dumps({"user": user, "text": text}, ensure_ascii=False)


def test_one_output_line_per_input_line(tmp_path: Path) -> None:
    out = run_console(tmp_path / "a.db", [ask("u1", "菜单"), ask("u2", "路费补多少"), "not json", ask("u1", "1")])
    assert [o["user"] for o in out] == ["u1", "u2", None, "u1"]


def test_replies_are_lists_of_text(tmp_path: Path) -> None:
    out = run_console(tmp_path / "a.db", [ask("u1", "娃读初中住校补多少")])
    assert out[0]["replies"] and all(isinstance(r, str) for r in out[0]["replies"])


def test_users_keep_separate_state(tmp_path: Path) -> None:
    out = run_console(tmp_path / "a.db", [ask("u1", "外出打工路费补多少"), ask("u2", "菜单"), ask("u1", "1")])
    assert "最高400元" in "\n".join(out[2]["replies"])


def test_a_new_process_continues_the_dialog(tmp_path: Path) -> None:
    db = tmp_path / "same.db"
    run_console(db, [ask("u1", "外出打工路费补多少")])
    out = run_console(db, [ask("u1", "3")])
    assert "最高100元" in "\n".join(out[0]["replies"])


def test_region_by_chinese_name(tmp_path: Path) -> None:
    out = run_console(tmp_path / "a.db", [ask("u1", "娃读初中住校补多少")], "--region", "博罗县")
    assert "博罗县" in "\n".join(out[0]["replies"])
