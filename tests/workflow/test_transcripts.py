"""Multi-user transcripts (tests/workflow/transcripts/*.yaml) replayed through the real Assistant.

Each file names its people (and their channel), the invite codes an admin made, and steps:
`<person>: <message>` with the substrings the reply must (`expect`) and must not (`absent`)
contain; `day:` (and `time:`) moves the clock; `pushes: <person>` runs the reminder scheduler
once and checks what that person was pushed; `restart: true` re-opens store and assistant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from tests.workflow.harness import World, run_step

FILES = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, store_url: str) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    world = World(store_url, region=script.get("region", "heqing"), day=dt.date.fromisoformat(str(script["date"])))
    try:
        for name, channel in (script.get("people") or {}).items():
            world.person(name, channel)
        for invite in script.get("invites") or []:
            world.store.create_invite(invite["role"], invite.get("villages", []), invite.get("region"), invite["code"])
        for number, step in enumerate(script["steps"], 1):
            run_step(world, step, f"{path.name} 第 {number} 步")
    finally:
        world.close()
