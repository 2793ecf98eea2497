"""What a skill is: the flows it runs (YAML beside its module), the Python those flows name, the
intents it answers and the commands it reads. Skills are plain values, collected in one list by
the composition root (app/wiring.py) and handed to the Assistant: nothing is registered by
importing a module, so following a message to the code that answers it is reading, not running.

Everything a hook wants done it says in what it returns (replies, a step to go to, a flow to
start, a submission to make); it never loads or saves the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conversation.messages import Reply

if TYPE_CHECKING:
    from conversation.context import Context
    from conversation.session import FlowState


@dataclass(slots=True)
class Start:
    """Start flow `flow` with `slots` filled in (an intent that opens a form, a command that opens a list)."""

    flow: str
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What an intent handler or command reader returns: replies, and optionally a flow to start
    after them."""

    replies: list[Reply] = field(default_factory=list)
    start: Start | None = None


@dataclass(slots=True)
class ActionResult:
    """An action either asks (`asking`, staying on the step) or is done (moving on, to `goto` if set,
    or ending the flow with `end`, or starting another flow with `start`). With `reroute` the flow
    ends and the message is understood afresh, as if no flow had been running: it was not an answer."""

    replies: list[Reply]
    asking: bool = False
    goto: str | None = None
    end: bool = False
    start: Start | None = None
    reroute: bool = False


Parser = Callable[["Context", str], Any]
Prompt = Callable[["Context", "FlowState"], str]
Predicate = Callable[["Context", "FlowState"], bool]
Action = Callable[["Context", "FlowState", "str | None"], ActionResult]
Handler = Callable[["Context", str], Outcome]
Reader = Callable[["Context", str], "Outcome | None"]


@dataclass(frozen=True, slots=True)
class Hooks:
    parsers: Mapping[str, Parser] = field(default_factory=dict)
    prompts: Mapping[str, Prompt] = field(default_factory=dict)
    predicates: Mapping[str, Predicate] = field(default_factory=dict)
    actions: Mapping[str, Action] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    flows: tuple[Path, ...] = ()
    hooks: Hooks = field(default_factory=Hooks)
    intents: Mapping[str, Handler] = field(default_factory=dict)  # intent name (understanding/lexicon_data/intents.yaml) -> handler
    readers: tuple[Reader, ...] = ()  # command messages (invite codes, application numbers), tried before intents


def merge_hooks(skills: list[Skill]) -> Hooks:
    """All skills' hooks in one table per kind; a name two skills define is an error."""
    tables: dict[str, dict[str, Any]] = {"parsers": {}, "prompts": {}, "predicates": {}, "actions": {}}
    for skill in skills:
        for kind, table in tables.items():
            for name, fn in getattr(skill.hooks, kind).items():
                if name in table:
                    raise ValueError(f"hook {kind}.{name} is defined twice (skill {skill.name})")
                table[name] = fn
    return Hooks(**tables)
