"""One application: the household's facts (numbers masked), the timeline from the audit log, the
★ support plan, and a form for each step the signed-in role may take next.

Steps go through Desk.take, as in the chat: its scope, role, state and conflict-of-interest
checks apply, a note is required where states.yaml says so, and the applicant is told in the
chat. An application outside the actor's scope is a 404, the same as one that does not exist.
"显示完整号码" asks for a reason and writes it to the audit log before the numbers are shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from foundation.clock import local
from foundation.privacy import mask_id, mask_phone, mask_text
from storage.records import Application
from workflow.access import PROXY_CHANNEL, Actor, applicant_account, can_see
from workflow.desk import StepRefused
from workflow.plan import is_done, item_title, make_plan, to_do
from workflow.views import deadline_text, event_label

if TYPE_CHECKING:
    from channels.web.app import Console

NAV: list[tuple[str, str]] = []
MAX_NOTE = 500


def routes(console: Console) -> list[web.RouteDef]:
    desk = console.desk

    def find(request: web.Request, actor: Actor) -> Application:
        number = console.number_of(request.match_info["ref"])
        app = console.store.get_application(number) if number else None
        if app is None or not can_see(actor, app):
            raise console.refuse(request, "not_found", 404)
        return app

    def page(request: web.Request, actor: Actor, app: Application, *, full: bool = False, error: str = "",
             done: str = "", status: int = 200) -> web.Response:
        d = app.data
        ref = console.ref(app.number)
        facts = [
            ("姓名", d.get("name") or "（个人信息已删除）"),
            ("村", app.village or "—"),
            ("手机号", (d.get("phone") if full else mask_phone(d.get("phone"))) or "—"),
            ("身份证号", (d.get("id_number") if full else mask_id(d.get("id_number"))) or "未填"),
            ("家庭人口", f"{d.get('size', '—')}人"),
            ("上年家庭纯收入", f"{d.get('income', 0):g}元（人均{d.get('income_per_head', 0):g}元）"),
            ("主要困难", d.get("risk") or "—"),
            ("情况说明", mask_text(d.get("risk_detail") or "") or "—"),
        ]
        if app.filled_by:
            confirmed = app.channel != PROXY_CHANNEL or d.get("account")
            facts.append(("代填", "村干部代填，申请人已确认" if confirmed else "村干部代填，申请人尚未确认"))
        timeline = []
        for event in console.store.events(app.number):
            label = event_label(desk, event)
            timeline.append({"at": local(event.at).strftime("%Y-%m-%d %H:%M"), "label": label or event.note or "记录",
                             "note": event.note if label and event.from_state is not None else "", "actor": event.actor})
        stored = d.get("plan")
        if stored:
            plan, planned = stored, True
        else:
            account = applicant_account(app)
            profile = console.store.load_profile(*account) if account else None
            plan, planned = make_plan(desk.engine, app, profile, console.today()), False
        items = [{"title": item_title(i), "star": to_do(i), "done": is_done(app, i.get("id", ""))} for i in plan]
        steps = [{"word": t.word, "label": t.label, "ask": t.ask_note, "required": t.note_required} for t in desk.steps_for(actor, app)]
        state = desk.workflow.states[app.state]
        return console.render(request, "application.html", {
            "app": app, "ref": ref, "facts": facts, "full": full, "timeline": timeline, "plan": items, "planned": planned,
            "state": state.label, "deadline": deadline_text(desk, app), "overdue": desk.overdue(app), "next": state.next,
            "steps": steps, "error": error, "done": done, "told": applicant_account(app) is not None, "conflicted": any(desk.conflicted(actor, app, t) for t in desk.workflow.leaving(app.state)),
        }, status=status)

    async def show(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        app = find(request, actor)
        done = request.query.get("done", "")
        step = desk.workflow.by_word(done) if done else None
        return page(request, actor, app, done=step.label if step else "")

    async def take(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        form = await console.form(request)
        app = find(request, actor)
        word = str(form.get("step") or "")
        step = next((t for t in desk.workflow.leaving(app.state) if t.word == word), None)
        if step is None:
            any_step = desk.workflow.by_word(word)
            if any_step is not None and not desk.may_take(actor, app, any_step):
                raise console.refuse(request, "not_your_step", 403, "这一步不由您的角色办理。")
            raise console.refuse(request, "stale_step", 409, "这条申请已经到了别的环节（可能刚被别人办理）。请刷新页面再看。")
        note = str(form.get("note") or "")[:MAX_NOTE]
        if not desk.may_take(actor, app, step) and not desk.conflicted(actor, app, step):
            raise console.refuse(request, "not_your_step", 403, "这一步不由您的角色办理。")
        if step.note_required and not note.strip():
            console.refuse(request, "note_required", 400)
            return page(request, actor, app, error=f"请填写：{step.ask_note}", status=400)
        try:
            desk.take(actor, app, step, note, console.today())
        except StepRefused as exc:
            reason = "conflict_of_interest" if desk.conflicted(actor, app, step) else "step_refused"
            raise console.refuse(request, reason, 409 if reason == "step_refused" else 403, str(exc)) from None
        raise web.HTTPSeeOther(console.url(f"a/{console.ref(app.number)}?done={step.word}"))

    async def reveal(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        form = await console.form(request)
        app = find(request, actor)
        reason = mask_text(str(form.get("reason") or "").strip())[:200]
        if not reason:
            return page(request, actor, app, error="请写明查看完整号码的原因（会记入审计日志）。", status=400)
        console.store.record_event(app.number, actor.id, f"查看完整号码：{reason}")
        return page(request, actor, app, full=True)

    return [
        web.get(console.url("a/{ref}"), show),
        web.post(console.url("a/{ref}/step"), take),
        web.post(console.url("a/{ref}/reveal"), reveal),
    ]
