"""WeChat Official Account (微信公众号) adapter, on wechatpy.

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
  once, and its replies follow as customer-service messages when ready.
* A passive reply holds 2,048 bytes: the core splits to that size; the first part is the
  passive reply and later parts go out as customer-service messages right after it
  (nothing is kept for a "回复 1 查看更多", which would clash with numbered choices).

Outbound (customer service, templates, menu) uses wechatpy's synchronous client, run in
worker threads, with its access token kept in the shared store so all processes use one
token and only one of them refreshes it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import yaml
from aiohttp import web
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import BaseEvent
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException, WeChatClientException
from wechatpy.messages import BaseMessage, TextMessage, VoiceMessage
from wechatpy.replies import TextReply
from wechatpy.session import SessionStorage
from wechatpy.utils import check_signature

from adapters.base import Adapter, Core
from adapters.metrics import Metrics
from dialogs.messages import ChannelLimits, Incoming, Reply
from storage.base import Store

log = logging.getLogger(__name__)

API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
MENU_FILE = Path(__file__).with_name("wechat_menu.yaml")
MAX_BODY = 64 * 1024
MAX_CLOCK_SKEW = 300
REPLY_WINDOW = 4.0
SERVICE_WINDOW = 47 * 3600  # WeChat allows customer-service messages 48 h after the user's last message
POLL = 0.05
UNSAFE_XML = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
BAD_XML = (ExpatError, ElementTree.ParseError, KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error)
EVENT_KINDS = {"subscribe": "follow", "subscribe_scan": "follow", "unsubscribe": "unfollow", "click": "menu"}
SILENT_EVENTS = ("unfollow",)  # the user is gone: nothing can be delivered

T = TypeVar("T")


class ConfigError(ValueError):
    """Missing or unknown settings; the message is Chinese, for the operator."""


@dataclass(frozen=True)
class WeChatConfig:
    """Settings from the environment or a YAML file with the same keys (the file wins):
    WECHAT_TOKEN (required), WECHAT_APP_ID and WECHAT_APP_SECRET (for the API),
    WECHAT_AES_KEY (safe mode), WECHAT_TEMPLATE_ID and WECHAT_TEMPLATE_FIELD (pushes
    outside the 48-hour window: the template's one text field, default "content"),
    WECHAT_API_BASE_URL, DATABASE_URL.
    """

    token: str
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""
    template_id: str = ""
    template_field: str = "content"
    api_base_url: str = API_BASE_URL
    database_url: str = ""

    @staticmethod
    def key(name: str) -> str:
        return "DATABASE_URL" if name == "database_url" else f"WECHAT_{name.upper()}"

    @classmethod
    def load(cls, path: str | None = None, environ: Mapping[str, str] = os.environ) -> WeChatConfig:
        keys = {cls.key(f.name): f.name for f in fields(cls)}
        values = {keys[k]: v for k, v in environ.items() if k in keys and v}
        if path:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"配置文件 {path} 应是“键: 值”的列表。")
            unknown = sorted(set(loaded) - set(keys))
            if unknown:
                raise ConfigError(f"配置文件 {path} 里有不认识的项：{'、'.join(unknown)}。可用：{'、'.join(keys)}")
            values |= {keys[k]: str(v) for k, v in loaded.items() if v not in (None, "")}
        if not values.get("token"):
            raise ConfigError("缺少 WECHAT_TOKEN（公众号后台“服务器配置”里的令牌）。")
        if values.get("aes_key") and (len(values["aes_key"]) != 43 or not values.get("app_id")):
            raise ConfigError("安全模式要 43 个字符的 WECHAT_AES_KEY，还要 WECHAT_APP_ID。")
        if not values.get("api_base_url", API_BASE_URL).endswith("/"):
            values["api_base_url"] += "/"
        return cls(**values)

    @property
    def has_api(self) -> bool:
        return bool(self.app_id and self.app_secret)


def load_menu(path: Path = MENU_FILE) -> tuple[dict[str, Any], dict[str, str]]:
    """The menu for WeChat's menu/create call, and each click key's command for the core."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    commands: dict[str, str] = {}

    def button(item: dict[str, Any], top: bool) -> dict[str, Any]:
        name = item["name"]
        if len(name.encode()) > (16 if top else 60):
            raise ConfigError(f"菜单名“{name}”太长。")
        if "sub_button" in item:
            if not top or not 1 <= len(item["sub_button"]) <= 5:
                raise ConfigError(f"菜单“{name}”的二级菜单要有 1 到 5 个，且只能放在一级下。")
            return {"name": name, "sub_button": [button(sub, top=False) for sub in item["sub_button"]]}
        key, command = item["key"], item["command"]
        if key in commands or len(key.encode()) > 128:
            raise ConfigError(f"菜单 key“{key}”重复或太长。")
        commands[key] = command
        return {"type": "click", "name": name, "key": key}

    if not 1 <= len(data["button"]) <= 3:
        raise ConfigError("一级菜单要有 1 到 3 个。")
    return {"button": [button(item, top=True) for item in data["button"]]}, commands


class StoreSession(SessionStorage):
    """wechatpy's token storage on our store, shared by every process.

    Tokens are kept 5 minutes less than they live, so no process uses one that is about
    to expire.
    """

    MARGIN = 300

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.kv_get(f"wechatpy:{key}") or default

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is not None:
            kept = max(ttl - self.MARGIN, 60) if ttl else None
            self.store.kv_set(f"wechatpy:{key}", str(value), kept)


class SharedTokenClient(WeChatClient):
    """WeChatClient whose access token lives in the store and is refreshed under a lease.

    Many processes start at once after a deploy; without the lease each would fetch a
    token and invalidate the others'. The API base URL is configurable (tests and
    proxies); wechatpy hard-codes the token URL, so fetching is redone here.
    """

    LEASE = 30.0
    LEASE_WAIT = 15.0

    def __init__(self, config: WeChatConfig, store: Store, timeout: float = 5.0) -> None:
        super().__init__(config.app_id, config.app_secret, session=StoreSession(store), timeout=timeout)
        self.API_BASE_URL = config.api_base_url
        self.store = store

    @property
    def access_token(self) -> str:
        return self.session.get(self.access_token_key) or self._refresh(stale=None)

    def fetch_access_token(self) -> dict[str, str]:
        """wechatpy calls this when WeChat rejected the stored token."""
        return {"access_token": self._refresh(stale=self.session.get(self.access_token_key))}

    def _refresh(self, stale: str | None) -> str:
        """Fetches a token unless another process replaced `stale` while we waited."""
        lease = f"{self.access_token_key}:refresh"
        deadline = time.monotonic() + self.LEASE_WAIT
        while not self.store.kv_lock(lease, self.LEASE):
            if time.monotonic() > deadline:
                raise WeChatClientException(None, "waited too long for another process to refresh the access token")
            time.sleep(POLL)
        try:
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
            return self._fetch_access_token(url=f"{self.API_BASE_URL}token", params=params)["access_token"]
        finally:
            self.store.kv_unlock(lease)


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
        store: Store,
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
        self.client = SharedTokenClient(config, store) if config.has_api else None
        self.menu_commands = load_menu()[1]
        self._deliveries: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/wechat", self.verify), web.post("/wechat", self.receive)]

    async def stop(self) -> None:
        """Lets replies still on their way (slow steps, extra parts) go out."""
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=10)

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
            self._deliver(incoming.user, pending, sent=0 if passive is None else 1)
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
        """Claims the message, runs the step, saves the session with the passive answer
        ([text], or [] for "success"), so a retry can repeat it exactly. None for a retry.

        Only the step runs in a worker thread. With a local store (SQLite) the claim, the
        session load and the save are made on the event loop: a trip to a worker thread
        costs more than they do, and the worker thread then never waits for the GIL
        around SQLite calls. A retry waits here behind its first request (same user).
        """
        incoming = turn.incoming
        async with self.user_locks.hold(incoming.user):
            state = await self._store_call(self._claim_and_load, incoming)
            if state is None:
                return None
            replies = await self._offload(self.respond, incoming, turn.received, state)
            turn.answered = not turn.late
            passive = self._passive(incoming, replies) if turn.answered else []
            await self._store_call(self.store.save_session_and_reply, self.channel, incoming.user, state, incoming.message_id, passive)
        return replies

    def _claim_and_load(self, incoming: Incoming) -> dict[str, Any] | None:
        """The user's session, or None if this message was claimed before (a retry)."""
        if not self.store.claim_message(incoming.message_id):
            return None
        return self.store.load_session(self.channel, incoming.user) or {}

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

    # -- outbound -----------------------------------------------------------------------
    def _deliver(self, user: str, step: asyncio.Future[list[Reply] | None], sent: int) -> None:
        """Sends the step's replies after the first `sent` by customer service, in the background."""

        async def deliver() -> None:
            try:
                replies = await step
            except Exception:
                log.exception("wechat: a late step for %s failed", user)
                self.metrics.inc("errors", self.channel)
                return
            await self._send_service(user, (replies or [])[sent:])  # None: a retry, nothing to send

        task = asyncio.ensure_future(deliver())
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _send_service(self, user: str, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                if self.client is None:
                    raise ConfigError("WECHAT_APP_ID / WECHAT_APP_SECRET are not set")
                await self._offload(self.client.message.send_text, user, reply.as_text())
            except Exception:
                log.exception("wechat: customer-service message to %s failed", user)
                self.metrics.inc("errors", self.channel)
                return
            self.metrics.inc("replies", self.channel)

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        """Customer-service messages inside the 48-hour window, else template messages."""
        if self.client is None:
            return False
        last = await self._store_call(self.store.session_saved_at, self.channel, user)
        if last is not None and self.clock() - last < SERVICE_WINDOW:
            for reply in replies:
                await self._offload(self.client.message.send_text, user, reply.as_text())
        elif self.config.template_id:
            for reply in replies:
                data = {self.config.template_field: {"value": reply.as_text()}}
                await self._offload(self.client.message.send_template, user, self.config.template_id, data)
        else:
            return False
        self.metrics.inc("replies", self.channel, len(replies))
        return True

    @staticmethod
    async def _offload(func: Callable[..., T], *args: Any) -> T:
        """Steps, store and API calls block (CPU, PostgreSQL, HTTP): keep them off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def _store_call(self, func: Callable[..., T], *args: Any) -> T:
        """A store call: on the loop for a local store, in a worker thread otherwise."""
        return func(*args) if self.store.local else await self._offload(func, *args)


def publish_menu(config: WeChatConfig, store: Store) -> dict[str, Any]:
    """Publishes adapters/wechat_menu.yaml as the account's menu (`python bot.py wechat menu`)."""
    if not config.has_api:
        raise ConfigError("创建菜单需要 WECHAT_APP_ID 和 WECHAT_APP_SECRET。")
    return SharedTokenClient(config, store).menu.create(load_menu()[0])
