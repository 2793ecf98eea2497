"""WeChat's side of the webhook, for tests and the benchmark.

`WeChatPeer` builds requests as WeChat's servers send them (signed; encrypted in safe
mode) and opens the replies. Run as a module it is the load generator of
bench/bench_wechat.py: `python -m bench.wechat_load URL [URL ...] --seconds 10
--connections 64 --api-port PORT` with WECHAT_TOKEN, WECHAT_APP_ID and WECHAT_AES_KEY set
(one URL per server process); it prints one JSON line. On --api-port it also stands in for WeChat's API, which receives the second
and later parts of long answers as customer-service messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import uvloop
from aiohttp import web

from tests.kit.wechat_peer import WeChatPeer

FIXED = (
    "初中住校补助多少",
    "高中助学金怎么申请",
    "残疾人护理补贴每月多少",
    "危房改造补助多少钱",
    "家庭医生签约怎么弄",
    "重度残疾人护理补贴多少",
    "公益岗位怎么申请",
    "外出务工交通补贴多少",
)
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
VARIANTS = ("{q}", "{q}？", "请问{q}", "{q}，谢谢", "问一下，{q}")


def varied(minimum: int = 1000) -> tuple[str, ...]:
    """At least `minimum` distinct questions: the tuning and held-out sets, each in a few of the
    ways people frame a question, so that nearly none is an understanding-cache hit."""
    import yaml

    base = [str(q["q"]) for q in yaml.safe_load((ROOT / "tests" / "data" / "questions.yaml").read_text(encoding="utf-8"))["questions"]]
    for path in sorted((ROOT / "tests" / "heldout").glob("*questions*.yaml")):
        base += [str(case["q"]) for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    texts = list(dict.fromkeys(v.format(q=q) for v in VARIANTS for q in dict.fromkeys(base)))
    assert len(texts) >= minimum, f"only {len(texts)} distinct questions"
    return tuple(texts)


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


@dataclass
class Exchange:
    """One prepared request and, once sent, what came back."""

    user: str
    head: bytes
    body: bytes
    status: int = 0
    reply: bytes = b""
    latency: float = 0.0


def prepare(peer: WeChatPeer, paths: list[str], count: int, first_id: int, questions: tuple[str, ...]) -> list[list[Exchange]]:
    """`count` signed, encrypted questions from distinct users, built before the clock starts
    so that the generator's own crypto does not take CPU from the server while it is timed.

    With several servers, each user's messages go to one of them, chosen by a hash of the
    openid, as nginx's `hash $arg_openid` does in docs/scaling.md: one list per server.
    """
    exchanges: list[list[Exchange]] = [[] for _ in paths]
    for n in range(first_id, first_id + count):
        user = f"o_bench_{n}"
        query, body = peer.request(peer.xml(user, "text", Content=questions[n % len(questions)], MsgId=n), user)
        server = zlib.crc32(user.encode()) % len(paths)
        head = f"POST {paths[server]}?{urlencode(query)} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        exchanges[server].append(Exchange(user, head.encode(), body))
    return exchanges


class KeepAliveConnection(asyncio.Protocol):
    """A minimal HTTP/1.1 client: one request at a time on one kept-alive connection.

    aiohttp's client costs about as much CPU per request as the server under test, on the
    same two cores; this one reads a status line, Content-Length and the body, nothing more.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.done: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.done is None:
            return
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in head if line.lower().startswith("content-length:")), 0)
        if len(self.buffer) < end + 4 + length:
            return
        body, self.buffer = self.buffer[end + 4:end + 4 + length], self.buffer[end + 4 + length:]
        done, self.done = self.done, None
        done.set_result((int(head[0].split()[1]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(exc or "closed by the server"))

    async def send(self, exchange: Exchange) -> None:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        self.transport.write(exchange.head + exchange.body)
        exchange.status, exchange.reply = await self.done
        exchange.latency = time.perf_counter() - started


def check(peer: WeChatPeer, exchange: Exchange) -> str:
    """Why a reply is wrong ("" if it is right): it must be 200, decrypt, and answer the sender."""
    if exchange.status != 200:
        return f"HTTP {exchange.status}: {exchange.reply[:200]!r}"
    try:
        reply = peer.open_reply(exchange.reply.decode())
    except Exception as exc:  # noqa: BLE001 (any failure to open the reply is the finding)
        return f"unreadable reply {exc!r}: {exchange.reply[:200]!r}"
    if not reply or reply.get("ToUserName") != exchange.user or not reply.get("Content"):
        return f"not an answer to {exchange.user}: {reply!r:.200}"
    return ""


async def load(urls: list[str], peer: WeChatPeer, seconds: float, connections: int, warmup: float,
               api_port: int = 0, max_rate: int = 5000, questions: tuple[str, ...] = FIXED) -> dict[str, Any]:
    """Each connection posts distinct users' questions back to back; only the timed part counts.
    The connections are shared out evenly between the servers (`urls`).

    Every reply, timed or not, is decrypted and checked after the run.
    """
    service: list[dict[str, Any]] = []
    if api_port:
        runner = web.AppRunner(service_api(service), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", api_port).start()
    targets = [urlsplit(url) for url in urls]
    paths = [target.path for target in targets]
    warm = prepare(peer, paths, int(max_rate * warmup), 10**15, questions)
    timed = prepare(peer, paths, int(max_rate * seconds), 10**15 + int(max_rate * warmup), questions)
    loop = asyncio.get_running_loop()
    pool = [(i % len(targets), (await loop.create_connection(KeepAliveConnection, targets[i % len(targets)].hostname,
                                                             targets[i % len(targets)].port))[1]) for i in range(connections)]

    async def run(exchanges: list[list[Exchange]], duration: float) -> tuple[list[Exchange], float, bool]:
        """What was sent, in how long, and whether prepared requests ran out before the end."""
        queues = [iter(server_exchanges) for server_exchanges in exchanges]
        sent: list[Exchange] = []
        started = time.perf_counter()
        deadline = started + duration
        ran_out = False

        async def worker(server: int, connection: KeepAliveConnection) -> None:
            nonlocal ran_out
            while time.perf_counter() < deadline:
                exchange = next(queues[server], None)
                if exchange is None:
                    ran_out = True
                    return
                sent.append(exchange)
                await connection.send(exchange)

        await asyncio.gather(*(worker(server, connection) for server, connection in pool))
        return sent, time.perf_counter() - started, ran_out

    await run(warm, warmup)
    cpu_before = time.process_time()
    sent, elapsed, ran_out = await run(timed, seconds)
    cpu = time.process_time() - cpu_before
    for _, connection in pool:
        assert connection.transport is not None
        connection.transport.close()
    if api_port:
        await asyncio.sleep(0.5)  # customer-service parts of the last answers
        await runner.cleanup()
    errors = [e for e in (check(peer, exchange) for exchange in sent) if e]
    if ran_out:
        errors.append(f"ran out of prepared requests after {len(sent)}: raise --max-rate")
    latencies = sorted(exchange.latency for exchange in sent)
    return {
        "messages": len(sent),
        "seconds": round(elapsed, 2),
        "rate": round(len(sent) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None,
        "generator_cpu_ms_per_message": round(cpu * 1000 / max(len(sent), 1), 3),
        "service_messages": len(service),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="WeChat webhook load generator (loopback only)")
    parser.add_argument("urls", nargs="+", metavar="URL", help="the /wechat address of each server process")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--api-port", type=int, default=0, help="serve a stand-in WeChat API on 127.0.0.1:PORT")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop, as the server does")
    parser.add_argument("--max-rate", type=int, default=5000, help="requests prepared per second of the run")
    parser.add_argument("--questions", choices=("varied", "fixed"), default="varied",
                        help="varied: ≥1,000 distinct questions (the headline); fixed: 8 repeated ones (mostly cache hits)")
    args = parser.parse_args()
    peer = WeChatPeer(os.environ["WECHAT_TOKEN"], os.environ.get("WECHAT_APP_ID", ""), os.environ.get("WECHAT_AES_KEY", ""))
    if args.uvloop:
        uvloop.install()
    questions = varied() if args.questions == "varied" else FIXED
    print(json.dumps(asyncio.run(load(args.urls, peer, args.seconds, args.connections, args.warmup, args.api_port, args.max_rate,
                                      questions)) | {"distinct_questions": len(questions)}))


if __name__ == "__main__":
    main()
