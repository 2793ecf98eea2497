"""WeChat's side of the webhook, for tests and the benchmark.

`WeChatPeer` builds requests as WeChat's servers send them (signed; encrypted in safe
mode) and opens the replies. Run as a module it is the load generator of
bench/bench_wechat.py: `python -m bench.wechat_load URL --seconds 10 --connections 64
--api-port PORT` with WECHAT_TOKEN, WECHAT_APP_ID and WECHAT_AES_KEY set; it prints one
JSON line. On --api-port it also stands in for WeChat's API, which receives the second
and later parts of long answers as customer-service messages.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import statistics
import time
from typing import Any

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_fanpin_test"
QUESTIONS = (
    "初中住校补助多少",
    "高中助学金怎么申请",
    "残疾人护理补贴每月多少",
    "危房改造补助多少钱",
    "家庭医生签约怎么弄",
    "重度残疾人护理补贴多少",
    "公益岗位怎么申请",
    "外出务工交通补贴多少",
)


class WeChatPeer:
    def __init__(self, token: str, app_id: str = "", aes_key: str = "") -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    @staticmethod
    def xml(user: str, msg_type: str, create_time: int | None = None, **fields: Any) -> str:
        """A message or event as WeChat posts it; MsgId= and other fields go in as given."""
        items = {"ToUserName": ACCOUNT, "FromUserName": user, "CreateTime": create_time or int(time.time()), "MsgType": msg_type, **fields}
        body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in items.items())
        return f"<xml>{body}</xml>"

    def signature(self, timestamp: str, nonce: str, *extra: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce, *extra)
        return signer.signature

    def request(self, xml: str, user: str = "", timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """Query parameters and body for one POST; encrypted when the peer has an AES key."""
        ts, nonce = str(timestamp or int(time.time())), secrets.token_hex(5)
        query = {"signature": self.signature(ts, nonce), "timestamp": ts, "nonce": nonce, "openid": user}
        if self.crypto is None:
            return query, xml.encode()
        body = self.crypto.encrypt_message(xml, nonce, ts)
        query |= {"encrypt_type": "aes", "msg_signature": xmltodict.parse(body)["xml"]["MsgSignature"]}
        return query, body.encode()

    def open_reply(self, text: str) -> dict[str, Any] | None:
        """The reply's fields (Content…), or None for WeChat's "no reply" answers."""
        if text in ("", "success"):
            return None
        if self.crypto is not None:
            outer = xmltodict.parse(text)["xml"]
            text = self.crypto.decrypt_message(text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(text)["xml"]


def service_api(received: list[dict[str, Any]]) -> web.Application:
    """WeChat's token and customer-service endpoints, answering at once."""

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "BENCH-TOKEN", "expires_in": 7200})

    async def send(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/message/custom/send", send)
    return app


async def load(url: str, peer: WeChatPeer, seconds: float, connections: int, warmup: float, api_port: int = 0) -> dict[str, Any]:
    """Each connection posts distinct users' questions back to back; only the timed part counts."""
    service: list[dict[str, Any]] = []
    if api_port:
        runner = web.AppRunner(service_api(service), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", api_port).start()
    latencies: list[float] = []
    errors: list[str] = []
    ids = itertools.count(10**15)
    timing = False

    async def worker(session: aiohttp.ClientSession, deadline: float) -> None:
        while time.perf_counter() < deadline:
            n = next(ids)
            user = f"o_bench_{n}"
            query, body = peer.request(peer.xml(user, "text", Content=QUESTIONS[n % len(QUESTIONS)], MsgId=n), user)
            started = time.perf_counter()
            try:
                async with session.post(url, params=query, data=body) as response:
                    text = await response.text()
                    ok = response.status == 200 and (peer.open_reply(text) or {}).get("Content")
            except (aiohttp.ClientError, ValueError, KeyError) as exc:
                ok, text = False, repr(exc)
            if timing:
                latencies.append(time.perf_counter() - started)
                if not ok:
                    errors.append(text[:200])

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session, time.perf_counter() + warmup) for _ in range(connections)))
        timing = True
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, started + seconds) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    if api_port:
        await asyncio.sleep(0.5)  # customer-service parts of the last answers
        await runner.cleanup()
    latencies.sort()
    return {
        "messages": len(latencies),
        "seconds": round(elapsed, 2),
        "rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None,
        "service_messages": len(service),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="WeChat webhook load generator (loopback only)")
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--api-port", type=int, default=0, help="serve a stand-in WeChat API on 127.0.0.1:PORT")
    args = parser.parse_args()
    peer = WeChatPeer(os.environ["WECHAT_TOKEN"], os.environ.get("WECHAT_APP_ID", ""), os.environ.get("WECHAT_AES_KEY", ""))
    print(json.dumps(asyncio.run(load(args.url, peer, args.seconds, args.connections, args.warmup, args.api_port))))


if __name__ == "__main__":
    main()
