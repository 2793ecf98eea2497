"""What every workflow chat hook needs: the desk, who is asking, the texts, numbered choices."""

from __future__ import annotations

import re
from typing import Any

from dialogs.answers import Reprompt, parse_choice
from dialogs.context import Context
from dialogs.lexicon import normalize_width
from dialogs.messages import Choice, Reply
from workflow.access import Actor, actor_of
from workflow.model import load_texts
from workflow.service import Desk

NUMBER_IN_TEXT = re.compile(r"SQ\s*(\d{4})\s*[-－—]?\s*(\d{6})", re.IGNORECASE)
MAX_CHOICES = 9  # every choice answerable with one digit


def desk(ctx: Context) -> Desk:
    return Desk(ctx.assistant.store, ctx.assistant.kb, ctx.assistant.engine, ctx.assistant.clock)


def asker(ctx: Context) -> Actor:
    return actor_of(ctx.assistant.store, ctx.channel, ctx.user)


def text(key: str, **fields: Any) -> str:
    return load_texts()[key].format(**fields)


def words(key: str) -> tuple[str, ...]:
    return tuple(load_texts()[key])


def say(key: str, **fields: Any) -> list[Reply]:
    return [Reply(text(key, **fields))]


def numbered(labels: list[str]) -> list[Choice]:
    return [Choice(str(i + 1), label) for i, label in enumerate(labels)]


def pick(answer: str, choices: list[Choice], yes_no: bool = False) -> int | None:
    """The chosen index, or None if the answer is not one of the choices."""
    try:
        return parse_choice(answer, choices, yes_no=yes_no)
    except Reprompt:
        return None


def find_number(message: str) -> tuple[str, str, str] | None:
    """(application number, the words before it, the words after it) if the message names one."""
    plain = normalize_width(message).strip()
    match = NUMBER_IN_TEXT.search(plain)
    if match is None:
        return None
    strip = " ：:，,。.、"
    return f"SQ{match.group(1)}-{match.group(2)}", plain[: match.start()].strip(strip), plain[match.end():].strip(strip)


def persist_flow(ctx: Context, flow_state: dict) -> None:
    """Saves the flow state now, mid-message (the assistant saves the session only after replying).

    Used before an irreversible step, so a process killed during it leaves a trace the next
    message can read.
    """
    store = ctx.assistant.store
    session = store.load_session(ctx.channel, ctx.user) or {}
    session["flow"] = flow_state
    store.save_session(ctx.channel, ctx.user, session)
