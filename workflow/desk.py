"""The application desk: submitting, taking steps, telling the applicant, linking 代填 applications.

Every rule about applications lives here, so the chat, the admin CLI and the scheduler apply the
same ones. Steps are compare-and-set transitions in the store (two cadres tapping at once: one
wins, the other is told it changed meanwhile), each with an audit event; the applicant's notice
goes into the reminders queue keyed by the event, so it is sent once even if queued twice (the
scheduler re-queues notices a crash may have lost).

代填: an application a cadre fills in belongs to a placeholder owner (channel "proxy") until the
villager confirms it from their own chat account: 确认申请, then the village, the phone number and
the six-digit code the cadre was shown when submitting and gives the villager in person. Knowing
the village and the phone is not enough: the code proves the villager met the cadre. Wrong codes
are limited per account (a day) and per application (then the code is void and the cadre makes a
new one with 确认码 SQ…), and every miss, a wrong code, a used or void one or an application another
account confirmed, gets the same answer. Only a hash of the code is kept (in the store's kv). The
confirming account is recorded in the application data (and in an index in the kv, as the store
cannot look applications up by it); notices go to it from then on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

from eligibility.engine import Engine
from foundation.clock import Clock, add_working_days, end_of, last_day_of, short
from foundation.privacy import mask_text
from policy_kb.model import KnowledgeBase
from storage.base import Store
from storage.records import PERSONAL_FIELDS, Application, ApplicationEvent
from workflow.access import PROXY_CHANNEL, Actor, applicant_account, can_see, in_scope, is_applicant, scoped_applications
from workflow.model import Transition, load_texts, load_workflow
from workflow.plan import item_title, make_plan, to_do

STATUS_KIND = "status"
EMPTY_NOTES = ("无", "没有", "没", "无备注", "不用", "no")
LINK_RETRIES = 5
CODE_DIGITS = 6
TRIES_PER_ACCOUNT = 5  # wrong 代填 codes an account may send in a day
TRIES_PER_APPLICATION = 5  # wrong codes against one application before its code is void
TRIES_WINDOW = 24 * 3600.0


class StepRefused(Exception):
    """A step cannot be taken; the message says why, in the chat's words."""


class TooManyTries(Exception):
    """This account sent too many wrong 代填 codes today."""


class Desk:
    def __init__(self, store: Store, kb: KnowledgeBase, engine: Engine | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self.kb = kb
        self.engine = engine or Engine(kb)
        self.clock = clock or Clock()
        self.workflow = load_workflow()
        self.texts = load_texts()

    # -- deadlines ---------------------------------------------------------------------------
    def deadline(self, state: str, region: str | None, today: dt.date) -> float | None:
        """End of the last working day for `state`, if the region's knowledge base sets one."""
        param = self.workflow.states[state].deadline
        parameter = self.kb.view(region).parameters.get(param) if param else None
        days = parameter.value_at(today) if parameter else None
        return None if days is None else end_of(add_working_days(today, int(days)))

    def overdue(self, app: Application) -> bool:
        return app.deadline is not None and app.deadline <= self.clock.now() and not self.workflow.states[app.state].final

    # -- submitting --------------------------------------------------------------------------
    def submit(self, idem_key: str, data: dict[str, Any], owner: tuple[str, str], village: str, region: str,
               filled_by: tuple[str, str] | None) -> tuple[Application, bool]:
        channel, user = owner
        return self.store.submit_application(idem_key, data, channel=channel, user=user, village=village, region=region, filled_by=filled_by,
                                             state=self.workflow.initial)

    def find_submitted(self, idem_key: str, owner: tuple[str, str]) -> Application | None:
        """The application submitted under `idem_key`, if that submission committed."""
        return next((a for a in self.store.list_applications(user=owner) if a.idem_key == idem_key), None)

    # -- steps -------------------------------------------------------------------------------
    def may_take(self, actor: Actor, app: Application, step: Transition) -> bool:
        if "applicant" in step.roles and is_applicant(actor, app):
            return True
        return actor.role in step.roles and in_scope(actor, app) and not is_applicant(actor, app)

    def conflicted(self, actor: Actor, app: Application, step: Transition) -> bool:
        """Staff whose role takes `step` in scope, on an application they are the applicant of."""
        return actor.role in step.roles and in_scope(actor, app) and is_applicant(actor, app)

    def steps_for(self, actor: Actor, app: Application) -> list[Transition]:
        return [t for t in self.workflow.leaving(app.state) if self.may_take(actor, app, t)]

    def check(self, actor: Actor, app: Application, step: Transition) -> None:
        """Raises StepRefused, saying why, unless `actor` may take `step` on `app` now."""
        t = self.texts
        if not can_see(actor, app):
            raise StepRefused(t["not_found"].format(number=app.number))
        if step.source != app.state:
            raise StepRefused(t["wrong_state"].format(number=app.number, state=self.workflow.states[app.state].label, step=step.label))
        if self.conflicted(actor, app, step):
            self.store.record_event(app.number, actor.id, f"回避：{step.label}（本人的申请，不能自己办理）")
            raise StepRefused(t["conflict_of_interest"].format(number=app.number, step=step.label))
        if not self.may_take(actor, app, step):
            raise StepRefused(t["not_your_step"].format(step=step.label, roles="或".join(t["role_names"][r] for r in step.roles)))

    def take(self, actor: Actor, app: Application, step: Transition, note: str, today: dt.date) -> Application:
        """Moves the application one step (or raises StepRefused), plans support if the step says so, tells the applicant."""
        self.check(actor, app, step)
        note = "" if note.strip() in EMPTY_NOTES else mask_text(note.strip())  # a note is read by many: no full numbers in it
        if step.note_required and not note:
            raise StepRefused(self.texts["note_required"].format(question=step.ask_note))
        moved = self.store.transition(app.number, step.source, step.target, actor.id, note, self.deadline(step.target, app.region, today))
        if moved is None:
            raise StepRefused(self.texts["changed_meanwhile"].format(number=app.number))
        if step.plan:
            moved = self.save_plan(moved, actor, today)
        event = next(e for e in reversed(self.store.events(app.number)) if (e.from_state, e.to_state) == (step.source, step.target))
        self.notify(moved, event)
        return moved

    def save_plan(self, app: Application, actor: Actor, today: dt.date) -> Application:
        account = applicant_account(app)
        profile = self.store.load_profile(*account) if account else None
        while True:
            data = {**app.data, "plan": make_plan(self.engine, app, profile, today), "done": app.data.get("done") or {}}
            saved = self.store.update_application_data(app.number, app.version, data, actor.id, "帮扶计划")
            if saved is not None:
                return saved
            app = self._reload(app)

    def mark_done(self, actor: Actor, app: Application, measure_id: str, done: bool) -> Application:
        """Ticks or unticks one checklist item; retries if someone changed the application meanwhile."""
        while True:
            marks = dict(app.data.get("done") or {})
            if done:
                marks[measure_id] = {"by": actor.id, "at": self.clock.now()}
            else:
                marks.pop(measure_id, None)
            note = f"{'完成' if done else '取消完成'}：{measure_id}"
            saved = self.store.update_application_data(app.number, app.version, {**app.data, "done": marks}, actor.id, note)
            if saved is not None:
                return saved
            app = self._reload(app)

    def _reload(self, app: Application) -> Application:
        fresh = self.store.get_application(app.number)
        if fresh is None:
            raise LookupError(app.number)
        return fresh

    # -- telling the applicant ---------------------------------------------------------------
    def notice(self, app: Application, event: ApplicationEvent) -> tuple[tuple[str, str], str] | None:
        """(account, text) telling the applicant about a step; None for submissions, data edits and their own steps."""
        account = applicant_account(app)
        if account is None or event.from_state is None or event.from_state == event.to_state or event.actor == ":".join(account):
            return None
        step = next((t for t in self.workflow.leaving(event.from_state) if t.target == event.to_state), None)
        if step is None:
            return None
        state = self.workflow.states[event.to_state]
        lines = [self.texts["status_push"].format(number=app.number, step=step.label)]
        if step.tell:
            lines.append(step.tell.format(note=event.note or "（未写明）", number=app.number))
        if step.plan and app.data.get("plan"):
            lines.append(self.plan_text(app))
        if app.state == event.to_state and app.deadline is not None:
            lines.append(self.texts["deadline_line"].format(day=short(last_day_of(app.deadline))))
        lines.append(self.texts["next_line"].format(next=state.next))
        return account, "\n".join(lines)

    def notify(self, app: Application, event: ApplicationEvent) -> int | None:
        """Queues the notice for `event` (once per event, however often this is called)."""
        notice = self.notice(app, event)
        if notice is None:
            return None
        (channel, user), text = notice
        return self.store.schedule_reminder(channel, user, STATUS_KIND, {"texts": [text], "number": app.number}, event.at, dedupe_key=f"status:{event.id}")

    def queue_missed_notices(self, since: float) -> int:
        """Queues notices for steps since `since` whose notice is missing (the process died right after the step)."""
        queued = 0
        for app in self.store.list_applications():
            if app.updated_at < since:
                continue
            for event in self.store.events(app.number):
                if event.at >= since and self.notify(app, event) is not None:
                    queued += 1
        return queued

    def plan_text(self, app: Application) -> str:
        plan = app.data.get("plan") or []
        stars = [item_title(i) for i in plan if to_do(i)]
        others = len(plan) - len(stars)
        lines = [self.texts["plan_head"].format(count=len(stars))] + [f"{n}. {title}" for n, title in enumerate(stars, 1)]
        if others:
            lines.append(self.texts["plan_more"].format(count=others))
        return "\n".join(lines)

    # -- 代填: the villager confirms from their own account ---------------------------------------
    def proxy_waiting(self, phone: str, village: str) -> list[Application]:
        """Open applications a cadre filled in for this village and phone number that no villager confirmed yet."""
        open_states = [s for s, state in self.workflow.states.items() if not state.final]
        return [a for a in self.store.list_applications(villages=[village], states=open_states)
                if a.channel == PROXY_CHANNEL and not a.data.get("account") and a.data.get("phone") == phone]

    def new_proxy_code(self, app: Application) -> str:
        """A fresh confirmation code for a 代填 application (any earlier one is void); shown to the cadre once."""
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        self.store.kv_set(self._code_key(app.number), self._code_hash(app.number, code))
        self.store.kv_set(self._tries_key("application", app.number), "0", TRIES_WINDOW)
        return code

    def proxy_code_void(self, app: Application) -> bool:
        return app.channel == PROXY_CHANNEL and not app.data.get("account") and not self.store.kv_get(self._code_key(app.number))

    def confirm_proxy(self, actor: Actor, village: str, phone: str, code: str) -> Application | None:
        """Makes `actor` the applicant of the 代填 application with this village, phone and code;
        None for any miss (raises TooManyTries once the account has used up its tries)."""
        account_tries = self._tries_key("account", actor.id)
        if self._tries(account_tries) >= TRIES_PER_ACCOUNT:
            raise TooManyTries
        for app in self.proxy_waiting(phone, village):
            stored = self.store.kv_get(self._code_key(app.number))
            if app.filled_by == (actor.channel, actor.user) or not stored:
                continue
            if hmac.compare_digest(stored, self._code_hash(app.number, code)):
                linked = self.link(app, actor)  # once linked it waits no more: the code opens nothing again
                if linked is not None:
                    return linked
                continue
            app_tries = self._tries_key("application", app.number)
            if self._bump(app_tries) >= TRIES_PER_APPLICATION:
                self._void_code(app.number)
                self.store.record_event(app.number, "system", "确认码输错次数过多，已作废")
        self._bump(account_tries)
        return None

    def _void_code(self, number: str) -> None:
        self.store.kv_set(self._code_key(number), "")

    def _code_key(self, number: str) -> str:
        return f"workflow:proxy_code:{number}"

    def _code_hash(self, number: str, code: str) -> str:
        return hashlib.sha256(f"{number}:{code}".encode()).hexdigest()

    def _tries_key(self, kind: str, who: str) -> str:
        return f"workflow:proxy_tries:{kind}:{who}"

    def _tries(self, key: str) -> int:
        return int(self.store.kv_get(key) or 0)

    def _bump(self, key: str) -> int:
        tries = self._tries(key) + 1
        self.store.kv_set(key, str(tries), TRIES_WINDOW)
        return tries

    def link(self, app: Application, actor: Actor) -> Application | None:
        """Makes `actor` the applicant of a 代填 application; None if someone else confirmed it first."""
        for _ in range(LINK_RETRIES):
            if app.data.get("account"):
                return app if is_applicant(actor, app) else None
            data = {**app.data, "account": actor.id, "confirmed_at": self.clock.now()}
            linked = self.store.update_application_data(app.number, app.version, data, actor.id, "申请人本人确认代填的申请")
            if linked is not None:
                self._remember_link(actor, app.number)
                return linked
            app = self._reload(app)
        return None

    def _link_key(self, actor: Actor) -> str:
        return f"workflow:linked:{actor.channel}:{actor.user}"

    def _remember_link(self, actor: Actor, number: str) -> None:
        """An index from the villager's account to the 代填 applications they confirmed (the store has none)."""
        numbers = self.linked_numbers(actor)
        if number not in numbers:
            self.store.kv_set(self._link_key(actor), json.dumps(numbers + [number]))

    def linked_numbers(self, actor: Actor) -> list[str]:
        return json.loads(self.store.kv_get(self._link_key(actor)) or "[]")

    def own(self, actor: Actor) -> list[Application]:
        """The actor's applications as applicant: their own and the 代填 ones they confirmed."""
        apps = self.store.list_applications(user=(actor.channel, actor.user))
        for number in self.linked_numbers(actor):
            app = self.store.get_application(number)
            if app is not None and is_applicant(actor, app):
                apps.append(app)
        return apps

    def forget(self, actor: Actor) -> int:
        """Blanks the personal fields of the 代填 applications the actor confirmed (delete_personal_data covers their own)."""
        blanked = 0
        for number in self.linked_numbers(actor):
            app = self.store.get_application(number)
            while app is not None and is_applicant(actor, app):
                data = {**app.data, **dict.fromkeys(PERSONAL_FIELDS), "account": None}
                if self.store.update_application_data(number, app.version, data, "system", "personal data deleted at the applicant's request"):
                    blanked += 1
                    break
                app = self.store.get_application(number)
        self.store.kv_set(self._link_key(actor), "[]")
        return blanked

    # -- work lists --------------------------------------------------------------------------
    def todo(self, actor: Actor) -> list[Application]:
        """Applications waiting for a step by this actor: overdue first, then by deadline, then oldest."""
        apps = [a for a in scoped_applications(self.store, actor, self.workflow.waiting_for(actor.role)) if self.steps_for(actor, a)]
        return sorted(apps, key=lambda a: (not self.overdue(a), a.deadline if a.deadline is not None else float("inf"), a.id))
