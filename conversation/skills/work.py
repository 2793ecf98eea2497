"""Staff in the chat: 我的待办 (work.yaml), one-line steps, the checklist, 月报, 复核, invite codes.

A step can be taken two ways: typed in one line ("走访 SQ2026-000001 已入户核实"), or picked
from 我的待办 with numbered choices, which then asks for the note. Both end in Desk.take.
Reader: invite codes, application numbers, 我的待办, 月报, 申请复核.
"""

from __future__ import annotations

from pathlib import Path

from conversation.context import Context
from conversation.messages import Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from conversation.skills.shared import MAX_CHOICES, find_number, numbered, pick, say, text, words
from foundation.clock import last_day_of, short
from foundation.text import clean
from storage.records import Application
from workflow.access import PROXY_CHANNEL, Actor, applicant_account, can_see, in_scope, invite_code_in
from workflow.desk import Desk, StepRefused
from workflow.model import Transition
from workflow.plan import checklist, is_done, item_title
from workflow.views import status_text, summary, todo_label

FLOW = "work_todo"
CHECKLIST = "checklist"  # the pseudo-step "look at the support checklist" in work_todo's slots


def take_step(ctx: Context, app: Application, step: Transition, note: str) -> list[Reply]:
    """Takes the step and says what happened (or why not)."""
    d, actor = ctx.desk, ctx.actor
    try:
        moved = d.take(actor, app, step, note, ctx.today)
    except StepRefused as exc:
        return [Reply(str(exc))]
    lines = [text("step_done", number=moved.number, step=step.label, state=d.workflow.states[moved.state].label)]
    if moved.deadline is not None:
        lines.append(text("deadline_line", day=short(last_day_of(moved.deadline))))
    if step.plan:
        lines += [d.plan_text(moved), text("checklist_hint", number=moved.number)]
    account = applicant_account(moved)
    if account is None:
        lines.append(text("applicant_not_confirmed"))
    elif account != (actor.channel, actor.user):
        lines.append(text("applicant_told"))
    return [Reply("\n".join(lines))]


def _application(ctx: Context, number: str) -> tuple[Desk, Actor, Application | None]:
    d, actor = ctx.desk, ctx.actor
    app = d.store.get_application(number)
    return d, actor, app if app is not None and can_see(actor, app) else None


# -- work_todo flow -------------------------------------------------------------------------------
def application_chosen(ctx: Context, state: FlowState) -> bool:
    return bool(state.slots.get("number"))


def pick_application(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    d, actor = ctx.desk, ctx.actor
    sub = state.sub
    if answer is not None and sub.get("numbers"):
        index = pick(answer, numbered(sub["numbers"]))
        if index is not None:
            state.slots["number"] = sub["numbers"][index]
            return ActionResult([])
    apps = d.todo(actor)
    if not apps:
        return ActionResult(say("todo_empty"), end=True)
    shown = apps[:MAX_CHOICES]
    sub["numbers"] = [a.number for a in shown]
    head = text("todo_head", count=len(apps), overdue=sum(d.overdue(a) for a in apps))
    replies = [Reply(head, numbered([todo_label(d, a) for a in shown]))]
    if len(apps) > len(shown):
        replies.append(Reply(text("todo_more", count=len(apps) - len(shown))))
    if answer is not None:
        replies.insert(0, Reply(text("choose_number")))
    return ActionResult(replies, asking=True)


def pick_step(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    slots = state.slots
    d, actor, app = _application(ctx, slots["number"])
    if app is None:
        return ActionResult(say("not_found", number=slots["number"]), end=True)
    preset = slots.get("step")  # chosen in the command that started the flow
    if preset == CHECKLIST:
        return ActionResult([], goto=CHECKLIST)
    if preset:
        try:
            d.check(actor, app, d.workflow.by_word(preset))  # type: ignore[arg-type]
        except StepRefused as exc:
            return ActionResult([Reply(str(exc))], end=True)
        return ActionResult([])
    options = [(t.word, t.label) for t in d.steps_for(actor, app)]
    if checklist(app) and in_scope(actor, app):
        options.append((CHECKLIST, text("checklist_choice")))
    if not options:
        return ActionResult([Reply(f"{summary(d, app)}\n{text('nothing_to_do')}")], end=True)
    choices = numbered([label for _, label in options])
    if answer is not None:
        index = pick(answer, choices)
        if index is not None:
            slots["step"] = options[index][0]
            return ActionResult([], goto=CHECKLIST if slots["step"] == CHECKLIST else None)
    lead = [Reply(text("choose_number"))] if answer is not None else []
    return ActionResult(lead + [Reply(f"{summary(d, app)}\n{text('pick_step')}", choices)], asking=True)


def take_step_with_note(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    slots = state.slots
    d, _actor, app = _application(ctx, slots["number"])
    step = d.workflow.by_word(slots["step"])
    if app is None or step is None:
        return ActionResult(say("not_found", number=slots["number"]), end=True)
    if answer is None:
        return ActionResult([Reply(step.ask_note)], asking=True)
    if step.note_required and not clean(answer):
        return ActionResult([Reply(step.ask_note)], asking=True)
    return ActionResult(take_step(ctx, app, step, answer), end=True)


def tick_checklist(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    """The household's ★ (and county) measures with done marks; a digit ticks or unticks one, 0 ends."""
    slots = state.slots
    d, actor, app = _application(ctx, slots["number"])
    if app is None or not in_scope(actor, app):
        return ActionResult(say("not_found", number=slots["number"]), end=True)
    items = checklist(app)
    if not items:
        return ActionResult(say("checklist_empty", number=app.number), end=True)
    lead: list[Reply] = []
    if answer is not None:
        if clean(answer) in words("finish_words"):
            done = sum(is_done(app, i["id"]) for i in items)
            return ActionResult(say("checklist_saved", number=app.number, done=done, total=len(items)), end=True)
        index = pick(answer, numbered([i["title"] for i in items]))
        if index is None:
            lead = [Reply(text("choose_number"))]
        else:
            item = items[index]
            app = d.mark_done(actor, app, item["id"], not is_done(app, item["id"]))
    labels = [f"{'✓' if is_done(app, i['id']) else '□'} {item_title(i)}" for i in items]
    done = sum(is_done(app, i["id"]) for i in items)
    head = text("checklist_head", number=app.number, done=done, total=len(items))
    return ActionResult(lead + [Reply(head, numbered(labels)), Reply(text("checklist_tail"))], asking=True)


# -- commands -------------------------------------------------------------------------------------
def start_work(number: str | None = None, step: str | None = None) -> Outcome:
    return Outcome(start=Start(FLOW, {k: v for k, v in (("number", number), ("step", step)) if v}))


def number_command(ctx: Context, number: str, verb: str, note: str) -> Outcome:
    """"SQ2026-000001" (status), "清单 SQ…" (checklist), "<step word> SQ… <note>" (take the step)."""
    d, actor, app = _application(ctx, number)
    if app is None:
        return Outcome(say("not_found", number=number))
    verb = clean(verb)
    if not verb:
        if not in_scope(actor, app):
            return Outcome([Reply(status_text(d, app))])
        hint = "、".join(f"“{t.word} {app.number} 备注”" for t in d.steps_for(actor, app))
        return Outcome([Reply(summary(d, app) + (f"\n{text('steps_hint', steps=hint)}" if hint else ""))])
    if verb in words("checklist_words"):
        return start_work(number, CHECKLIST)
    if verb in words("proxy_code_words"):
        return proxy_code_command(ctx, app)
    step = d.workflow.by_word(verb)
    if step is None:
        known = "、".join(dict.fromkeys(t.word for t in d.workflow.transitions))
        return Outcome(say("unknown_step", verb=verb, steps=known))
    if step.note_required and not note:
        return start_work(number, step.word)
    return Outcome(take_step(ctx, app, step, note))


def proxy_code_command(ctx: Context, app: Application) -> Outcome:
    """确认码 SQ…: a new code for a 代填 application still waiting for the villager, for the cadres of its village."""
    d, actor = ctx.desk, ctx.actor
    if actor.role != "cadre" or not in_scope(actor, app):
        return Outcome(say("not_your_step", step="生成确认码", roles=d.texts["role_names"]["cadre"]))
    if app.channel != PROXY_CHANNEL or app.data.get("account"):
        return Outcome(say("proxy_code_not_needed", number=app.number))
    return Outcome(say("proxy_code_new", number=app.number, code=d.new_proxy_code(app)))


def todo_command(ctx: Context) -> Outcome:
    if not ctx.actor.staff:
        return Outcome(say("staff_only"))
    return start_work()


def report_command(ctx: Context) -> Outcome:
    from workflow.report import monthly_report  # staff only: not loaded for villagers' chats

    actor = ctx.actor
    if not actor.staff:
        return Outcome(say("staff_only"))
    return Outcome([Reply(monthly_report(ctx.desk, actor, ctx.today))])


def review_command(ctx: Context) -> Outcome:
    """申请复核: the applicant's own step on a decision they dispute."""
    d, actor = ctx.desk, ctx.actor
    for app in reversed(d.own(actor)):
        step = next((t for t in d.steps_for(actor, app) if "applicant" in t.roles), None)
        if step is not None:
            return start_work(app.number, step.word)
    return Outcome(say("review_none"))


def invite_command(ctx: Context, code: str) -> Outcome:
    """A one-time invite code sent in the chat grants its role to the sender."""
    invite = ctx.store.redeem_invite(code, ctx.channel, ctx.user)
    if invite is None:
        return Outcome(say("invite_bad"))
    names = ctx.desk.texts["role_names"]
    region = ctx.kb.view(invite.region).region.name if invite.region else ""
    where = "、".join(invite.villages) or region or "—"
    return Outcome(say("invite_ok", role=names[invite.role], where=where) + say(f"invite_hint_{invite.role}"))


def work_command(ctx: Context, said: str) -> Outcome | None:
    """Replies to a staff command, or None if the message is not one."""
    code = invite_code_in(said)
    if code:
        return invite_command(ctx, code)
    found = find_number(said)
    if found:
        return number_command(ctx, *found)
    word = clean(said)
    if word in words("todo_words"):
        return todo_command(ctx)
    if word in words("report_words"):
        return report_command(ctx)
    if word in words("review_words"):
        return review_command(ctx)
    return None


SKILL = Skill(
    name="work",
    flows=(Path(__file__).with_name("work.yaml"),),
    hooks=Hooks(
        predicates={"application_chosen": application_chosen},
        actions={"pick_application": pick_application, "pick_step": pick_step, "take_step": take_step_with_note,
                 "tick_checklist": tick_checklist},
    ),
    readers=(work_command,),
)
