"""What a hook may use while handling one message: the services (built once by app/wiring.py),
who is writing, on which channel, about which region, on which day.

The context never points back at the Assistant: a hook that wants a flow started, a step taken or
a reply sent says so in what it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from conversation.messages import ChannelLimits, Reply
from conversation.render import merge_blocks
from conversation.session import Session
from eligibility.engine import Engine
from foundation.clock import Clock
from policy_kb.model import KnowledgeBase, RegionView
from storage.base import Store
from understanding.entities import Entities
from understanding.router import Understander
from workflow.access import Actor, actor_of
from workflow.desk import Desk


@dataclass(slots=True)
class Services:
    """Everything the conversation uses, made once per process."""

    kb: KnowledgeBase
    engine: Engine
    understander: Understander
    store: Store
    desk: Desk
    clock: Clock
    texts: dict[str, Any]
    default_region: str


@dataclass(slots=True)
class Context:
    services: Services
    session: Session
    limits: ChannelLimits
    region: str
    today: dt.date
    _actor: Actor | None = field(default=None, repr=False)

    @property
    def channel(self) -> str:
        return self.session.channel

    @property
    def user(self) -> str:
        return self.session.user

    @property
    def kb(self) -> KnowledgeBase:
        return self.services.kb

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def desk(self) -> Desk:
        return self.services.desk

    @property
    def texts(self) -> dict[str, Any]:
        return self.services.texts

    @property
    def region_names(self) -> dict[str, str]:
        return self.services.understander.region_names

    @property
    def actor(self) -> Actor:
        """Who is writing, with their role (read from the store once per message, when asked)."""
        if self._actor is None:
            self._actor = actor_of(self.store, self.channel, self.user)
        return self._actor

    def canonical(self, text: str) -> str:
        return self.services.understander.canonical(text)

    def extract(self, text: str) -> Entities:
        return self.services.understander.extract(text)

    def view(self) -> RegionView:
        return self.kb.view(self.region)

    def pack(self, blocks: list[str]) -> list[Reply]:
        return merge_blocks(blocks, self.limits)
