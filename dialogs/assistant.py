"""The conversation core: one message in, replies out, for any channel.

Per message: load the user's session, end it politely if it has been silent for 30 minutes,
apply global commands (菜单, 帮助, 取消, 返回, 重新开始), feed a running flow, or else read the
intent and answer. The session is saved before the replies are returned, so a restart never
loses an answer the user has seen.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import dialogs.actions  # noqa: F401  (registers the flow hooks)
from dialogs.answers import answer_words, clean, parse_choice
from dialogs.context import Context
from dialogs.entities import Entities, extract
from dialogs.flow import FlowRunner, load_flows
from dialogs.lexicon import Lexicon, load_lexicon
from dialogs.messages import ChannelLimits, Choice, Incoming, Reply
from dialogs.render import fit
from dialogs.retrieval import Candidate, Retriever
from dialogs.segmenter import setup_jieba
from eligibility.engine import AmountResult, Engine
from policy_kb import checks
from policy_kb.loader import default_kb
from policy_kb.model import KnowledgeBase, Measure
from policy_kb.yamlio import load_yaml
from storage.base import Store

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_TIMEOUT = 30 * 60
MAX_TEXT = 500
# Modules that extend the conversation (imported when an Assistant is made, so they may
# import this module): the monitoring-application workflow, roles, reminders and privacy.
PLUGINS = ("dialogs.workflow_actions",)
HISTORY = 10
UNDERSTAND_CACHE = 4096
# Calibrated on the question set's score distribution (top-1 precision ≥ 95% above
# CONFIDENT) and on off-topic chatter (which stays below POSSIBLE).
CONFIDENT = 36.0
MARGIN = 5.0
POSSIBLE = 28.0


@lru_cache(maxsize=1)
def load_texts() -> dict[str, Any]:
    path = HERE / "texts.yaml"
    return dict(checks.mapping(load_yaml(path), str(path), 1, path.name))


@lru_cache(maxsize=1)
def load_intents() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    path = HERE / "lexicon" / "intents.yaml"
    data = checks.mapping(load_yaml(path), str(path), 1, path.name)
    checks.keys(data, str(path), path.name, ("commands", "intents"))

    def table(key: str) -> dict[str, tuple[str, ...]]:
        raw = checks.mapping(data[key], str(path), data.line_of(key), key)
        return {name: tuple(clean(w) for w in checks.text_list(raw, name, str(path), name)) for name in raw}

    return table("commands"), table("intents")


@dataclass(frozen=True, slots=True)
class Understanding:
    canonical: str
    entities: Entities
    region: str
    candidates: list[Candidate]


class Assistant:
    """Thread-safe for different users; one user's messages must arrive in order."""

    def __init__(self, store: Store, kb: KnowledgeBase | None = None, region: str | None = None,
                 today: dt.date | None = None, clock: Callable[[], float] = time.time) -> None:
        for plugin in PLUGINS:
            importlib.import_module(plugin)  # registers its intents, command readers and flow hooks
        self.store = store
        self.kb = kb or default_kb()
        self.engine = Engine(self.kb)
        self.lexicon: Lexicon = load_lexicon(extra_terms=policy_terms(self.kb))
        setup_jieba(self.kb, self.lexicon.terms)
        self.flows = load_flows()
        self.runner = FlowRunner(self.flows)
        self.texts = load_texts()
        self.commands, self.intents = load_intents()
        answer_words()  # read every data file at start-up, so a mistake fails loudly there
        self.region = self.kb.resolve_region(region).id
        self.fixed_today = today
        self.clock = clock
        self.region_names = {name: r.id for r in self.kb.regions.values() if r.id != "base"
                             for name in sorted({r.name, r.full_name, *r.aliases}, key=len, reverse=True)}
        self._retrievers: dict[str, Retriever] = {}
        self._understand_cached = lru_cache(maxsize=UNDERSTAND_CACHE)(self._read)

    # -- services used by hooks --------------------------------------------------------
    def retriever(self, region: str) -> Retriever:
        if region not in self._retrievers:
            self._retrievers[region] = Retriever(self.kb.view(region).measures, self.lexicon)
        return self._retrievers[region]

    def warm_up(self) -> None:
        """Builds the default county's question index now rather than on the first question
        (about 0.1 s): for servers, where the first villager should not wait for it."""
        self.retriever(self.region)

    def today(self) -> dt.date:
        return self.fixed_today or dt.date.fromtimestamp(self.clock())

    def measure_amounts(self, measure: Measure, region: str, on: dt.date, household: dict, member: dict) -> tuple[list[AmountResult], list[str]]:
        return self.engine.question_amounts(measure, region, on, household, member)

    # -- one message -------------------------------------------------------------------
    def handle(self, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        """One message: loads the user's session, answers, saves the session."""
        state = self.store.load_session(msg.channel, msg.user) or {}
        replies = self.step(msg, limits, state)
        self.store.save_session(msg.channel, msg.user, state)
        return replies

    def step(self, msg: Incoming, limits: ChannelLimits, state: dict) -> list[Reply]:
        """One message against a session the caller loaded and saves afterwards (`state`,
        changed in place). An adapter can then keep the session's I/O on its side: WeChat
        saves it together with the answer kept for retries, in one transaction.
        """
        try:
            replies = self._step(msg, limits, state)
        except Exception:  # a bug must never show a traceback to a villager, nor trap them in a loop
            log.exception("failed to handle a message on %s", msg.channel)
            state.pop("flow", None)
            state.pop("history", None)
            replies = [Reply("抱歉，刚才出了点问题，这次对话已结束。请再说一遍，或回复“菜单”。")]
        return fit([r for r in replies if r.text], limits)

    def _step(self, msg: Incoming, limits: ChannelLimits, state: dict) -> list[Reply]:
        now = self.clock()
        replies: list[Reply] = []
        if state.get("flow") and now - state.get("updated", now) > SESSION_TIMEOUT:
            state.pop("flow")
            state.pop("history", None)
            replies.append(Reply(self.texts["timeout"]))
        ctx = Context(self, msg.channel, msg.user, limits, state.get("region") or self.region, self.today(), state.get("flow") or {})
        replies += self._dispatch(msg, state, ctx)
        if ctx.region != self.region or state.get("region"):
            state["region"] = ctx.region
        state["updated"] = now
        if state.get("flow") is not None and not state["flow"]:
            state.pop("flow")
        return replies

    def _dispatch(self, msg: Incoming, state: dict, ctx: Context) -> list[Reply]:
        if msg.kind == "unfollow":
            state.clear()
            return []
        if msg.kind == "follow":
            state.pop("flow", None)
            return [Reply(self.texts["welcome"]), self._menu(state)]
        text = (msg.text or "").strip()
        notes: list[Reply] = []
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            notes.append(Reply(self.texts["too_long"]))
        if not clean(text):
            again = [self.runner.prompt(state["flow"], ctx)] if state.get("flow") else []
            return [Reply(self.texts["empty"])] + again
        command = self._command(text)
        if command:
            return notes + self._run_command(command, state, ctx)
        if state.get("flow"):
            return notes + self._continue_flow(text, state, ctx)
        if state.get("pending") and re.fullmatch(r"\s*\d+\s*", text):
            return notes + self._pick(text, state, ctx)
        state.pop("pending", None)
        return notes + self._understand(text, state, ctx)

    # -- commands and flows ------------------------------------------------------------
    def _command(self, text: str) -> str | None:
        t = clean(text)
        for name, words in self.commands.items():
            if t in words:
                return name
        return None

    def _run_command(self, command: str, state: dict, ctx: Context) -> list[Reply]:
        flow = state.get("flow")
        if command == "help" and flow:
            return [Reply(self.texts["help"]), self.runner.prompt(flow, ctx)]
        if command in ("menu", "help"):
            state.pop("flow", None)
            state.pop("history", None)
            return [self._menu(state)]
        if command == "cancel":
            state.pop("flow", None)
            state.pop("history", None)
            state.pop("pending", None)
            return [Reply(self.texts["cancelled" if flow else "nothing_to_cancel"])]
        if command == "back":
            history = state.get("history") or []
            if not flow:
                return [Reply(self.texts["nothing_to_cancel"])]
            if not history:
                return [Reply(self.texts["nothing_to_go_back"]), self.runner.prompt(flow, ctx)]
            state["flow"] = history.pop()
            ctx.flow_state = state["flow"]
            return [Reply("好的，回到上一步。"), self.runner.prompt(state["flow"], ctx)]
        # restart
        if not flow:
            return [self._menu(state)]
        state["history"] = []
        state["flow"] = {}
        ctx.flow_state = state["flow"]
        turn = self.runner.start(flow["flow"], state["flow"], ctx)
        return [Reply("好的，重新开始。")] + self._finish(turn, state)

    def _start_flow(self, flow_id: str, state: dict, ctx: Context, prefill: Callable[[dict], None] | None = None) -> list[Reply]:
        draft: dict = {"slots": {}}
        if prefill:
            prefill(draft)
        state["flow"] = {}
        state["history"] = []
        ctx.flow_state = state["flow"]
        turn = self.runner.start(flow_id, state["flow"], ctx, draft["slots"])
        return self._finish(turn, state)

    def _continue_flow(self, text: str, state: dict, ctx: Context) -> list[Reply]:
        snapshot = copy.deepcopy(state["flow"])
        ctx.flow_state = state["flow"]
        turn = self.runner.answer(state["flow"], text, ctx)
        history = state.setdefault("history", [])
        if snapshot != state["flow"]:
            history.append(snapshot)
            del history[:-HISTORY]
        return self._finish(turn, state)

    @staticmethod
    def _finish(turn, state: dict) -> list[Reply]:
        if turn.done:
            state.pop("flow", None)
            state.pop("history", None)
        return turn.replies

    # -- menus and choices -------------------------------------------------------------
    def _menu(self, state: dict) -> Reply:
        items = self.texts["menu_items"]
        state["pending"] = {"type": "menu", "options": [i["intent"] for i in items]}
        return Reply(self.texts["menu"], [Choice(str(n + 1), i["label"]) for n, i in enumerate(items)])

    def _pick(self, text: str, state: dict, ctx: Context) -> list[Reply]:
        pending = state.pop("pending")
        options = pending["options"]
        try:
            index = parse_choice(text, [Choice(str(i + 1), str(o)) for i, o in enumerate(options)])
        except ValueError:
            state["pending"] = pending
            return [Reply(self.texts["choose_again"])]
        chosen = options[index]
        if pending["type"] == "menu":
            return self._intent(chosen, "", state, ctx)
        return self._answer_measure(chosen, "", state, ctx)

    # -- understanding -----------------------------------------------------------------
    def understand(self, text: str, region: str) -> Understanding:
        """The question read: canonical text, entities, the region it is about, ranked measures.

        A pure function of (text, region, day), cached: many villagers ask the same questions.
        """
        return self._understand_cached(text, region, self.today())

    def _read(self, text: str, region: str, on: dt.date) -> Understanding:
        canonical = self.lexicon.canonical(text)
        entities = extract(canonical, self.region_names)
        region = entities.region or region
        params = self.engine.plan(region, on).params
        return Understanding(canonical, entities, region, self.retriever(region).rank(canonical, entities, params))

    def _understand(self, text: str, state: dict, ctx: Context) -> list[Reply]:
        for reader in self.command_readers:
            replies = reader(self, text, state, ctx)
            if replies is not None:
                return replies
        read = self.understand(text, ctx.region)
        canonical, entities, candidates = read.canonical, read.entities, read.candidates
        ctx.region = read.region
        intent = self._phrase_intent(canonical)
        if intent and clean(text) in self.intents[intent] or clean(canonical) in self.intents.get(intent or "", ()):
            return self._intent(intent, "", state, ctx)  # a menu button or the bare command
        top = candidates[0] if candidates else None
        about_household = bool(re.search(r"(我|你|他|她|[\u4e00-\u9fff]{1,3})家|家里|口人", canonical))
        if intent == "household_check" and (about_household or not top or top.score < CONFIDENT):
            return self._intent("household_check", text, state, ctx)
        if intent and intent != "household_check" and intent not in ("greeting", "thanks"):
            return self._intent(intent, text, state, ctx)
        if top and top.score >= CONFIDENT and (len(candidates) == 1 or top.score - candidates[1].score >= MARGIN):
            return self._answer_measure(top.measure.id, canonical, state, ctx, entities)
        if intent in ("greeting", "thanks"):
            return [Reply(self.texts[intent])]
        if top and top.score >= POSSIBLE:
            options = [c.measure.id for c in candidates[:3]]
            state["pending"] = {"type": "measure", "options": options}
            choices = [Choice(str(i + 1), c.measure.title) for i, c in enumerate(candidates[:3])]
            return [Reply(self.texts["did_you_mean"], choices), Reply(self.texts["did_you_mean_tail"])]
        return [Reply(self.texts["out_of_scope"])]

    def _phrase_intent(self, canonical: str) -> str | None:
        t = clean(canonical)
        for name, words in self.intents.items():
            if any(w and w in t for w in words):
                return name
        return None

    def _intent(self, intent: str, text: str, state: dict, ctx: Context) -> list[Reply]:
        handler = self.intent_handlers.get(intent)
        if handler is not None:
            return handler(self, text, state, ctx)
        return [Reply(self.texts.get(intent) or self.texts["out_of_scope"])]

    def _answer_measure(self, measure_id: str, canonical: str, state: dict, ctx: Context, entities=None) -> list[Reply]:
        entities = entities or extract(canonical, self.region_names)

        def prefill(flow_state: dict) -> None:
            flow_state["slots"].update({"measure": measure_id, "member": _plain(entities.member), "household": _plain(entities.household)})

        replies = self._start_flow("policy_question", state, ctx, prefill)
        if ctx.region != self.region:
            replies.insert(0, Reply(self.texts["region_note"].format(region=ctx.view().region.name)))
        return replies

    intent_handlers: dict[str, Callable[[Assistant, str, dict, Context], list[Reply]]] = {}
    # Messages that are commands rather than phrases (邀请码 ABCD-1234, 走访 SQ2026-000001 …):
    # each reader returns replies, or None when the message is not its command.
    command_readers: list[Callable[[Assistant, str, dict, Context], list[Reply] | None]] = []


def command_reader(fn: Callable[[Assistant, str, dict, Context], list[Reply] | None]) -> Callable:
    """Register a reader of command messages, tried before intents and policy questions."""
    Assistant.command_readers.append(fn)
    return fn


def intent(name: str) -> Callable:
    """Register the handler of an intent (household check, applications, reminders, privacy)."""

    def wrap(fn: Callable) -> Callable:
        Assistant.intent_handlers[name] = fn
        return fn

    return wrap


@intent("household_check")
def _household_check(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    from dialogs.actions import merge_description

    def prefill(flow_state: dict) -> None:
        if text:
            merge_description(flow_state, ctx, text)

    return assistant._start_flow("household_check", state, ctx, prefill)


@intent("ask_policy")
def _ask_policy(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return [Reply(assistant.texts["ask_policy"])]


def policy_terms(kb: KnowledgeBase) -> set[str]:
    """Words the pinyin repair may restore: measure keywords and short titles."""
    terms: set[str] = set()
    for measure in kb.all_measures():
        terms.update(k for k in measure.keywords if 2 <= len(k) <= 5)
    return terms


def _plain(facts: dict) -> dict:
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in facts.items()}
