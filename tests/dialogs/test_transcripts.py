"""Conversation transcripts (tests/dialogs/transcripts/*.yaml) replayed against the assistant.

Each step is a user line and the substrings its reply must (`expect`) and must not (`absent`)
contain; `restart: true` re-opens the assistant and store as a new process would, and
`wait_minutes` moves the clock (for the 30-minute timeout).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from tests.dialogs.chat import Chat

HERE = Path(__file__).parent / "transcripts"
FILES = sorted(HERE.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, tmp_path: Path) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    chat = Chat(tmp_path / "chat.db", region=script.get("region"), today=dt.date.fromisoformat(str(script.get("date", "2026-11-22"))))
    for number, step in enumerate(script["steps"], 1):
        if step.get("restart"):
            chat.restart()
        if "wait_minutes" in step:
            chat.clock.now += step["wait_minutes"] * 60
        if "user" not in step:
            continue
        reply = chat.say(str(step["user"]), kind=step.get("kind", "text"))
        where = f"{path.name} 第 {number} 步「{step['user']}」的回复：\n{reply}"
        for wanted in step.get("expect", []):
            assert str(wanted) in reply, f"缺少「{wanted}」。{where}"
        for unwanted in step.get("absent", []):
            assert str(unwanted) not in reply, f"不应出现「{unwanted}」。{where}"
