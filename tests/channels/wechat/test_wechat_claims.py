"""A WeChat message claim is a lease: a process that claimed a message and died does not keep
it from being answered, and an owner that finishes after another process took over makes no
second answer visible. On both stores, over real HTTP with wechatpy-signed, encrypted XML."""

from __future__ import annotations

import asyncio
import time

from storage.open import open_store
from storage.sqlstore import CLAIM_LEASE
from tests.channels.channel_testkit import Counting
from tests.channels.wechat.test_wechat import wechat


def later(seconds: float):
    return lambda: time.time() + seconds


def test_claim_is_a_lease_with_an_owner(db_url: str) -> None:
    """Owner A claims and dies (never saves); B is refused during the lease and wins after it;
    A's late save changes nothing, B's does."""
    a, b = open_store(db_url), open_store(db_url)
    try:
        assert 0 < CLAIM_LEASE < 5  # shorter than WeChat's ~5 s between retries
        assert a.claim_message("wechat:msg:1")
        assert not b.claim_message("wechat:msg:1")  # A's lease still runs
        assert a.holds_message("wechat:msg:1") and not b.holds_message("wechat:msg:1")
        b.clock = later(CLAIM_LEASE + 0.5)
        assert b.claim_message("wechat:msg:1")  # A is gone: B takes it over
        assert not a.claim_message("wechat:msg:1")
        assert not a.holds_message("wechat:msg:1") and b.holds_message("wechat:msg:1")
        assert a.save_session_and_reply("wechat", "o_u", {"from": "a"}, "wechat:msg:1", ["A 的回答"]) is False
        assert a.get_reply("wechat:msg:1") is None and a.load_session("wechat", "o_u") is None
        assert b.save_session_and_reply("wechat", "o_u", {"from": "b"}, "wechat:msg:1", ["B 的回答"]) is True
        a.save_reply("wechat:msg:1", ["A 又一次"])
        assert a.get_reply("wechat:msg:1") == ["B 的回答"] and a.load_session("wechat", "o_u") == {"from": "b"}
        a.clock = later(2 * CLAIM_LEASE + 1)
        assert not a.claim_message("wechat:msg:1")  # answered: never claimed again (until the day is over)
        assert a.claim_message("wechat:msg:2") and a.save_session_and_reply("wechat", "o_v", {}, "wechat:msg:2", ["x"])
    finally:
        a.close()
        b.close()


def test_message_claimed_by_a_dead_process_is_answered_on_retry(core: Counting, db_url: str) -> None:
    dead = open_store(db_url)

    async def scenario() -> None:
        async with wechat(core, reply_window=2.0) as wx:  # a loaded machine still answers passively
            xml = wx.peer.xml("o_dead", "text", Content="初中住校补助多少", MsgId=5150)
            assert dead.claim_message("wechat:msg:5150")  # another process took it, then died
            assert await wx.post(xml, "o_dead") == (200, "success")  # inside its lease: not run twice
            assert core.steps == []
            core.store.clock = later(CLAIM_LEASE + 1)  # WeChat's next retry, after the lease
            status, body = await wx.post(xml, "o_dead")
            answer = wx.peer.open_reply(body)["Content"]
            assert status == 200 and "元" in answer and len(core.steps) == 1
            _, again = await wx.post(xml, "o_dead")
            assert wx.peer.open_reply(again)["Content"] == answer
            assert len(core.steps) == 1
            # the dead process was only slow: its late save shows nothing and keeps nothing
            assert not dead.save_session_and_reply("wechat", "o_dead", {"stale": True}, "wechat:msg:5150", ["迟到的回答"])
            assert core.store.get_reply("wechat:msg:5150") == [answer]
            assert core.store.load_session("wechat", "o_dead") != {"stale": True}

    try:
        asyncio.run(scenario())
    finally:
        dead.close()


def test_late_owner_sends_nothing_after_another_process_took_over(make_assistant, db_url: str) -> None:
    core = Counting(make_assistant(), delay=1.0)
    other = open_store(db_url)
    other.clock = later(CLAIM_LEASE + 1)  # the retry that reached the other process, after our lease

    async def scenario() -> None:
        async with wechat(core, reply_window=0.2) as wx:
            xml = wx.peer.xml("o_late", "text", Content="初中住校补助多少", MsgId=6160)
            assert await wx.post(xml, "o_late") == (200, "success")  # our step is slow: it would go by customer service
            await asyncio.sleep(0.1)
            assert other.claim_message("wechat:msg:6160")
            assert other.save_session_and_reply("wechat", "o_late", {"by": "other"}, "wechat:msg:6160", ["另一个进程的回答"])
            await asyncio.sleep(1.5)  # our step is done
            assert len(core.steps) == 1
            assert await wx.service_to("o_late", 1, timeout=0.5) == []  # the user got the other process's answer only
            assert other.get_reply("wechat:msg:6160") == ["另一个进程的回答"]
            assert other.load_session("wechat", "o_late") == {"by": "other"}

    try:
        asyncio.run(scenario())
    finally:
        other.close()
