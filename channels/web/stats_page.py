"""统计: applications per stage, per village and per risk type, overdue counts, and the median
days each step took (from the audit log), in the signed-in user's scope; each as a server-drawn
SVG bar chart beside its table."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from channels.web.charts import bars
from workflow.access import Actor, scoped_applications
from workflow.desk import Desk

if TYPE_CHECKING:
    from channels.web.app import Console

NAV = [("stats", "统计")]
DAY = 86400.0


def figures(desk: Desk, actor: Actor) -> dict[str, Any]:
    wf = desk.workflow
    apps = scoped_applications(desk.store, actor)
    stages = Counter(wf.states[a.state].label for a in apps)
    overdue = Counter(wf.states[a.state].label for a in apps if desk.overdue(a))
    took: dict[str, list[float]] = {}
    for app in apps:
        events = desk.store.events(app.number)
        for before, after in zip(events, events[1:], strict=False):
            if after.from_state is None or after.from_state == after.to_state:
                continue
            step = next((t for t in wf.leaving(after.from_state) if t.target == after.to_state), None)
            if step is not None:
                took.setdefault(step.label, []).append((after.at - before.at) / DAY)
    tables = {
        "按环节": sorted(stages.items(), key=lambda kv: -kv[1]),
        "按村": Counter(a.village or "—" for a in apps).most_common(),
        "按困难类型": Counter(a.data.get("risk") or "—" for a in apps).most_common(),
        "超期（按环节）": sorted(overdue.items(), key=lambda kv: -kv[1]),
    }
    medians = [(label, round(statistics.median(days), 1)) for label, days in took.items()]
    return {"total": len(apps), "overdue": sum(overdue.values()),
            "charts": [(title, rows, bars([(k, float(v)) for k, v in rows], "件")) for title, rows in tables.items()],
            "medians": medians, "median_chart": bars(medians, "天")}


def routes(console: Console) -> list[web.RouteDef]:
    async def page(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        return console.render(request, "stats.html", await console.run(figures, console.desk, actor))

    return [web.get(console.url("stats"), page)]
