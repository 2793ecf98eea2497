"""Another process holding SQLite's write lock does not stall the WeChat server: the message is
answered "success" inside WeChat's 5 s, /healthz stays fast, and the answer follows by customer
service once the lock is free. A real second process holds BEGIN IMMEDIATE on the real file."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from tests.channels.channel_testkit import Counting
from tests.channels.wechat.test_wechat import wechat

HOLD = 8.0
LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


def test_write_lock_of_another_process_does_not_stall_the_server(make_assistant, db_path: Path) -> None:
    core = Counting(make_assistant())

    async def scenario() -> None:
        async with wechat(core) as wx:
            assert "元" in await wx.say("o_warm", "初中住校补助多少")  # the file exists, in WAL mode
            locker = await asyncio.create_subprocess_exec(sys.executable, "-c", LOCKER, str(db_path), str(HOLD), stdout=asyncio.subprocess.PIPE)
            try:
                assert (await locker.stdout.readline()).strip() == b"locked"
                locked_at = time.monotonic()
                xml = wx.peer.xml("o_busy", "text", Content="初中住校补助多少", MsgId=7170)
                message = asyncio.ensure_future(wx.post(xml, "o_busy"))
                await asyncio.sleep(0.5)
                started = time.monotonic()
                async with wx.http.get(f"{wx.url}/healthz") as response:
                    assert response.status == 200
                assert time.monotonic() - started < 0.5  # the event loop is not waiting for the lock
                assert await message == (200, "success")
                assert time.monotonic() - locked_at < 5.0  # inside WeChat's window
                assert await wx.service_to("o_busy", 1, timeout=0.1) == []  # still locked
                sent = await wx.service_to("o_busy", 1, timeout=HOLD + 5)
                assert len(sent) == 1 and "元" in sent[0]  # delivered once the lock was free
                assert time.monotonic() - locked_at >= HOLD - 0.5
                assert [m.user for m, _ in core.steps] == ["o_warm", "o_busy"]
            finally:
                if locker.returncode is None:
                    await locker.wait()

    asyncio.run(scenario())
