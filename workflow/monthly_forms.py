"""The monthly report's forms as tables (the web console's 月报 page and its XLSX/CSV downloads).

鹤庆 二(二)/(三): 根据评议结果填写《鹤庆县返贫预警情况统计表》(附件1)和《鹤庆县致贫预警情况统计表》
(附件2)…将核实认定的附件12加盖乡镇公章后于每月5日前上报县扶贫开发领导小组。如若当月未有新增对象，
则实行零报告。 二(六): 宣布警情解除，填写《鹤庆县返贫致贫预警解除登记表》(附件3)，于每月5日前报送
县扶贫办. The seed names the forms but does not print their columns, so the columns here are the
facts the application holds, phone and ID masked as in the chat's export.

返贫 (附件1) is about households already out of poverty (脱贫户), 致贫 (附件2) about the others; the
application form does not ask which a household is, so a household is put on a form only when
its type is recorded (`household_type`), and the rest are listed apart as 待确认户类型 — the
township decides, the report does not guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from foundation.clock import at, local
from foundation.privacy import mask_id, mask_phone, mask_text
from storage.records import Application, ApplicationEvent
from workflow.access import Actor, in_scope, scope_filter
from workflow.desk import Desk

RETURN_TYPES = ("脱贫户", "脱贫不稳定户")  # 返贫预警: households that were lifted out of poverty
FIRST_TYPES = ("一般农户", "边缘易致贫户")  # 致贫预警
ALERT_HEADERS = ("序号", "申请号", "村", "户主", "手机（打码）", "身份证（打码）", "家庭人口", "人均纯收入（元）", "风险类型", "风险情况",
                 "核实认定日期")
LIFT_HEADERS = ("序号", "申请号", "村", "户主", "风险类型", "解除日期", "解除情况")


@dataclass
class Form:
    sheet: str  # the sheet's name in the XLSX (short: Excel allows 31 characters)
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[object, ...]] = field(default_factory=list)


def month_bounds(year: int, month: int) -> tuple[float, float]:
    """The month from its first moment to the first moment of the next, Beijing time."""
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return at(dt.date(year, month, 1)), at(following)


def entered(desk: Desk, actor: Actor, states: list[str], start: float, end: float) -> list[tuple[Application, ApplicationEvent]]:
    """Applications in the actor's scope that moved into one of `states` within [start, end), each
    with the move; one query however many applications the region holds."""
    scope = scope_filter(actor)
    if scope is None:
        return []
    return [(app, event) for app, event in desk.store.entries(states, start, end, **scope) if in_scope(actor, app)]


def monthly_forms(desk: Desk, actor: Actor, year: int, month: int) -> list[Form]:
    """附件1, 附件2, the households of unrecorded type, and 附件3, for the actor's scope and month."""
    wf = desk.workflow
    start, end = month_bounds(year, month)
    moves = entered(desk, actor, [wf.verified, wf.lifted], start, end)
    verified = [(app, event) for app, event in moves if event.to_state == wf.verified]
    lifted = [(app, event) for app, event in moves if event.to_state == wf.lifted]
    forms = [Form("附件1 返贫预警", f"附件1《鹤庆县返贫预警情况统计表》{year}年{month}月", ALERT_HEADERS),
             Form("附件2 致贫预警", f"附件2《鹤庆县致贫预警情况统计表》{year}年{month}月", ALERT_HEADERS),
             Form("待确认户类型", "核实认定、但没有记下是否脱贫户的（请确认后填入附件1或附件2）", ALERT_HEADERS),
             Form("附件3 预警解除", f"附件3《鹤庆县返贫致贫预警解除登记表》{year}年{month}月", LIFT_HEADERS)]
    for app, event in verified:
        kind = app.data.get("household_type")
        form = forms[0] if kind in RETURN_TYPES else forms[1] if kind in FIRST_TYPES else forms[2]
        day = local(event.at).date().isoformat()
        d = app.data
        form.rows.append((len(form.rows) + 1, app.number, app.village or "", d.get("name") or "（已删除）", mask_phone(d.get("phone")),
                          mask_id(d.get("id_number")), d.get("size") or "", d.get("income_per_head") or "", d.get("risk") or "",
                          mask_text(d.get("risk_detail") or ""), day))
    for app, event in lifted:
        forms[3].rows.append((len(forms[3].rows) + 1, app.number, app.village or "", app.data.get("name") or "（已删除）",
                              app.data.get("risk") or "", local(event.at).date().isoformat(), mask_text(event.note or "")))
    return forms
