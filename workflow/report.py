"""The monthly report (月报): new monitored households of the last month, or the zero report.

鹤庆: 乡镇把核实认定的名单于每月5日前上报县里；当月没有新增对象的，实行零报告。The report
covers what the asker's role covers (a cadre's villages, a reviewer's region).
"""

from __future__ import annotations

import datetime as dt

from storage.records import Application
from workflow.access import Actor, scoped_applications
from workflow.calendar import at, end_of, previous_month, short
from workflow.service import Desk
from workflow.views import who


def monthly_report(desk: Desk, actor: Actor, today: dt.date) -> str:
    t = desk.texts
    first, last = previous_month(today)
    start, end = at(first), end_of(last)
    apps = scoped_applications(desk.store, actor)
    new = [a for a in apps if _entered(desk, a, desk.workflow.new_objects, start, end)]
    received = sum(start <= a.created_at < end for a in apps)
    open_apps = [a for a in apps if not desk.workflow.states[a.state].final and a.state != desk.workflow.new_objects]
    area = "、".join(actor.villages) if actor.role == "cadre" else desk.kb.view(actor.region).region.name
    lines = [t["report_head"].format(area=area, year=first.year, month=first.month)]
    if new:
        lines.append(t["report_new"].format(count=len(new)))
        lines += [f"{n}. {who(a)}，{a.data.get('risk') or ''}（{a.number}）" for n, a in enumerate(new, 1)]
    else:
        lines.append(t["report_zero"])
    lines.append(t["report_counts"].format(received=received, open=len(open_apps), overdue=sum(desk.overdue(a) for a in open_apps)))
    due = _due_day(desk, actor, today)
    if due:
        lines.append(t["report_due"].format(day=short(due)))
    return "\n".join(lines)


def _entered(desk: Desk, app: Application, state: str, start: float, end: float) -> bool:
    return any(e.to_state == state and e.from_state != state and start <= e.at < end for e in desk.store.events(app.number))


def _due_day(desk: Desk, actor: Actor, today: dt.date) -> dt.date | None:
    parameter = desk.kb.view(actor.region).parameters.get(desk.workflow.report_due_param)
    day = parameter.value_at(today) if parameter else None
    return today.replace(day=int(day)) if day else None
