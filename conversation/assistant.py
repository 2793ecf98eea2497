"""The conversation core: one message in, replies out, for any channel.

Per message: the session is loaded once (conversation/session.py), the message is dispatched,
the session is saved once. Dispatch, in order: a silent session older than 30 minutes ends
politely; global commands (菜单, 帮助, 取消, 返回, 重新开始) work anywhere; a running flow gets the
answer; a digit answers the numbered list last offered; command messages (invite codes,
application numbers) go to the skill that reads them; otherwise the message is understood
(understanding/router.py) and handed to the skill whose intent it is.

Which code answers a message is decided here and in the router, by reading: the skills are a
plain list handed in by the composition root (app/wiring.py).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from conversation.asking import plain
from conversation.context import Context, Services
from conversation.flow import FlowRunner, FlowTurn, load_flows
from conversation.messages import ChannelLimits, Choice, Incoming, Reply
from conversation.render import fit
from conversation.session import SESSION_TIMEOUT, Session, Sessions, Turn
from conversation.skill import Handler, Outcome, Skill, Start, merge_hooks
from foundation import checks
from foundation.datafile import load_data
from foundation.privacy import mask_text
from foundation.text import clean, printable
from storage.base import StoreUnavailable
from understanding.answers import is_refusal, is_unknown, ordinal, parse_choice
from understanding.router import Reading, Route

log = logging.getLogger(__name__)
_ENDS_AS_QUESTION = re.compile(r"[？?吗呢嘛么]$")

TEXTS_FILE = Path(__file__).with_name("texts.yaml")
MAX_TEXT = 500
HOUSEHOLD_FLOW = "household_check"
DELETE_FLOW = "delete_data"  # the intent and the flow of 删除我的信息
# Intents answered inside a form too: they only read (an application's true state, the income line).
READ_ONLY_INTENTS = ("monitoring_check", "application_status")
# The intents that answer a question about a measure, a topic, or from a document's sentence.
ANSWERING = {"measure": "measure_question", "topic": "topic_question", "passage": "passage_question"}


def load_texts(path: Path = TEXTS_FILE) -> dict[str, Any]:
    return dict(checks.mapping(load_data(path), str(path), 1, path.name))


def _asks(route: Route, text: str) -> bool:
    """For a free-text answer: whether the message is a question the knowledge answers rather than
    a situation described with a question word in it."""
    reading = route.reading
    if reading is None:
        return False
    ends = bool(_ENDS_AS_QUESTION.search(text.strip()))
    states = bool(reading.entities.facts) or reading.entities.amount is not None
    asked = route.answers or route.kind in ("intent", "choose")
    return not states or (asked and (ends or reading.how_much or reading.procedure or route.kind == "intent"))


class Assistant:
    """Thread-safe for different users; one user's messages must arrive in order."""

    def __init__(self, services: Services, skills: list[Skill]) -> None:
        self.services = services
        self.texts = services.texts
        hooks = merge_hooks(skills)
        self.flows = load_flows([path for skill in skills for path in skill.flows], hooks)
        self.runner = FlowRunner(self.flows, hooks)
        self.intents: dict[str, Handler] = {}
        for skill in skills:
            for name, handler in skill.intents.items():
                if name in self.intents:
                    raise ValueError(f"intent {name} is answered by two skills")
                self.intents[name] = handler
        self.readers = [reader for skill in skills for reader in skill.readers]
        self.sessions = Sessions(services.store)

    @property
    def store(self):
        return self.services.store

    # -- what channels call ----------------------------------------------------------------
    def handle(self, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        """One message: load the session, answer, save the session."""
        turn = Turn(self.sessions.load(msg.channel, msg.user))
        replies = self.step(turn, msg, limits)
        self.sessions.save(turn)
        return replies

    def claim(self, msg: Incoming) -> Turn | None:
        """For channels that retry (WeChat): the turn of a new message, None for a retry."""
        return self.sessions.claim(msg.message_id, msg.channel, msg.user)

    def finish(self, turn: Turn, passive: list[str]) -> None:
        """Saves the turn's session together with the passive reply a retry will repeat."""
        self.sessions.save(turn, passive)

    def last_active(self, channel: str, user: str) -> float | None:
        """When the user last wrote (WeChat's 48-hour window for customer-service messages)."""
        return self.sessions.saved_at(channel, user)

    def step(self, turn: Turn, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        """The replies to `msg`, changing `turn.session`; no session I/O (the caller saves)."""
        session = turn.session
        try:
            replies = self._step(session, msg, limits)
        except StoreUnavailable:  # the database is busy or gone: the stored session stays as it was, the user sends again
            log.warning("the store did not answer a message on %s in time", msg.channel)
            turn.keep = False
            replies = [Reply(self.texts["store_busy"])]
        except Exception:  # a bug must never show a traceback to a villager, nor trap them in a loop
            log.exception("failed to handle a message on %s", msg.channel)
            session.end_flow()
            replies = [Reply(self.texts["crashed"])]
        return fit([r for r in replies if r.text], limits)

    def warm_up(self) -> None:
        """Builds the default county's question index now rather than on the first question."""
        self.services.understander.warm_up(self.services.default_region)

    # -- one message -----------------------------------------------------------------------
    def _step(self, session: Session, msg: Incoming, limits: ChannelLimits) -> list[Reply]:
        clock = self.services.clock
        now = clock.now()
        replies: list[Reply] = []
        ctx = Context(self.services, session, limits, session.region or self.services.default_region, clock.today())
        session.recent = {k: v for k, v in session.recent.items() if not isinstance(v, dict) or now - v.get("at", now) <= SESSION_TIMEOUT}
        if session.expired:
            session.expired = False
            replies.append(Reply(self.texts["expired"]))
        elif session.flow is not None and session.updated is not None and now - session.updated > SESSION_TIMEOUT:
            if not session.keeps_draft:
                session.end_flow()
                replies.append(Reply(self.texts["timeout"]))
            elif not self.services.understander.command((msg.text or "").strip()):
                # A form the user consented to was kept: they are told so and asked its question
                # again; a message after half an hour is not taken as the answer to it.
                session.updated = now
                return [Reply(self.texts["draft_kept"]), self.runner.prompt(session.flow, ctx)]
        replies += self._dispatch(msg, session, ctx)
        if ctx.region != self.services.default_region or session.region:
            session.region = ctx.region
        session.updated = now
        return replies

    def _dispatch(self, msg: Incoming, session: Session, ctx: Context) -> list[Reply]:
        if msg.kind == "unfollow":
            session.end_flow()
            session.pending = None
            session.region = None
            session.recent = {}
            return []
        if msg.kind == "follow":
            session.end_flow()
            return [Reply(self.texts["welcome"]), self._menu(session)]
        text = printable(msg.text or "").strip()  # from any channel: no NUL, control character or lone surrogate goes further
        notes: list[Reply] = []
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            notes.append(Reply(self.texts["too_long"]))
        if not clean(text):
            again = [self.runner.prompt(session.flow, ctx)] if session.flow is not None else []
            return [Reply(self.texts["empty"])] + again
        command = self.services.understander.command(text)
        if command:
            return notes + self._run_command(command, session, ctx)
        if session.flow is not None:
            return notes + self._continue(text, session, ctx)
        pending = session.pending
        if pending and (ordinal(text).isdigit() or self._option_named(text, pending, ctx) is not None):
            return notes + self._pick(text, session, ctx)
        session.pending = None
        replies = self._understand(text, session, ctx)
        if pending and session.pending is None and session.flow is None and replies and replies[-1].text == self.texts["out_of_scope"]:
            session.pending = pending  # a reply not understood keeps the list it may have meant to answer
            return notes + [Reply(self.texts["choose_kept"], self._choices(pending, ctx))]
        return notes + replies

    # -- commands and flows ------------------------------------------------------------------
    def _run_command(self, command: str, session: Session, ctx: Context) -> list[Reply]:
        flow = session.flow
        if command == "help" and flow is not None:
            return [Reply(self.texts["help"]), self.runner.prompt(flow, ctx)]
        if command in ("menu", "help"):
            session.end_flow()
            return [self._menu(session)]
        if command == "cancel":
            session.end_flow()
            session.pending = None
            return [Reply(self.texts["cancelled" if flow else "nothing_to_cancel"])]
        if command == "back":
            if flow is None:
                return [Reply(self.texts["nothing_to_cancel"])]
            if not session.back():
                return [Reply(self.texts["nothing_to_go_back"]), self.runner.prompt(flow, ctx)]
            return [Reply(self.texts["went_back"]), self.runner.prompt(flow, ctx)]
        # restart
        if flow is None:
            return [self._menu(session)]
        return [Reply(self.texts["restarted"])] + self._start(session, ctx, Start(flow.flow))

    def _start(self, session: Session, ctx: Context, start: Start) -> list[Reply]:
        state, turn = self.runner.start(start.flow, ctx, start.slots)
        session.flow = state
        session.history = []
        return self._after(session, ctx, turn)

    def _continue(self, text: str, session: Session, ctx: Context) -> list[Reply]:
        assert session.flow is not None
        if self.services.understander.is_intent_phrase(DELETE_FLOW, text) and session.flow.flow != DELETE_FLOW:
            # Wanting one's data deleted is never put off until a form is done.
            session.end_flow()
            return [Reply(self.texts["left_for_delete"])] + self._start(session, ctx, Start(DELETE_FLOW))
        step = self.runner.step(session.flow)
        if session.flow.flow != HOUSEHOLD_FLOW and step.asides and self.services.understander.read(text, ctx.region, ctx.today).people >= 2:
            # A family described in the middle of something else: kept, and the check offered.
            session.recent["description"] = {"text": mask_text(text[:MAX_TEXT]), "at": self.services.clock.now()}
            return [Reply(self.texts["offer_check"]), self.runner.prompt(session.flow, ctx)]
        if step.asides and not (step.type == "yes_no" and is_refusal(text)):  # to a yes/no question a refusal is no
            aside = self._aside(text, session, ctx, free_text=step.type == "text")
            if aside is not None:
                return aside
            if is_refusal(text) and step.type != "yes_no":
                return [Reply(self.texts["refused"]), self.runner.prompt(session.flow, ctx)]
        before = copy.deepcopy(session.flow)
        turn = self.runner.answer(session.flow, text, ctx)
        if not turn.done:
            session.remember(before, session.flow)
        replies = self._after(session, ctx, turn)
        if turn.reroute:
            return replies + self._understand(text, session, ctx)
        return replies

    def _aside(self, text: str, session: Session, ctx: Context, free_text: bool) -> list[Reply] | None:
        """A question typed where the flow waits for an answer: answered, then the flow's question
        again; nothing is stored. None when the message is no question. Where the answer is free
        text ("老伴住院花了3万，不知道怎么办"), a message that states a situation is the answer
        unless it asks how much or how something is done."""
        understander = self.services.understander
        if not understander.is_question(text) or is_unknown(text):
            return None
        assert session.flow is not None
        route = understander.route(text, ctx.region, ctx.today)
        if free_text and not _asks(route, text):
            return None
        if route.kind == "choose":  # no numbered list inside a form: the likeliest answer
            route = _option_route(route.options[0], ctx, route.reading)
        if route.kind in ANSWERING:
            answer = self.intents[ANSWERING[route.kind]](ctx, text, route).replies
        elif route.kind == "intent" and route.name in READ_ONLY_INTENTS:
            answer = self.intents[route.name](ctx, text, route).replies
        elif route.kind == "intent":
            answer = [Reply(self.texts["aside_later"])]
        else:
            answer = [Reply(self.texts["aside_unknown"])]
        return answer + [Reply(self.texts["back_to_question"]), self.runner.prompt(session.flow, ctx)]

    def _after(self, session: Session, ctx: Context, turn: FlowTurn) -> list[Reply]:
        if turn.done:
            session.end_flow()
        if turn.start is not None:
            return turn.replies + self._start(session, ctx, turn.start)
        return turn.replies

    def _outcome(self, session: Session, ctx: Context, outcome: Outcome) -> list[Reply]:
        replies = list(outcome.replies)
        if outcome.start is not None:
            replies += self._start(session, ctx, outcome.start)
        return replies

    # -- menus and choices -------------------------------------------------------------------
    def _menu(self, session: Session) -> Reply:
        items = self.texts["menu_items"]
        session.pending = {"type": "menu", "options": [i["intent"] for i in items]}
        return Reply(self.texts["menu"], [Choice(str(n + 1), i["label"]) for n, i in enumerate(items)])

    def _choices(self, pending: dict, ctx: Context) -> list[Choice]:
        """The numbered list last offered, with the words it was offered in."""
        options = pending.get("options") or []
        if pending.get("type") == "menu":
            labels = {i["intent"]: i["label"] for i in self.texts["menu_items"]}
            return [Choice(str(n + 1), labels.get(o, o)) for n, o in enumerate(options)]
        view = ctx.view()
        return [Choice(str(n + 1), getattr(view.measure(o) or view.topic(o), "title", o)) for n, o in enumerate(options)]

    def _option_named(self, text: str, pending: dict, ctx: Context) -> int | None:
        """The option whose words the message is ("家庭核查" for 2. 家庭核查（看看…）), if any."""
        t = clean(text)
        if len(t) < 2:
            return None
        for n, choice in enumerate(self._choices(pending, ctx)):
            label = clean(choice.label).split("（")[0]
            if t == label or (len(t) >= 3 and label.startswith(t)):
                return n
        return None

    def _pick(self, text: str, session: Session, ctx: Context) -> list[Reply]:
        pending = session.pending or {}
        session.pending = None
        options = pending.get("options") or []
        named = self._option_named(text, pending, ctx)
        try:
            index = named if named is not None else parse_choice(text, [Choice(str(i + 1), str(o)) for i, o in enumerate(options)])
        except ValueError:
            session.pending = pending
            return [Reply(self.texts["choose_again"], self._choices(pending, ctx))]
        chosen = options[index]
        if pending.get("type") == "menu":
            return self._intent(Route("intent", chosen), "", session, ctx)
        return self._intent(_option_route(chosen, ctx, None), "", session, ctx)

    # -- understanding -----------------------------------------------------------------------
    def _understand(self, text: str, session: Session, ctx: Context) -> list[Reply]:
        for reader in self.readers:
            outcome = reader(ctx, text)
            if outcome is not None:
                return self._outcome(session, ctx, outcome)
        route = self._with_known_facts(self.services.understander.route(text, ctx.region, ctx.today), text, session)
        if route.reading is not None:
            ctx.region = route.reading.region
            told = route.reading.people or set(route.reading.entities.household) - {"monitored"}
            if told and not (route.kind == "intent" and route.name == "household_check"):
                # Someone or the household's situation described ("房子震裂了"), but asked about something
                # else: kept, so a check asked for next starts from it.
                session.recent["description"] = {"text": mask_text(text[:MAX_TEXT]), "at": self.services.clock.now()}
        if route.kind == "intent" or route.kind in ANSWERING:
            if route.kind in ("measure", "topic"):
                member = plain(route.reading.entities.member) if route.reading else {}
                session.recent["answered"] = {"id": ("topic:" if route.kind == "topic" else "") + route.name, "member": member}
            replies = self._intent(route, text, session, ctx)
            return replies + ([Reply(self.texts["offer_" + route.offer])] if route.offer else [])
        if route.kind == "smalltalk":
            return [Reply(self.texts[route.name])]
        if route.kind == "choose":
            return self._answer_and_offer(route, text, session, ctx)
        return [Reply(self.texts["out_of_scope"])]

    def _answer_and_offer(self, route: Route, text: str, session: Session, ctx: Context) -> list[Reply]:
        """Two or three measures match about equally: the likeliest is answered at once (answer
        first), the others offered by number below it; one per title (a county's version of a
        measure is not a second choice)."""
        view = ctx.view()
        titles: dict[str, str] = {}
        for option in route.options:
            found = view.measure(option) or view.topic(option)
            if found is not None and found.title not in titles.values():
                titles[option] = found.title
        if not titles:
            return [Reply(self.texts["out_of_scope"])]
        first, *others = titles
        replies = self._intent(_option_route(first, ctx, route.reading), text, session, ctx)
        if others and session.flow is None:
            session.pending = {"type": "measure", "options": others}
            replies.append(Reply(self.texts["also_asked"], [Choice(str(i + 1), titles[o]) for i, o in enumerate(others)]))
        return replies

    def _with_known_facts(self, route: Route, text: str, session: Session) -> Route:
        """What the household said earlier in this conversation (我们是监测户) holds for the next
        question too, and is never asked again; a message that only adds such a fact ("我们是低保户哈")
        answers the last question again with it. Kept in the session only, which expires."""
        reading = route.reading
        if reading is None:
            return route
        said = dict(reading.entities.household)
        known = {**session.recent.get("facts", {}), **said}
        if known:
            session.recent["facts"] = known
        if known != said:
            reading = replace(reading, entities=replace(reading.entities, household=known))
        last = session.recent.get("answered")
        if (said and last and not reading.people and not reading.entities.member and not self.services.understander.is_question(text)
                and route.kind != "intent"):  # the last answer again, about the same person, with what was added
            reading = replace(reading, entities=replace(reading.entities, member=dict(last["member"])))
            return Route("topic" if last["id"].startswith("topic:") else "measure", last["id"].removeprefix("topic:"), reading=reading)
        return route if known == said else replace(route, reading=reading)

    def _intent(self, route: Route, text: str, session: Session, ctx: Context) -> list[Reply]:
        name = ANSWERING.get(route.kind, route.name)
        handler: Callable[..., Outcome] | None = self.intents.get(name)
        if handler is None:
            return [Reply(self.texts.get(name) or self.texts["out_of_scope"])]
        return self._outcome(session, ctx, handler(ctx, text, route))


def _option_route(option: str, ctx: Context, reading: Reading | None) -> Route:
    """The answer route for an offered option (a measure id, or a topic's index key)."""
    topic = ctx.view().topic(option)
    return Route("topic", topic.id, reading=reading) if topic is not None else Route("measure", option, reading=reading)
