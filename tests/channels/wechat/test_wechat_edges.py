"""WeChat edge cases over real HTTP, signed (and encrypted) by wechatpy as WeChat does: nested
fields, events wechatpy does not know, events in the same second, subscribing by a scan, what a
refusal logs and counts, and the account a plaintext post is addressed to."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from storage.open import open_store
from tests.channels.channel_testkit import Counting
from tests.channels.wechat.test_wechat import wechat
from tests.kit.wechat_peer import ACCOUNT

LOGGER = "channels.wechat.webhook"


def metric_lines(text: str) -> set[str]:
    return set(text.splitlines())


async def metrics_of(wx) -> set[str]:
    async with wx.http.get(f"{wx.url}/metrics") as response:
        return metric_lines(await response.text())


def nested(xml: str, field: str, value: str) -> str:
    """The message with `field` holding child elements instead of its text."""
    start, end = xml.index(f"<{field}>"), xml.index(f"</{field}>") + len(f"</{field}>")
    return f"{xml[:start]}<{field}>{value}</{field}>{xml[end:]}"


@pytest.mark.parametrize("aes", [True, False], ids=["safe", "plaintext"])
def test_nested_fields_are_400_and_change_nothing(core: Counting, aes: bool) -> None:
    async def scenario() -> None:
        async with wechat(core, aes=aes) as wx:
            user = "o_nest"
            menu = await wx.say(user, "菜单")
            steps, session = len(core.steps), core.store.load_session("wechat", user)
            for field in ("FromUserName", "Content", "MsgId", "CreateTime", "MsgType", "ToUserName"):
                xml = nested(wx.peer.xml(user, "text", Content="你好", MsgId=wx.next_id()), field, "<a>1</a>")
                assert (await wx.post(xml, user))[0] == 400, field
            event = nested(wx.peer.xml(user, "event", Event="CLICK", EventKey="k", CreateTime=wx.next_id()), "EventKey", "<a>1</a>")
            assert (await wx.post(event, user))[0] == 400
            assert len(core.steps) == steps and core.store.load_session("wechat", user) == session
            assert 'fanpin_refused_total{channel="wechat",reason="bad_xml"} 7' in await metrics_of(wx)
            assert "\n1. " in menu

    asyncio.run(scenario())


UNKNOWN_EVENTS = {
    "subscribe_msg_popup_event": "<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[tpl]]></TemplateId>"
    "<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>",
    "subscribe_msg_change_event": "<SubscribeMsgChangeEvent><List><TemplateId><![CDATA[tpl]]></TemplateId>"
    "<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent>",
    "subscribe_msg_sent_event": "<SubscribeMsgSentEvent><List><TemplateId><![CDATA[tpl]]></TemplateId><MsgID>1</MsgID>"
    "<ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>",
    "PUBLISHJOBFINISH": "<PublishEventInfo><publish_id>1</publish_id><publish_status>0</publish_status>"
    "<article_id><![CDATA[a]]></article_id></PublishEventInfo>",
    "some_future_event": "",
}


def test_unknown_events_get_success_and_no_reply(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            for event, inner in UNKNOWN_EVENTS.items():
                xml = wx.peer.xml("o_evt", "event", Event=event, CreateTime=wx.next_id()).replace("</xml>", f"{inner}</xml>")
                assert await wx.post(xml, "o_evt") == (200, "success"), event
            assert core.steps == [] and core.store.load_session("wechat", "o_evt") is None
            assert await wx.service_to("o_evt", 1, timeout=0.2) == []

    asyncio.run(scenario())


def test_two_events_in_one_second_are_two_messages(core: Counting) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            user, second = "o_twice", int(time.time())
            first = await wx.post(wx.peer.xml(user, "event", second, Event="CLICK", EventKey="HOUSEHOLD_CHECK"), user)
            other = await wx.post(wx.peer.xml(user, "event", second, Event="CLICK", EventKey="HELP"), user)
            assert [m.text for m, _ in core.steps] == ["家庭核查", "帮助"]
            assert wx.peer.open_reply(first[1])["Content"] != wx.peer.open_reply(other[1])["Content"]
            retry = await wx.post(wx.peer.xml(user, "event", second, Event="CLICK", EventKey="HELP"), user)
            assert retry == other or wx.peer.open_reply(retry[1]) == wx.peer.open_reply(other[1])
            assert len(core.steps) == 2  # the same event again is a retry

    asyncio.run(scenario())


@pytest.mark.parametrize("key", ["qrscene_123", "scanbarcode|ean13|6901234567892", "scanimage|abc", "last_trade_no_4200", ""])
def test_subscribe_with_any_event_key_gets_the_welcome(core: Counting, key: str) -> None:
    async def scenario() -> None:
        async with wechat(core) as wx:
            xml = wx.peer.xml("o_scan", "event", Event="subscribe", EventKey=key, Ticket="TICKET")
            status, body = await wx.post(xml, "o_scan")
            assert status == 200 and "政策助手" in wx.peer.open_reply(body)["Content"]
            assert [m.kind for m, _ in core.steps] == ["follow"]

    asyncio.run(scenario())


def test_refusals_log_one_warning_and_are_counted(core: Counting, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    async def scenario() -> None:
        async with wechat(core, account_id=ACCOUNT) as wx:
            xml = wx.peer.xml("o_secret_user", "text", Content="秘密内容13800138000", MsgId=88)
            refusals = [
                ("signature", 403, {"query": {"signature": "f" * 40}}),
                ("signature", 403, {"query": {"msg_signature": "f" * 40}}),
                ("stale", 403, {"timestamp": int(time.time()) - 400}),
                ("not_encrypted", 403, {"query": {"encrypt_type": "raw"}, "body": xml.encode()}),
                ("bad_xml", 400, {"body": b"<xml><MsgType>text</MsgType"}),
                ("too_large", 400, {"body": b"x" * (70 * 1024)}),
                ("wrong_account", 403, {"xml": xml.replace(ACCOUNT, "gh_someone_else")}),
            ]
            for reason, status, how in refusals:
                caplog.clear()
                got, _ = await wx.post(how.pop("xml", xml), "o_secret_user", **how)
                assert got == status, reason
                lines = [r for r in caplog.records if r.name == LOGGER]
                assert len(lines) == 1 and lines[0].levelno == logging.WARNING, (reason, lines)
                text = lines[0].getMessage()
                assert reason in text and "o_secret_user" not in text and "秘密" not in text and "13800138000" not in text
            metrics = await metrics_of(wx)
            for reason, count in {"signature": 2, "stale": 1, "not_encrypted": 1, "bad_xml": 1, "too_large": 1, "wrong_account": 1}.items():
                assert f'fanpin_refused_total{{channel="wechat",reason="{reason}"}} {count}' in metrics, reason
            assert core.steps == [] and core.store.get_reply("wechat:msg:88") is None

    asyncio.run(scenario())


def test_a_500_is_logged_and_counted_as_an_error(make_assistant, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("a closed SQLite store is the failure this test provokes")
    core = Counting(make_assistant())

    async def scenario() -> None:
        async with wechat(core) as wx:
            assert "元" in await wx.say("o_err", "初中住校补助多少")
            core.store.close()  # the database is gone under the running server
            status, body = await wx.post(wx.peer.xml("o_err", "text", Content="你好", MsgId=wx.next_id()), "o_err")
            assert status == 500 and "Traceback" not in body
            assert 'fanpin_errors_total{channel="wechat"} 1' in await metrics_of(wx)
            assert any(r.levelno == logging.ERROR for r in caplog.records)

    asyncio.run(scenario())
    open_store(db_url).close()  # the file is intact


@pytest.mark.parametrize("aes", [True, False], ids=["safe", "plaintext"])
def test_message_to_another_account_is_refused(core: Counting, aes: bool) -> None:
    async def scenario() -> None:
        async with wechat(core, aes=aes, account_id=ACCOUNT) as wx:
            xml = wx.peer.xml("o_acct", "text", Content="初中住校补助多少", MsgId=9190)
            assert (await wx.post(xml.replace(ACCOUNT, "gh_other_account"), "o_acct"))[0] == 403
            assert core.steps == [] and core.store.load_session("wechat", "o_acct") is None
            assert core.store.get_reply("wechat:msg:9190") is None
            status, body = await wx.post(xml, "o_acct")
            assert status == 200 and "元" in wx.peer.open_reply(body)["Content"]
        async with wechat(core, aes=aes) as wx:  # not configured: any account
            xml = wx.peer.xml("o_acct2", "text", Content="初中住校补助多少", MsgId=9191).replace(ACCOUNT, "gh_other_account")
            assert (await wx.post(xml, "o_acct2"))[0] == 200

    asyncio.run(scenario())
