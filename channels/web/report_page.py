"""月报: the township's monthly forms (附件1, 附件2, 附件3) for a month, on the page and as XLSX or
CSV downloads; a zero report when nothing is new. Default: last month, due by the 5th."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from aiohttp import web

from channels.web.sheets import XLSX_TYPE, csv_text, xlsx
from foundation.clock import previous_month
from workflow.monthly_forms import monthly_forms

if TYPE_CHECKING:
    from channels.web.app import Console

NAV = [("report", "月报")]
ZERO = "本月没有新增对象，零报告。"


def _month(text: str | None, today: dt.date) -> tuple[int, int]:
    """YYYY-MM from the query, else last month (the report due by the 5th of this one)."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        if 2000 <= year <= today.year and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    last = previous_month(today)[0]
    return last.year, last.month


def routes(console: Console) -> list[web.RouteDef]:
    async def forms_for(request: web.Request):
        actor = await console.staff(request)
        year, month = _month(request.query.get("month"), console.today())
        return year, month, await console.run(monthly_forms, console.desk, actor, year, month)

    async def page(request: web.Request) -> web.Response:
        year, month, forms = await forms_for(request)
        return console.render(request, "report.html", {"forms": forms, "month": f"{year}-{month:02d}", "zero": ZERO,
                                                       "new": sum(len(f.rows) for f in forms[:3])})

    async def download(request: web.Request) -> web.Response:
        year, month, forms = await forms_for(request)
        name = f"monthly-report-{year}-{month:02d}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}.{request.match_info["kind"]}"'}
        if request.match_info["kind"] == "xlsx":
            return web.Response(body=xlsx(forms, ZERO), content_type=XLSX_TYPE, headers=disposition)
        return web.Response(text=csv_text(forms, ZERO), content_type="text/csv", charset="utf-8", headers=disposition)

    return [web.get(console.url("report"), page), web.get(console.url("report.{kind:xlsx|csv}"), download)]
