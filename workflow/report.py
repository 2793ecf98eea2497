"""The monthly report (月报): the households the township verified last month, or the zero report,
and the alerts lifted last month.

鹤庆 二(三): 乡镇核查属实的，将核实认定的附件1、2加盖乡镇公章后于每月5日前上报县扶贫开发领导小组；
如若当月未有新增对象，则实行零报告。So the new households are those the township verified in the
month (the step into 县级研判), not those the county decided later. 警情处理阶段: 解除的填写附件3，
于每月5日前报送县扶贫办. The report covers what the asker's role covers (a cadre's villages, a
reviewer's region).
"""

from __future__ import annotations

import datetime as dt

from foundation.clock import at, end_of, previous_month, short
from workflow.access import Actor, scoped_applications
from workflow.desk import Desk
from workflow.monthly_forms import entered
from workflow.views import who


def monthly_report(desk: Desk, actor: Actor, today: dt.date) -> str:
    t = desk.texts
    wf = desk.workflow
    first, last = previous_month(today)
    start, end = at(first), end_of(last)
    apps = scoped_applications(desk.store, actor)
    moves = entered(desk, actor, [wf.verified, wf.lifted], start, end)
    verified = [a for a, event in moves if event.to_state == wf.verified]
    lifted = [a for a, event in moves if event.to_state == wf.lifted]
    received = sum(start <= a.created_at < end for a in apps)
    open_apps = [a for a in apps if a.state in wf.processing]
    area = "、".join(actor.villages) if actor.role == "cadre" else desk.kb.view(actor.region).region.name
    lines = [t["report_head"].format(area=area, year=first.year, month=first.month)]
    if verified:
        lines.append(t["report_new"].format(count=len(verified), forms="、".join(wf.verified_forms)))
        lines += [f"{n}. {who(a)}，{a.data.get('risk') or ''}（{a.number}）" for n, a in enumerate(verified, 1)]
    else:
        lines.append(t["report_zero"])
    due = _due_day(desk, actor, today, wf.report_due_param)
    if due:
        lines.append(t["report_due"].format(day=short(due)))
    if lifted:
        lines.append(t["report_lifted"].format(count=len(lifted), form=wf.lifted_form))
        lines += [f"{n}. {who(a)}（{a.number}）" for n, a in enumerate(lifted, 1)]
        lifted_due = _due_day(desk, actor, today, wf.lifted_due_param)
        if lifted_due:
            lines.append(t["report_lifted_due"].format(day=short(lifted_due)))
    lines.append(t["report_counts"].format(received=received, open=len(open_apps), overdue=sum(desk.overdue(a) for a in open_apps)))
    return "\n".join(lines)


def _due_day(desk: Desk, actor: Actor, today: dt.date, param: str) -> dt.date | None:
    parameter = desk.kb.view(actor.region).parameters.get(param)
    day = parameter.value_at(today) if parameter else None
    return today.replace(day=int(day)) if isinstance(day, int | float) else None
