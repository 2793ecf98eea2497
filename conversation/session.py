"""A user's conversation state, and the one place it is loaded and saved.

Per message the assistant loads the session once and saves it once (with the passive reply a
channel keeps for retries, in the same transaction, when the channel asks for that). Nothing else
reads or writes sessions: hooks change the `Session` they are handed and return what they want
done; channels hand an opaque `Turn` back and forth.

返回 (back) keeps, per answered step, only the step id and the values the answer changed (a
delta), not copies of the flow: a household check stays a few hundred bytes however long it runs.
An action's working state (`sub`: the question it is asking) is not kept: going back, the action
asks again from the restored answers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from storage.base import SessionStore

HISTORY = 10  # how many answers 返回 can undo
SESSION_TIMEOUT = 30 * 60  # a silent conversation ends after this (seconds)
DRAFT_KEPT = 7 * 24 * 3600  # a form the user consented to is kept this long for them to finish
_ABSENT = {"__absent__": True}  # a delta's marker for "this key did not exist"


@dataclass(slots=True)
class FlowState:
    """Where a flow is: its id, the current step, what the answers filled in (`slots`), and the
    current action's own working state (`sub`, cleared whenever the step changes)."""

    flow: str
    step: str
    slots: dict[str, Any] = field(default_factory=dict)
    sub: dict[str, Any] = field(default_factory=dict)
    retries: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "slots": self.slots, "sub": self.sub, "retries": self.retries}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowState:
        return cls(str(data["flow"]), str(data["step"]), dict(data.get("slots") or {}), dict(data.get("sub") or {}),
                   int(data.get("retries") or 0))


@dataclass(slots=True)
class Session:
    channel: str
    user: str
    region: str | None = None  # the county the user's questions are about, once they named one
    flow: FlowState | None = None
    pending: dict[str, Any] | None = None  # numbered choices offered outside a flow (menu, 您是想问)
    history: list[dict[str, Any]] = field(default_factory=list)  # 返回: deltas, newest last
    updated: float | None = None  # when the user last wrote
    recent: dict[str, Any] = field(default_factory=dict)  # short-lived facts (an application just submitted)
    expired: bool = False  # the store emptied it: the conversation was silent past its expiry

    @property
    def keeps_draft(self) -> bool:
        """A form the user consented to keeps past the timeout: they are told it was kept."""
        return self.flow is not None and self.flow.slots.get("consent") is True

    def expires_at(self) -> float | None:
        """When the store may empty the session: what was said in it (a form, a description, the
        last result) goes with the timeout, unless the user consented to keep it; a session with
        nothing but the county does not expire."""
        if self.updated is None or not (self.flow or self.pending or self.history or self.recent):
            return None
        return self.updated + (DRAFT_KEPT if self.keeps_draft else SESSION_TIMEOUT)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.region:
            data["region"] = self.region
        if self.flow is not None:
            data["flow"] = self.flow.to_json()
        if self.pending:
            data["pending"] = self.pending
        if self.history:
            data["history"] = self.history
        if self.updated is not None:
            data["updated"] = self.updated
        if self.recent:
            data["recent"] = self.recent
        expires = self.expires_at()
        if expires is not None:
            data["expires_at"] = expires
        return data

    @classmethod
    def from_json(cls, channel: str, user: str, data: dict[str, Any] | None) -> Session:
        data = data or {}
        flow = data.get("flow")
        return cls(channel, user, data.get("region"), FlowState.from_json(flow) if isinstance(flow, dict) and flow.get("flow") else None,
                   data.get("pending"), list(data.get("history") or []), data.get("updated"), dict(data.get("recent") or {}),
                   bool(data.get("expired")))

    # -- the flow --------------------------------------------------------------------------
    def end_flow(self) -> None:
        self.flow = None
        self.history = []

    def remember(self, before: FlowState, after: FlowState | None) -> None:
        """Record what one answer changed, so 返回 can undo it."""
        if after is None or after.flow != before.flow:
            return
        delta = {"step": before.step, "slots": diff(before.slots, after.slots)}
        if before.step == after.step and not delta["slots"]:
            return
        self.history.append(delta)
        del self.history[:-HISTORY]

    def back(self) -> bool:
        """Undo the last answer; False if there is none."""
        if self.flow is None or not self.history:
            return False
        delta = self.history.pop()
        undo(self.flow.slots, delta["slots"])
        self.flow.step = delta["step"]
        self.flow.retries = 0
        self.flow.sub = {}  # an action's working state is rebuilt when it asks again
        return True


def diff(before: dict[str, Any], after: dict[str, Any], prefix: tuple = ()) -> list[list[Any]]:
    """[[path, old value], …] for every value `after` changed, added or removed (nested dicts
    and lists are followed, so one answered fact costs one small entry)."""
    out: list[list[Any]] = []
    for key in set(before) | set(after):
        old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if old == new:
            continue
        path = (*prefix, key)
        if isinstance(old, dict) and isinstance(new, dict) and old is not _ABSENT and new is not _ABSENT:
            out += diff(old, new, path)
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                if a == b:
                    continue
                if isinstance(a, dict) and isinstance(b, dict):
                    out += diff(a, b, (*path, i))
                else:
                    out.append([[*path, i], copy.deepcopy(a)])
        else:
            out.append([list(path), copy.deepcopy(old)])
    return out


def undo(target: dict[str, Any], delta: list[list[Any]]) -> None:
    for path, old in delta:
        node: Any = target
        for key in path[:-1]:
            node = node[key]
        last = path[-1]
        if old == _ABSENT:
            if isinstance(node, dict):
                node.pop(last, None)
        else:
            node[last] = old


@dataclass(slots=True)
class Turn:
    """One message on its way: the session it was loaded with, and (for channels that keep the
    passive reply for retries) the message key."""

    session: Session
    key: str | None = None
    keep: bool = True  # False: the message was not handled (the store was unavailable); the stored session stays as it was


class Sessions:
    """Loads and saves sessions: the only code that touches the store's session rows."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def load(self, channel: str, user: str) -> Session:
        return Session.from_json(channel, user, self.store.load_session(channel, user))

    def claim(self, key: str, channel: str, user: str) -> Turn | None:
        """The turn for a message seen for the first time; None for a retry of one already claimed."""
        if not self.store.claim_message(key):
            return None
        return Turn(self.load(channel, user), key)

    def saved_at(self, channel: str, user: str) -> float | None:
        """When the user last wrote (the session is saved on every message)."""
        return self.store.session_saved_at(channel, user)

    def save(self, turn: Turn, passive: list[str] | None = None) -> None:
        """Saves the session; with a message key, together with the passive reply kept for retries."""
        session = turn.session
        if not turn.keep:
            if turn.key is not None:
                self.store.save_reply(turn.key, passive or [])
            return
        if turn.key is not None:
            self.store.save_session_and_reply(session.channel, session.user, session.to_json(), turn.key, passive or [])
        else:
            self.store.save_session(session.channel, session.user, session.to_json())
