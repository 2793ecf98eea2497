"""待办: the applications waiting for a step of the signed-in role, in their scope.

Overdue first (marked), then by deadline (working days, as the Desk sets them), then oldest;
filters by village, stage and risk type; paged in the database (Store.page_applications).
Scope is workflow.access's: the query is narrowed to the actor's region (and villages for a
cadre), and every row is checked again with in_scope before it is shown.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from foundation.clock import last_day_of, short
from foundation.datafile import load_data
from workflow.access import in_scope, normalize_village
from workflow.views import who

if TYPE_CHECKING:
    from channels.web.app import Console

PAGE_SIZE = 30
NAV = [("todo", "待办")]
APPLY_FLOW = Path(__file__).parents[2] / "conversation" / "skills" / "apply.yaml"


@lru_cache(maxsize=1)
def risk_types() -> tuple[str, ...]:
    """The risk types the application form offers (its choices' values), in its order."""
    flow = load_data(APPLY_FLOW)
    step = next(s for s in flow["steps"] if s.get("id") == "risk")
    return tuple(str(c.get("value") or c["label"]) for c in step["choices"])


def _int(text: str | None, default: int) -> int:
    try:
        return max(1, int(text or default))
    except ValueError:
        return default


def routes(console: Console) -> list[web.RouteDef]:
    async def todo(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        desk = console.desk
        q = request.query
        waiting = desk.workflow.waiting_for(actor.role)
        stage = q.get("stage", "")
        states = [stage] if stage in waiting else waiting
        risk = q.get("risk", "")
        risk = risk if risk in risk_types() else ""
        village = normalize_village(q.get("village", "")) if q.get("village", "").strip() else ""
        villages: list[str] | None = list(actor.villages) if actor.role == "cadre" else None
        if village:
            villages = [v for v in villages if v == village] if villages is not None else [village]
        page = _int(q.get("page"), 1)
        now = console.clock.now()
        apps, total, late = console.store.page_applications(
            states=states, region=actor.region, villages=villages, risk=risk or None, now=now,
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows: list[dict[str, Any]] = []
        for app in apps:
            if not in_scope(actor, app):  # the query already narrowed it; this is the rule itself
                continue
            steps = desk.steps_for(actor, app)
            rows.append({
                "ref": console.ref(app.number), "number": app.number, "who": who(app), "village": app.village or "",
                "state": desk.workflow.states[app.state].label, "risk": app.data.get("risk") or "",
                "overdue": desk.overdue(app), "due": short(last_day_of(app.deadline)) if app.deadline is not None else "",
                "steps": [t.label for t in steps], "own": not steps,
            })
        pages = max(1, -(-total // PAGE_SIZE))
        keep = {k: v for k, v in {"village": village, "stage": stage if stage in waiting else "", "risk": risk}.items() if v}

        def page_url(n: int) -> str:
            return console.url("todo") + "?" + urlencode({**keep, "page": n})

        return console.render(request, "todo.html", {
            "rows": rows, "total": total, "late": late, "page": page, "pages": pages,
            "prev_url": page_url(page - 1) if page > 1 else "", "next_url": page_url(page + 1) if page < pages else "",
            "stages": [(s, desk.workflow.states[s].label) for s in waiting], "risks": risk_types(),
            "villages": list(actor.villages) if actor.role == "cadre" else [],
            "chosen": {"village": village, "stage": stage if stage in waiting else "", "risk": risk},
        })

    return [web.get(console.url("todo"), todo)]
