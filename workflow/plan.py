"""The support plan (一户一策): the engine's measures for the household, ★ (must be done) first.

The household is what the application says (monitored now, income per head, the kind of risk)
merged with the household the applicant saved in a household check, if they did. The plan is
kept in the application data when it is made, so the checklist's done marks refer to a fixed list.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from eligibility.engine import Engine
from eligibility.household import Household, parse_household
from foundation.datafile import DataFileError
from storage.records import Application

log = logging.getLogger(__name__)
# Risks that mean spending jumped or income fell (the fact household.rigid_expense_surge).
SURGE_RISKS = ("因病", "因残", "因学", "因灾", "因意外", "失业", "收入骤减", "刚性支出骤增")


def household_of(app: Application, profile: dict[str, Any] | None) -> Household:
    saved = (profile or {}).get("household") or {}
    try:
        household = parse_household(saved, "<profile>")
    except DataFileError:  # an old or broken profile must not block the plan
        log.warning("application %s: the saved household could not be read; planning from the application only", app.number)
        household = parse_household({})
    data = app.data
    household.facts["monitored"] = True
    if data.get("income_per_head") is not None:
        household.facts["income_per_head"] = float(data["income_per_head"])
    if data.get("risk") in SURGE_RISKS:
        household.facts["rigid_expense_surge"] = True
    return household


def make_plan(engine: Engine, app: Application, profile: dict[str, Any] | None, today: dt.date) -> list[dict[str, Any]]:
    """One item per measure (members named), ★ first, as stored in the application data under "plan"."""
    result = engine.evaluate(household_of(app, profile), app.region, today)
    items: dict[str, dict[str, Any]] = {}
    for e in result.entitlements:  # already ★ first
        item = items.setdefault(e.measure.id, {"id": e.measure.id, "title": e.measure.title, "mark": e.measure.mark, "who": []})
        if e.member_label and e.member_label not in item["who"]:
            item["who"].append(e.member_label)
    return list(items.values())


def mark(item: dict[str, Any]) -> str:
    """★ / ● as the 明白纸 marks the measure; "" for a county's or township's own (plans made before
    that distinction stored `star` as true/false)."""
    if "mark" in item:
        return item["mark"]
    return "★" if item.get("star") else "●"


def item_title(item: dict[str, Any]) -> str:
    who = f"（{'、'.join(item['who'])}）" if item.get("who") else ""
    return f"{mark(item)}{item['title']}{who}"


def to_do(item: dict[str, Any]) -> bool:
    """What the cadre must see done: the ★ items and the county's and township's own measures."""
    return mark(item) != "●"


def checklist(app: Application) -> list[dict[str, Any]]:
    """The items of the stored plan the cadre must see done (★ and the county's own)."""
    return [item for item in app.data.get("plan") or [] if to_do(item)]


def is_done(app: Application, measure_id: str) -> bool:
    return measure_id in (app.data.get("done") or {})
