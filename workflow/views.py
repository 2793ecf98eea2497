"""How an application reads in the chat: the applicant's status, a reviewer's summary, the history.

Phone and ID numbers are always masked here; only the store holds them in full.
"""

from __future__ import annotations

from foundation.clock import last_day_of, local, short
from foundation.privacy import mask_id, mask_phone, mask_text
from storage.records import Application, ApplicationEvent
from workflow.access import PROXY_CHANNEL
from workflow.desk import Desk


def who(app: Application) -> str:
    name = app.data.get("name") or "（个人信息已删除）"
    return f"{name}，{app.village}" if app.village else name


def deadline_text(desk: Desk, app: Application, say_late: bool = True) -> str:
    if app.deadline is None or desk.workflow.states[app.state].final:
        return ""
    late = desk.texts["late"] if say_late and desk.overdue(app) else ""
    return desk.texts["deadline_short"].format(day=short(last_day_of(app.deadline)), late=late)


def event_label(desk: Desk, event: ApplicationEvent) -> str | None:
    """The step an audit event records, or None for data edits (ticks, plans, confirmations)."""
    if event.from_state is None:
        return desk.texts["submitted_label"]
    if event.from_state == event.to_state:
        return None
    step = next((t for t in desk.workflow.leaving(event.from_state) if t.target == event.to_state), None)
    return step.label if step else desk.workflow.states[event.to_state].label


def status_text(desk: Desk, app: Application) -> str:
    """What the applicant reads for "我的申请到哪一步了"."""
    t = desk.texts
    state = desk.workflow.states[app.state]
    events = desk.store.events(app.number)
    lines = [t["status_head"].format(number=app.number, who=who(app)), t["status_now"].format(state=state.label, deadline=deadline_text(desk, app))]
    if not state.final:
        entering = next((e for e in reversed(events) if e.to_state == app.state and e.from_state != e.to_state), None)
        step = desk.workflow.entered_by(app.state)
        if entering is not None and step is not None and step.tell:
            lines.append(step.tell.format(note=entering.note or "（未写明）", number=app.number))
    lines.append(t["next_line"].format(next=state.next))
    lines.append(t["history_head"])
    for event in events:
        label = event_label(desk, event)
        if label:
            lines.append(f"· {short(local(event.at).date())} {label}")
    return "\n".join(lines)


def summary(desk: Desk, app: Application) -> str:
    """A reviewer's view of one application (numbers masked)."""
    t = desk.texts
    d = app.data
    lines = [f"{app.number}（{who(app)}）"]
    lines.append(t["summary_contact"].format(phone=mask_phone(d.get("phone")) or "—", id_number=mask_id(d.get("id_number")) or t["not_given"]))
    lines.append(t["summary_income"].format(size=d.get("size"), income=f"{d.get('income', 0):g}", per_head=f"{d.get('income_per_head', 0):g}"))
    lines.append(t["summary_risk"].format(risk=d.get("risk"), detail=mask_text(d.get("risk_detail") or "")))
    if app.filled_by:
        lines.append(t["summary_proxy_confirmed" if app.channel != PROXY_CHANNEL or d.get("account") else "summary_proxy_waiting"])
        if desk.proxy_code_void(app):
            lines.append(t["proxy_code_void"].format(number=app.number))
    lines.append(t["status_now"].format(state=desk.workflow.states[app.state].label, deadline=deadline_text(desk, app)))
    return "\n".join(lines)


def todo_label(desk: Desk, app: Application) -> str:
    """One line of 我的待办."""
    state = desk.workflow.states[app.state].label
    return f"{desk.texts['overdue_mark'] if desk.overdue(app) else ''}{app.number} {who(app)}：{state}{deadline_text(desk, app, say_late=False)}"
