"""The seam between a messaging channel and the conversation core.

An adapter turns its channel's updates into `Incoming`, runs the core through `converse`,
and delivers the `Reply` list it gets back within the `limits` it declares. Adding a
channel is adding one module here with one `Adapter` subclass; the core never imports
this package. Nothing here imports a web framework: the console runs without one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Protocol

from channels.metrics import Metrics
from conversation.messages import ChannelLimits, Incoming, Reply
from conversation.session import Turn

log = logging.getLogger(__name__)

SORRY = "抱歉，系统出了点问题。请稍后再试。"
ASK_TO_TYPE = "这条语音我没听清。请打字告诉我，比如：初中住校补助多少？"
UNSUPPORTED = "我能看懂文字和语音，还看不懂图片、位置、链接和视频。请打字提问，或点菜单。"


class Core(Protocol):
    """What adapters need of `conversation.assistant.Assistant`. `handle` is one whole message
    (load, answer, save). Channels that keep the passive reply for retries (WeChat) split it:
    `claim` (None for a retry), `step` (pure compute), `finish` (saves with the passive reply)."""

    def handle(self, msg: Incoming, limits: ChannelLimits) -> list[Reply]: ...

    def claim(self, msg: Incoming) -> Turn | None: ...

    def step(self, turn: Turn, msg: Incoming, limits: ChannelLimits) -> list[Reply]: ...

    def finish(self, turn: Turn, passive: list[str]) -> None: ...

    def last_active(self, channel: str, user: str) -> float | None: ...


class UserLocks:
    """One asyncio lock per user, dropped when nobody holds or waits for it, so memory stays flat."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, user: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(user) or (asyncio.Lock(), 0)
        self._locks[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user]
            if users == 1:
                del self._locks[user]
            else:
                self._locks[user] = (lock, users - 1)


class Adapter(ABC):
    """One channel. Subclasses set `channel` and `limits` and implement delivery."""

    channel: ClassVar[str]
    limits: ClassVar[ChannelLimits]

    def __init__(self, core: Core, metrics: Metrics | None = None) -> None:
        self.core = core
        self.metrics = metrics or Metrics()
        self.user_locks = UserLocks()

    async def converse(self, msg: Incoming) -> list[Reply]:
        """One conversation step: in order for one user, in parallel across users.

        The core is synchronous; it runs in a worker thread so the event loop keeps serving
        other users and a slow step can be abandoned to a later delivery.
        """
        received = time.perf_counter()
        async with self.user_locks.hold(msg.user):
            return await asyncio.get_running_loop().run_in_executor(None, self.respond, msg, received)

    def respond(self, msg: Incoming, received: float, turn: Turn | None = None) -> list[Reply]:
        """The core's replies to `msg`; runs in a worker thread. `received` (perf_counter)
        starts the latency the metrics show. With `turn` (claimed by the adapter), only the
        step runs here and the adapter has the core save it; without, the core does it all.

        Messages the assistant cannot read (pictures, voice without a transcript) get a
        fixed hint here, the same on every channel, and leave the session alone. A failing
        step is logged and answered with an apology rather than silence.
        """
        self.metrics.inc("messages", self.channel)
        if msg.kind == "other" or (msg.kind == "voice" and not msg.text.strip()):
            replies = [Reply(UNSUPPORTED if msg.kind == "other" else ASK_TO_TYPE)]
        else:
            try:
                replies = self.core.handle(msg, self.limits) if turn is None else self.core.step(turn, msg, self.limits)
            except Exception:
                log.exception("%s: the core failed on a message from %s", self.channel, msg.user)
                self.metrics.inc("errors", self.channel)
                replies = [Reply(SORRY)]
        self.metrics.observe(self.channel, time.perf_counter() - received)
        return replies

    def routes(self) -> list[Any]:
        """HTTP routes (aiohttp RouteDefs) this channel serves on the shared server (webhooks)."""
        return []

    async def start(self) -> None:  # noqa: B027 (an optional hook)
        """Called once the server runs: connect to the channel."""

    async def stop(self) -> None:  # noqa: B027 (an optional hook)
        """Called before the server stops: finish pending deliveries, disconnect."""

    @abstractmethod
    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        """Delivers replies the user did not ask for just now (reminders).

        Returns False when the channel cannot reach this user at the moment (e.g. a
        WeChat user outside the 48-hour window and no template configured); API
        failures raise.
        """
