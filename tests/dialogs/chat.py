"""A user talking to the real assistant over a real SQLite file, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dialogs.assistant import Assistant
from dialogs.messages import ChannelLimits, Incoming
from policy_kb.loader import default_kb
from storage.open import open_store

LIMITS = ChannelLimits(max_chars=4000)


class Clock:
    """A clock the test moves forward, for the 30-minute session timeout."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Chat:
    """A user talking to an assistant over a real SQLite file; `restart` re-opens both."""

    def __init__(self, db: Path, region: str | None = None, today: dt.date | None = None) -> None:
        self.db = db
        self.region = region
        self.today = today or dt.date(2026, 11, 22)
        self.clock = Clock()
        self.user = "villager-1"
        self.restart()

    def restart(self) -> None:
        self.assistant = Assistant(open_store(str(self.db)), kb=default_kb(), region=self.region, today=self.today, clock=self.clock)

    def say(self, text: str, kind: str = "text") -> str:
        replies = self.assistant.handle(Incoming("test", self.user, text, kind=kind), LIMITS)  # type: ignore[arg-type]
        return "\n".join(r.as_text() for r in replies)
