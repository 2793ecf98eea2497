"""The WeChat adapter over real HTTP: wechatpy signs and encrypts as WeChat does, the real
server and Assistant answer, a loopback double stands in for WeChat's API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.base import ASK_TO_TYPE, UNSUPPORTED
from channels.server import start_server
from channels.wechat.config import WeChatConfig
from channels.wechat.menu import load_menu
from channels.wechat.webhook import MAX_BODY, WeChatAdapter
from conversation.messages import Reply
from tests.channels.channel_testkit import CHECK_STEPS, Counting, FakeWeChatAPI, check_answer, menu_number, serving
from tests.kit.wechat_peer import WeChatPeer

ROOT = Path(__file__).resolve().parents[3]
TOKEN, APP_ID, SECRET = "fanpin-token", "wx0123456789abcdef", "app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@dataclass
class WeChat:
    url: str
    peer: WeChatPeer
    adapter: WeChatAdapter
    api: FakeWeChatAPI
    http: aiohttp.ClientSession
    ids: list[int] = field(default_factory=lambda: [1000])

    def next_id(self) -> int:
        self.ids[0] += 1
        return self.ids[0]

    async def post(self, xml: str, user: str = "o_user", timestamp: int | None = None, **override: Any) -> tuple[int, str]:
        query, body = self.peer.request(xml, user, timestamp)
        query |= override.get("query", {})
        async with self.http.post(f"{self.url}/wechat", params=query, data=override.get("body", body)) as response:
            return response.status, await response.text()

    async def say(self, user: str, text: str) -> str:
        """Sends a text message; returns the passive reply's content ("" for "success")."""
        status, body = await self.post(self.peer.xml(user, "text", Content=text, MsgId=self.next_id()), user)
        assert status == 200, body
        return (self.peer.open_reply(body) or {}).get("Content", "")

    async def service_to(self, user: str, count: int, timeout: float = 5) -> list[str]:
        """The customer-service texts sent to `user`, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            texts = [m["text"]["content"] for m in self.api.service if m["touser"] == user]
            if len(texts) >= count or time.monotonic() > deadline:
                return texts
            await asyncio.sleep(0.02)


@asynccontextmanager
async def wechat(core: Counting, aes: bool = True, reply_window: float = 4.0, template_id: str = "", account_id: str = "") -> AsyncIterator[WeChat]:
    api = FakeWeChatAPI(APP_ID, SECRET)
    async with serving(api.app) as api_url, aiohttp.ClientSession() as http:
        config = WeChatConfig(token=TOKEN, app_id=APP_ID, app_secret=SECRET, aes_key=AES_KEY if aes else "",
                              api_base_url=f"{api_url}/cgi-bin/", template_id=template_id, account_id=account_id)
        adapter = WeChatAdapter(core, core.store, config, reply_window=reply_window)
        runner, port = await start_server([adapter], adapter.metrics, "127.0.0.1", 0)
        try:
            yield WeChat(f"http://127.0.0.1:{port}", WeChatPeer(TOKEN, APP_ID, AES_KEY if aes else ""), adapter, api, http)
        finally:
            await runner.cleanup()


def test_url_verification(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            ts, nonce = str(int(time.time())), "n0nce"
            good = {"signature": wx.peer.signature(ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "echo-123"}
            async with wx.http.get(f"{wx.url}/wechat", params=good) as response:
                assert (response.status, await response.text()) == (200, "echo-123")
            async with wx.http.get(f"{wx.url}/wechat", params=good | {"signature": "0" * 40}) as response:
                assert response.status == 403
            async with wx.http.get(f"{wx.url}/healthz") as response:
                assert await response.json() == {"status": "ok", "channels": ["wechat"]}

    asyncio.run(scenario())


@pytest.mark.parametrize("aes", [True, False], ids=["safe", "plaintext"])
def test_text_question_gets_an_amount(core: Counting, aes: bool) -> None:
    async def scenario() -> None:
        async with wechat(core, aes=aes) as wx:
            status, body = await wx.post(wx.peer.xml("o_a", "text", Content="初中住校补助多少", MsgId=1), "o_a")
            assert status == 200
            assert ("<Encrypt>" in body) is aes
            reply = wx.peer.open_reply(body)
            assert reply["ToUserName"] == "o_a" and reply["MsgType"] == "text"
            assert "元" in reply["Content"]
            assert len(reply["Content"].encode()) <= 2048

    asyncio.run(scenario())


def test_every_message_type(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            user, xml = "o_types", wx.peer.xml
            status, body = await wx.post(xml(user, "event", Event="subscribe", EventKey=""), user)
            welcome = wx.peer.open_reply(body)["Content"]
            menu = await wx.service_to(user, 1)
            assert "政策助手" in welcome and menu and "1." in menu[0]

            _, body = await wx.post(xml(user, "voice", MediaId="m1", Format="amr", Recognition="初中住校补助多少", MsgId=wx.next_id()), user)
            assert "元" in wx.peer.open_reply(body)["Content"]
            _, body = await wx.post(xml(user, "voice", MediaId="m2", Format="amr", MsgId=wx.next_id()), user)
            assert wx.peer.open_reply(body)["Content"] == ASK_TO_TYPE

            for key, command in load_menu()[1].items():
                _, body = await wx.post(xml(user, "event", Event="CLICK", EventKey=key, CreateTime=wx.next_id()), user)
                assert wx.peer.open_reply(body)["Content"], command
            assert [m.text for m, _ in core.steps if m.kind == "menu"] == list(load_menu()[1].values())

            others = [("image", {"PicUrl": "http://x/p.jpg", "MediaId": "i"}), ("location", {"Location_X": 23.1, "Location_Y": 113.3, "Scale": 20, "Label": "村委"}),
                      ("link", {"Title": "t", "Description": "d", "Url": "http://x"}), ("video", {"MediaId": "v", "ThumbMediaId": "t"}),
                      ("shortvideo", {"MediaId": "v", "ThumbMediaId": "t"}), ("miniprogrampage", {"Title": "t"}), ("hologram", {})]
            steps = len(core.steps)
            for msg_type, fields in others:
                _, body = await wx.post(xml(user, msg_type, MsgId=wx.next_id(), **fields), user)
                assert wx.peer.open_reply(body)["Content"] == UNSUPPORTED, msg_type
            assert len(core.steps) == steps  # nothing the assistant cannot read reaches the session

            assert await wx.post(xml(user, "event", Event="VIEW", EventKey="http://x"), user) == (200, "success")
            assert core.store.load_session("wechat", user)
            assert await wx.post(xml(user, "event", Event="unsubscribe", EventKey="", CreateTime=wx.next_id()), user) == (200, "success")
            assert core.steps[-1][0].kind == "unfollow"
            assert set(core.store.load_session("wechat", user)) <= {"updated"}  # the core forgot the user

    asyncio.run(scenario())


def test_forged_and_stale_requests_change_nothing(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            xml = wx.peer.xml("o_bad", "text", Content="你好", MsgId=77)
            forged = [
                await wx.post(xml, "o_bad", query={"signature": "f" * 40}),
                await wx.post(xml, "o_bad", query={"msg_signature": "f" * 40}),
                await wx.post(xml, "o_bad", timestamp=int(time.time()) - 301),
                await wx.post(xml, "o_bad", timestamp=int(time.time()) + 400),
                await wx.post(xml, "o_bad", query={"timestamp": "soon"}),
                await wx.post(xml, "o_bad", query={"encrypt_type": "raw"}, body=xml.encode()),
            ]
            assert [status for status, _ in forged] == [403] * len(forged)
            assert core.steps == [] and core.store.get_reply("wechat:msg:77") is None
            assert wx.adapter.metrics.count("messages", "wechat") == 0
            assert (await wx.post(xml, "o_bad", timestamp=int(time.time()) - 250))[0] == 200  # within 5 minutes

    asyncio.run(scenario())


def test_bad_bodies_are_400_before_parsing(core: Counting) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><ToUserName>gh</ToUserName><FromUserName>o_bad</FromUserName>'
              "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>5</MsgId></xml>")
    xxe = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh</ToUserName>'
           "<FromUserName>o_bad</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>6</MsgId></xml>")

    async def scenario() -> None:
        for aes in (True, False):
            async with wechat(core, aes=aes) as wx:
                bodies = [laughs, xxe, "<xml><MsgType>text</MsgType", "<xml></xml>", "<xml><Content>hi</Content></xml>", "", "not xml at all",
                          wx.peer.xml("o_bad", "text", Content="长" * (MAX_BODY // 3 + 10), MsgId=8)]
                for xml in bodies:
                    status, _ = await wx.post(xml, "o_bad")
                    assert status == 400, (aes, xml[:60])
                query, _ = wx.peer.request("<xml/>")  # raw plaintext DOCTYPE inside an otherwise signed safe-mode post
                async with wx.http.post(f"{wx.url}/wechat", params=query, data=laughs.encode()) as response:
                    assert response.status == 400
        assert core.steps == [] and core.store.load_session("wechat", "o_bad") is None

    asyncio.run(scenario())


def test_retried_message_gets_the_same_reply_from_one_step(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            xml = wx.peer.xml("o_dup", "text", Content="菜单", MsgId=4242)
            first, *retries = await asyncio.gather(*(wx.post(xml, "o_dup") for _ in range(3)))
            later = await wx.post(xml, "o_dup")
            texts = {wx.peer.open_reply(body)["Content"] for _, body in (first, *retries, later)}
            assert len(texts) == 1 and "\n1. " in texts.pop()
            assert [m.text for m, _ in core.steps] == ["菜单"]
            async with wx.http.get(f"{wx.url}/metrics") as response:
                metrics = await response.text()
            for line in ('fanpin_messages_total{channel="wechat"} 1', 'fanpin_duplicates_total{channel="wechat"} 3',
                         'fanpin_replies_total{channel="wechat"} 4', 'fanpin_reply_latency_seconds_bucket{channel="wechat",le="+Inf"} 1'):
                assert line in metrics.splitlines()
            assert core.store.load_session("wechat", "o_dup")

    asyncio.run(scenario())


def test_slow_step_is_delivered_by_customer_service_exactly_once(make_assistant) -> None:
    core = Counting(make_assistant(), delay=1.0)

    async def scenario() -> None:
        async with wechat(core, reply_window=0.2) as wx:
            xml = wx.peer.xml("o_slow", "text", Content="初中住校补助多少", MsgId=99)
            started = time.monotonic()
            assert await wx.post(xml, "o_slow") == (200, "success")
            assert time.monotonic() - started < 0.8
            assert await wx.post(xml, "o_slow") == (200, "success")  # WeChat's retry while the step still runs
            sent = await wx.service_to("o_slow", 1)
            await asyncio.sleep(0.3)
            assert len(sent) == 1 and "元" in sent[0]
            assert await wx.post(xml, "o_slow") == (200, "success")
            await asyncio.sleep(0.1)
            assert len(await wx.service_to("o_slow", 2, timeout=0.3)) == 1
            assert len(core.steps) == 1

    asyncio.run(scenario())


def test_household_check_result_is_split_without_loss(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            user = "o_long"
            reply = await wx.say(user, menu_number(await wx.say(user, "菜单"), "家庭核查"))
            for _ in range(CHECK_STEPS):
                reply = await wx.say(user, check_answer(reply, "\n1. " in reply))
                if "★" in reply:
                    break
            expected = [r.as_text() for r in core.steps[-1][1]]
            assert len(expected) > 1 and "元" in "".join(expected)
            assert [reply, *await wx.service_to(user, len(expected) - 1)] == expected
            assert all(len(text.encode()) <= 2048 for text in expected)

    asyncio.run(scenario())


def test_push_uses_customer_service_inside_48_hours_else_template(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core, template_id="TPL-1") as wx:
            await wx.say("o_recent", "你好")
            assert await wx.adapter.send_push("o_recent", [Reply("提醒：资助申请本月截止。")])
            assert wx.api.service[-1] == {"touser": "o_recent", "msgtype": "text", "text": {"content": "提醒：资助申请本月截止。"}}
            assert await wx.adapter.send_push("o_gone", [Reply("提醒：资助申请本月截止。")])
            assert wx.api.templates[-1]["touser"] == "o_gone" and wx.api.templates[-1]["template_id"] == "TPL-1"
            assert wx.api.templates[-1]["data"] == {"content": {"value": "提醒：资助申请本月截止。"}}
        async with wechat(core) as wx:
            assert not await wx.adapter.send_push("o_gone", [Reply("提醒")])

    asyncio.run(scenario())


CLIENT_SCRIPT = """
import sys
from channels.wechat.config import WeChatConfig
from channels.wechat.token import SharedTokenClient
from storage.open import open_store
config = WeChatConfig(token="t", app_id=sys.argv[1], app_secret=sys.argv[2], api_base_url=sys.argv[3])
client = SharedTokenClient(config, open_store(sys.argv[4]))
print(client.access_token)
client.message.send_text("o_proc", "来自进程")
"""


def test_processes_share_one_access_token_and_menu_is_published(db_url: str) -> None:
    async def scenario() -> None:
        api = FakeWeChatAPI(APP_ID, SECRET, token_delay=0.3)
        async with serving(api.app) as api_url:
            base = f"{api_url}/cgi-bin/"
            env = os.environ | {"PYTHONPATH": str(ROOT)}
            procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT_SCRIPT, APP_ID, SECRET, base, db_url,
                                                          cwd=ROOT, env=env, stdout=subprocess.PIPE) for _ in range(2)]
            outputs = [(await p.communicate())[0].decode().strip() for p in procs]
            assert [p.returncode for p in procs] == [0, 0]
            assert api.tokens == ["TOKEN-1"] and outputs == ["TOKEN-1", "TOKEN-1"]
            assert [m["text"]["content"] for m in api.service] == ["来自进程", "来自进程"]

            menu_env = env | {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": SECRET,
                              "WECHAT_API_BASE_URL": base, "DATABASE_URL": db_url}
            proc = await asyncio.create_subprocess_exec(sys.executable, "bot.py", "wechat", "menu", cwd=ROOT, env=menu_env, stdout=subprocess.PIPE)
            out = (await proc.communicate())[0].decode()
            assert proc.returncode == 0, out
            assert api.menus == [load_menu()[0]] and api.tokens == ["TOKEN-1"]

    asyncio.run(scenario())


def test_rejected_token_is_refreshed_once(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            core.store.kv_set(f"wechatpy:{APP_ID}_access_token", "STALE", 7200)
            wx.api.tokens.append("TOKEN-0")  # what WeChat considers current; ours is stale
            await wx.adapter.send_push("o_u", [Reply("你好")])  # no last-seen: outside the window, no template
            assert wx.api.service == []
            await wx.say("o_u", "你好")
            assert await wx.adapter.send_push("o_u", [Reply("你好")])
            assert len(wx.api.tokens) == 2 and wx.api.service[-1]["touser"] == "o_u"

    asyncio.run(scenario())


def test_config_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "wechat.yaml"
    path.write_text(f"WECHAT_TOKEN: from-file\nWECHAT_AES_KEY: {AES_KEY}\nWECHAT_APP_ID: {APP_ID}\n", encoding="utf-8")
    config = WeChatConfig.load(str(path), {"WECHAT_TOKEN": "from-env", "WECHAT_APP_SECRET": "s", "WECHAT_API_BASE_URL": "http://127.0.0.1:1/x"})
    assert (config.token, config.app_secret, config.aes_key, config.api_base_url) == ("from-file", "s", AES_KEY, "http://127.0.0.1:1/x/")
    path.write_text("WECHAT_TOKN: typo\n", encoding="utf-8")
    with pytest.raises(ValueError, match="WECHAT_TOKN"):
        WeChatConfig.load(str(path), {})
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        WeChatConfig.load(None, {})
