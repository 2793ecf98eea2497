"""WeChat Official Account (微信公众号) webhook, on wechatpy: signed XML in, passive replies out.

Inbound: WeChat POSTs signed XML to /wechat (encrypted in safe mode) and waits 5 s for a
passive reply, retrying three times. Choices made here, each for a reason:

* Signatures: `signature` is checked on every request, `msg_signature` too in safe mode
  (safe mode = WECHAT_AES_KEY set; then plaintext posts are refused). A timestamp more
  than 5 minutes from our clock is refused as stale: WeChat's retries all come within
  about 15 s, and a replayed capture is only useful inside that window. Refusals are 403
  and touch nothing.
* Bodies over 64 KB, XML with a DOCTYPE or ENTITY (billion laughs, XXE) and XML that does
  not parse are 400, checked before anything is stored.
* Retries: the first request claims its MsgId (events: FromUserName + CreateTime) in the
  store, which every server process shares; a retry never runs the step again, it waits
  for the first one's saved answer and repeats it.
* The 5 s window: a step not done after `reply_window` (4 s) is answered "success" at
  once, and its replies follow as customer-service messages when ready (channels/wechat/sender.py).
* A passive reply holds 2,048 bytes: the core splits to that size; the first part is the
  passive reply and later parts go out as customer-service messages right after it.
"""

from __future__ import annotations

import asyncio
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import BaseEvent
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage, TextMessage, VoiceMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.base import Adapter, Core
from channels.metrics import Metrics
from channels.wechat.config import WeChatConfig
from channels.wechat.menu import load_menu
from channels.wechat.sender import Sender
from conversation.messages import ChannelLimits, Incoming, Reply
from conversation.session import Turn as SessionTurn
from storage.base import KVStore, SessionStore

MAX_BODY = 64 * 1024
MAX_CLOCK_SKEW = 300
REPLY_WINDOW = 4.0
POLL = 0.05
UNSAFE_XML = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
BAD_XML = (ExpatError, ElementTree.ParseError, KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error)
EVENT_KINDS = {"subscribe": "follow", "subscribe_scan": "follow", "unsubscribe": "unfollow", "click": "menu"}
SILENT_EVENTS = ("unfollow",)  # the user is gone: nothing can be delivered

T = TypeVar("T")


class StoreLike(SessionStore, KVStore):
    """What the webhook reads itself: the replies kept for retries, the shared token; `local` says
    whether calls are cheap enough for the event loop."""

    local: bool


@dataclass
class Turn:
    """One message on its way through `_answer`. Whichever comes first decides what the
    passive answer is: the step's replies (`answered`), or "success" at the end of the
    window (`late`, the replies then go by customer service)."""

    incoming: Incoming
    received: float
    late: bool = False
    answered: bool = False


class WeChatAdapter(Adapter):
    channel = "wechat"
    limits = ChannelLimits(max_chars=2048, max_bytes=2048, buttons=False)

    def __init__(
        self,
        core: Core,
        store: StoreLike,
        config: WeChatConfig,
        metrics: Metrics | None = None,
        reply_window: float = REPLY_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(core, metrics)
        self.store = store
        self.config = config
        self.reply_window = reply_window
        self.clock = clock
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        self.sender = Sender(config, store, self.metrics, self.channel, core, clock, self._store_call)
        self.menu_commands = load_menu()[1]

    def routes(self) -> list[Any]:
        return [web.get("/wechat", self.verify), web.post("/wechat", self.receive)]

    async def stop(self) -> None:
        """Lets replies still on their way (slow steps, extra parts) go out."""
        await self.sender.stop()

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        return await self.sender.send_push(user, replies)

    # -- HTTP ---------------------------------------------------------------------------
    async def verify(self, request: web.Request) -> web.Response:
        """The URL check WeChat does when the server address is saved in its console."""
        if not self._signed(request.query):
            return web.Response(status=403, text="forbidden")
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.StreamResponse:
        started = self.clock()
        body = await self._read_body(request)
        if body is None:
            return web.Response(status=400, text="body too large")
        query = request.query
        if not self._signed(query):
            return web.Response(status=403, text="forbidden")
        if self.crypto and (query.get("encrypt_type") != "aes" or "msg_signature" not in query):
            return web.Response(status=403, text="safe mode requires encrypted messages")
        try:
            msg = self._parse(body, query)
            incoming = self._incoming(msg)
        except (InvalidSignatureException, InvalidAppIdException):
            return web.Response(status=403, text="forbidden")
        except BAD_XML:
            return web.Response(status=400, text="bad xml")
        if incoming is None:
            return web.Response(text="success")
        passive, pending = await self._answer(incoming, started + self.reply_window)
        response = web.Response(text="success") if passive is None else self._render(msg, passive, query)
        await response.prepare(request)
        await response.write_eof()
        if passive is not None:
            self.metrics.inc("replies", self.channel)
        if pending is not None:
            self.sender.deliver(incoming.user, pending, sent=0 if passive is None else 1)
        return response

    @staticmethod
    async def _read_body(request: web.Request) -> bytes | None:
        """The body, or None past MAX_BODY; never reads more than that."""
        if (request.content_length or 0) > MAX_BODY:
            return None
        body = b""
        while len(body) <= MAX_BODY:
            chunk = await request.content.read(MAX_BODY + 1 - len(body))
            if not chunk:
                return body
            body += chunk
        return None

    def _signed(self, query: Mapping[str, str]) -> bool:
        try:
            timestamp = int(query.get("timestamp", ""))
            check_signature(self.config.token, query.get("signature", ""), str(timestamp), query.get("nonce", ""))
        except (ValueError, InvalidSignatureException):
            return False
        return abs(self.clock() - timestamp) <= MAX_CLOCK_SKEW

    def _parse(self, body: bytes, query: Mapping[str, str]) -> BaseMessage:
        """Decrypts (safe mode) and parses, refusing DOCTYPE/ENTITY before any parser runs."""
        if UNSAFE_XML.search(body):
            raise ValueError("DOCTYPE or ENTITY")
        xml = body.decode()
        if self.crypto:
            encrypted = {"Encrypt": ElementTree.fromstring(body).findtext("Encrypt")}
            xml = self.crypto.decrypt_message(encrypted, query["msg_signature"], query["timestamp"], query.get("nonce", ""))
            if UNSAFE_XML.search(xml.encode()):
                raise ValueError("DOCTYPE or ENTITY")
        msg = parse_message(xml)
        if msg is None or not msg.source:
            raise ValueError("no message or no sender")
        return msg

    def _render(self, msg: BaseMessage, text: str, query: Mapping[str, str]) -> web.Response:
        xml = TextReply(source=msg.target, target=msg.source, content=text).render()
        if self.crypto:
            xml = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp"))
        return web.Response(text=xml, content_type="application/xml")

    # -- messages -----------------------------------------------------------------------
    def _incoming(self, msg: BaseMessage) -> Incoming | None:
        """The neutral message, or None for events that need no answer (menu links, scans).

        Its message_id is the de-duplication key: MsgId, or sender and time for events.
        """
        user = msg.source
        msg_id = f"wechat:msg:{msg.id}" if msg.id else f"wechat:event:{user}:{msg.time}"
        if isinstance(msg, BaseEvent):
            kind = EVENT_KINDS.get(msg.event)
            if kind is None:
                return None
            text = self.menu_commands.get(msg.key, "菜单") if kind == "menu" else ""
            return Incoming(self.channel, user, text, kind, msg_id)
        if isinstance(msg, TextMessage):
            return Incoming(self.channel, user, msg.content, "text", msg_id)
        if isinstance(msg, VoiceMessage):
            return Incoming(self.channel, user, msg.recognition or "", "voice", msg_id)
        return Incoming(self.channel, user, msg.type, "other", msg_id)

    async def _answer(self, incoming: Incoming, deadline: float) -> tuple[str | None, asyncio.Future[list[Reply] | None] | None]:
        """The passive reply (None: answer "success"), and the step if it has more to send.

        If the step outlives the window, "success" goes out now and the step's replies
        follow by customer service.
        """
        turn = Turn(incoming, time.perf_counter())
        step = asyncio.ensure_future(self._turn(turn))
        try:
            replies = await asyncio.wait_for(asyncio.shield(step), max(deadline - self.clock(), 0))
        except TimeoutError:
            if not turn.answered:
                turn.late = True
                return None, step
            replies = await step  # its passive answer is being saved: give that one
        if replies is None:
            self.metrics.inc("duplicates", self.channel)
            return await self._saved_answer(incoming.message_id, deadline), None
        passive = self._passive(incoming, replies)
        return (passive[0] if passive else None), (step if passive and len(replies) > 1 else None)

    async def _turn(self, turn: Turn) -> list[Reply] | None:
        """Claims the message, runs the step, has the core save the session with the passive
        answer ([text], or [] for "success"), so a retry can repeat it exactly. None for a retry.

        Only the step runs in a worker thread. With a local store (SQLite) the claim (with the
        session load) and the save are made on the event loop: a trip to a worker thread costs
        more than they do, and the worker thread then never waits for the GIL around SQLite
        calls. A retry waits here behind its first request (same user).
        """
        incoming = turn.incoming
        async with self.user_locks.hold(incoming.user):
            claimed: SessionTurn | None = await self._store_call(self.core.claim, incoming)
            if claimed is None:
                return None
            replies = await self._offload(self.respond, incoming, turn.received, claimed)
            turn.answered = not turn.late
            passive = self._passive(incoming, replies) if turn.answered else []
            await self._store_call(self.core.finish, claimed, passive)
        return replies

    @staticmethod
    def _passive(incoming: Incoming, replies: list[Reply]) -> list[str]:
        return [] if incoming.kind in SILENT_EVENTS or not replies else [replies[0].as_text()]

    async def _saved_answer(self, key: str, deadline: float) -> str | None:
        """A retry's answer: the first request's, once saved; "success" if it never shows."""
        while True:
            saved = await self._store_call(self.store.get_reply, key)
            if saved is not None:
                return saved[0] if saved else None
            if self.clock() >= deadline:
                return None
            await asyncio.sleep(POLL)

    @staticmethod
    async def _offload(func: Callable[..., T], *args: Any) -> T:
        """Steps, store and API calls block (CPU, PostgreSQL, HTTP): keep them off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def _store_call(self, func: Callable[..., T], *args: Any) -> T:
        """A store call: on the loop for a local store, in a worker thread otherwise."""
        return func(*args) if self.store.local else await self._offload(func, *args)
