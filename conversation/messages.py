"""The neutral messages that pass between a channel adapter and the conversation core.

Adapters turn their channel's updates into `Incoming` and deliver `Reply`; the core never
knows which channel it is talking to, only the limits the adapter declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "voice", "menu", "follow", "unfollow", "button", "other"]


@dataclass(frozen=True, slots=True)
class Choice:
    """A numbered choice: the user may answer with `key` (one digit) or tap a button."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: str
    user: str
    text: str
    kind: Kind = "text"
    message_id: str = ""


@dataclass(slots=True)
class Reply:
    text: str
    choices: list[Choice] = field(default_factory=list)

    def as_text(self) -> str:
        """The reply with its choices written out, for channels without buttons."""
        if not self.choices:
            return self.text
        lines = [self.text] + [f"{c.key}. {c.label}" for c in self.choices]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """What a channel can show; the core splits and formats replies to fit."""

    max_chars: int = 4096
    max_bytes: int | None = None
    buttons: bool = False
