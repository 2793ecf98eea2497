"""WeChat Official Account (微信公众号) webhook, on wechatpy: signed XML in, passive replies out.

Inbound: WeChat POSTs signed XML to /wechat (encrypted in safe mode) and waits 5 s for a
passive reply, retrying three times. Choices made here, each for a reason:

* Signatures: `signature` is checked on every request, `msg_signature` too in safe mode
  (safe mode = WECHAT_AES_KEY set; then plaintext posts are refused). A timestamp more
  than 5 minutes from our clock is refused as stale: WeChat's retries all come within
  about 15 s, and a replayed capture is only useful inside that window. With
  WECHAT_ACCOUNT_ID set, a message addressed (ToUserName) to another account is refused
  too (safe mode also checks the AppID inside the ciphertext). Refusals are 403 and touch nothing.
* Bodies over 64 KB, XML with a DOCTYPE or ENTITY (billion laughs, XXE), XML that does
  not parse and fields we read that hold elements instead of text (or come twice) are 400,
  checked before anything is stored. Every refusal logs one WARNING line (the reason, no
  body, no user) and counts in /metrics as refused_total{reason=…}.
* Events: subscribe (with any EventKey: a QR code, a product scan) is a follow, unsubscribe
  an unfollow, CLICK a menu command; every other event, known to wechatpy or not, is
  answered "success" and reaches no one.
* Retries: the first request claims its MsgId (events: FromUserName, CreateTime, Event,
  EventKey and MsgID) in the store, which every server process shares; a retry never runs
  the step again, it waits for the first one's saved answer and repeats it. The claim is a
  short lease (storage: claim_message): a retry after a process died with the message runs it.
* The 5 s window: a step not done after `reply_window` (4 s) is answered "success" at
  once, and its replies follow as customer-service messages when ready (channels/wechat/sender.py).
  The claim, the step and the save all run in a worker thread, never on the event loop: a
  database that makes them wait (another process holding SQLite's write lock) delays only
  that message, which then goes by customer service, while /healthz and everyone else go on.
* A passive reply holds 2,048 bytes: the core splits to that size; the first part is the
  passive reply and later parts go out as customer-service messages right after it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_CLOCK_SKEW = 300
REPLY_WINDOW = 4.0
SAVE_GRACE = 0.5  # an answered step's save may take this much past the window (WeChat waits 5 s) before the answer goes without it
POLL = 0.05
UNSAFE_XML = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
BAD_XML = (ExpatError, ElementTree.ParseError, KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error)
EVENT_KINDS = {"subscribe": "follow", "unsubscribe": "unfollow", "click": "menu"}  # raw Event, lower case; any other event: "success"
SILENT_EVENTS = ("unfollow",)  # the user is gone: nothing can be delivered
# The fields read from a message: each must be plain text, once. (Others may nest: event details.)
TEXT_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgID", "Content", "Event", "EventKey", "Recognition")

T = TypeVar("T")


class UnsafeXML(ValueError):
    """A DOCTYPE or ENTITY: refused before any parser runs."""


class StoreLike(SessionStore, KVStore):
    """What the webhook reads itself: the replies kept for retries, whether a late claim still
    stands, the shared token."""


@dataclass
class Turn:
    """One message on its way through `_answer`. Whichever comes first decides what the
    passive answer is: the step's replies (`answered`, from the worker thread), or "success"
    at the end of the window (`late`, from the event loop; the replies then go by customer
    service). The lock makes that one decision."""

    incoming: Incoming
    received: float
    late: bool = False
    answered: bool = False
    passive: list[str] = field(default_factory=list)
    _decide: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, passive: list[str]) -> bool:
        """The step is done: its first reply is the passive answer, unless the window already closed."""
        with self._decide:
            if not self.late:
                self.answered, self.passive = True, passive
            return self.answered

    def give_up(self) -> bool:
        """The window closed: "success" now, unless the step already answered."""
        with self._decide:
            if not self.answered:
                self.late = True
            return self.late


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
        refused = self._unsigned(request.query)
        if refused:
            return self._refuse(refused, 403, "forbidden")
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.StreamResponse:
        started = self.clock()
        body = await self._read_body(request)
        if body is None:
            return self._refuse("too_large", 400, "body too large")
        query = request.query
        refused = self._unsigned(query)
        if refused:
            return self._refuse(refused, 403, "forbidden")
        if self.crypto and (query.get("encrypt_type") != "aes" or "msg_signature" not in query):
            return self._refuse("not_encrypted", 403, "safe mode requires encrypted messages")
        try:
            msg, fields = self._parse(body, query)
            if self.config.account_id and fields.get("ToUserName") != self.config.account_id:
                return self._refuse("wrong_account", 403, "forbidden")
            incoming = self._incoming(msg, fields)
        except InvalidSignatureException:
            return self._refuse("signature", 403, "forbidden")
        except InvalidAppIdException:
            return self._refuse("wrong_account", 403, "forbidden")
        except UnsafeXML:
            return self._refuse("unsafe_xml", 400, "bad xml")
        except BAD_XML:
            return self._refuse("bad_xml", 400, "bad xml")
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

    def _refuse(self, reason: str, status: int, text: str) -> web.Response:
        """A refused request: one WARNING line (the reason only: no body, no user) and a count."""
        log.warning("wechat: refused a request: %s (HTTP %d)", reason, status)
        self.metrics.inc("refused", self.channel, reason=reason)
        return web.Response(status=status, text=text)

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

    def _unsigned(self, query: Mapping[str, str]) -> str | None:
        """Why the request's signature is not good ("signature", "stale"); None if it is."""
        try:
            timestamp = int(query.get("timestamp", ""))
            check_signature(self.config.token, query.get("signature", ""), str(timestamp), query.get("nonce", ""))
        except (ValueError, InvalidSignatureException):
            return "signature"
        return None if abs(self.clock() - timestamp) <= MAX_CLOCK_SKEW else "stale"

    def _parse(self, body: bytes, query: Mapping[str, str]) -> tuple[BaseMessage, dict[str, str]]:
        """Decrypts (safe mode) and parses, refusing DOCTYPE/ENTITY before any parser runs; also
        the text of the fields read (TEXT_FIELDS), each checked to be text and given once."""
        if UNSAFE_XML.search(body):
            raise UnsafeXML("DOCTYPE or ENTITY")
        xml = body.decode()
        if self.crypto:
            encrypted = {"Encrypt": ElementTree.fromstring(body).findtext("Encrypt")}
            xml = self.crypto.decrypt_message(encrypted, query["msg_signature"], query["timestamp"], query.get("nonce", ""))
            if UNSAFE_XML.search(xml.encode()):
                raise UnsafeXML("DOCTYPE or ENTITY")
        fields: dict[str, str] = {}
        for element in ElementTree.fromstring(xml):
            if element.tag in TEXT_FIELDS:
                if len(element) or element.tag in fields:
                    raise ValueError("a field holds elements or comes twice")
                fields[element.tag] = element.text or ""
        msg = parse_message(xml)
        if msg is None or not msg.source:
            raise ValueError("no message or no sender")
        return msg, fields

    def _render(self, msg: BaseMessage, text: str, query: Mapping[str, str]) -> web.Response:
        xml = TextReply(source=msg.target, target=msg.source, content=text).render()
        if self.crypto:
            xml = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp"))
        return web.Response(text=xml, content_type="application/xml")

    # -- messages -----------------------------------------------------------------------
    def _incoming(self, msg: BaseMessage, fields: Mapping[str, str]) -> Incoming | None:
        """The neutral message, or None for events that need no answer (menu links, scans,
        subscription-message and publishing notices, events wechatpy does not know).

        Its message_id is the de-duplication key: MsgId; for events the sender, time, event,
        its key and MsgID, so two events of one user in the same second stay two. Events are
        read from the raw fields: wechatpy renames a subscribe by a QR code or a product scan.
        """
        user = msg.source
        if isinstance(msg, BaseEvent) or fields.get("MsgType", "").lower() == "event":
            event, key = fields.get("Event", ""), fields.get("EventKey", "")
            kind = EVENT_KINDS.get(event.lower())
            if kind is None:
                return None
            msg_id = ":".join(("wechat:event", user, str(msg.time), event, key, *filter(None, [fields.get("MsgID", "")])))
            text = self.menu_commands.get(key, "菜单") if kind == "menu" else ""
            return Incoming(self.channel, user, text, kind, msg_id)
        msg_id = f"wechat:msg:{msg.id}" if msg.id else f"wechat:msg:{user}:{msg.time}:{msg.type}"
        if isinstance(msg, TextMessage):
            return Incoming(self.channel, user, msg.content, "text", msg_id)
        if isinstance(msg, VoiceMessage):
            return Incoming(self.channel, user, msg.recognition or "", "voice", msg_id)
        return Incoming(self.channel, user, msg.type, "other", msg_id)

    async def _answer(self, incoming: Incoming, deadline: float) -> tuple[str | None, asyncio.Future[list[Reply] | None] | None]:
        """The passive reply (None: answer "success"), and the step if it has more to send.

        If the step outlives the window, "success" goes out now and the step's replies
        follow by customer service. A step that answered in time but whose save is slow
        (the database is busy) gives its answer after SAVE_GRACE without waiting for the save.
        """
        turn = Turn(incoming, time.perf_counter())
        step = asyncio.ensure_future(self._turn(turn))
        try:
            replies = await asyncio.wait_for(asyncio.shield(step), max(deadline - self.clock(), 0))
        except TimeoutError:
            if turn.give_up():
                return None, step
            try:
                replies = await asyncio.wait_for(asyncio.shield(step), SAVE_GRACE)  # its passive answer is being saved
            except TimeoutError:
                return (turn.passive[0] if turn.passive else None), step
        if replies is None:
            self.metrics.inc("duplicates", self.channel)
            return await self._saved_answer(incoming.message_id, deadline), None
        passive = self._passive(incoming, replies)
        return (passive[0] if passive else None), (step if passive and len(replies) > 1 else None)

    async def _turn(self, turn: Turn) -> list[Reply] | None:
        """The message's turn in a worker thread (`_run`), after the user's earlier messages:
        a retry waits here behind its first request (same user). None for a retry."""
        async with self.user_locks.hold(turn.incoming.user):
            return await self._offload(self._run, turn)

    def _run(self, turn: Turn) -> list[Reply] | None:
        """Claims the message, runs the step, has the core save the session with the passive
        answer ([text], or [] for "success"), so a retry can repeat it exactly. None for a retry,
        and for a late message another process took over meanwhile (our claim's lease ran out
        and WeChat's retry went there): that process answers it, we send nothing.

        All in one worker thread, so a store that makes us wait holds up this message only
        (one trip to the thread, as cheap as running just the step there).
        """
        incoming = turn.incoming
        claimed: SessionTurn | None = self.core.claim(incoming)
        if claimed is None:
            return None
        replies = self.respond(incoming, turn.received, claimed)
        passive = self._passive(incoming, replies)
        self.core.finish(claimed, passive if turn.answer(passive) else [])
        if turn.late and not self.store.holds_message(incoming.message_id):
            log.warning("wechat: a late message was answered by another process; its replies are not sent again")
            return None
        return replies

    @staticmethod
    def _passive(incoming: Incoming, replies: list[Reply]) -> list[str]:
        return [] if incoming.kind in SILENT_EVENTS or not replies else [replies[0].as_text()]

    async def _saved_answer(self, key: str, deadline: float) -> str | None:
        """A retry's answer: the first request's, once saved; "success" if it does not show in time."""
        while True:
            try:
                saved = await asyncio.wait_for(self._store_call(self.store.get_reply, key), max(deadline - self.clock(), POLL))
            except TimeoutError:
                return None
            if saved is not None:
                return saved[0] if saved else None
            if self.clock() >= deadline:
                return None
            await asyncio.sleep(POLL)

    @staticmethod
    async def _offload(func: Callable[..., T], *args: Any) -> T:
        """Steps, store and API calls block (CPU, a busy database, HTTP): keep them off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def _store_call(self, func: Callable[..., T], *args: Any) -> T:
        """A store call, in a worker thread: even SQLite may wait (up to its busy timeout) for
        another process's write lock, and the event loop must not."""
        return await self._offload(func, *args)
