"""政策库: the measures of a region by category, ★ (必须落实) / ● (可以争取), each amount with its
dated values and quoted source sentence; the documents with their validity (expired ones
marked); and 试算: a household description (as typed in the chat) or household YAML, read and
evaluated by the same parser, engine and compact result as the chat's household check."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from eligibility.household import parse_household
from eligibility.report import citation, compact_result
from foundation.datafile import DataFileError, load_yaml
from understanding.household_parse import parse_description

if TYPE_CHECKING:
    from channels.web.app import Console

NAV = [("policy", "政策库")]
MAX_INPUT = 5000


def _mark(mandatory: bool | None) -> str:
    return {True: "★ 必须落实", False: "● 可以争取"}.get(mandatory, "")


def catalogue(console: Console, region: str | None) -> dict[str, Any]:
    kb = console.kb
    view = kb.view(region)
    today = console.today()
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in view.measures:
        amounts = []
        for line in m.amounts:
            parameter = view.parameters.get(line.parameter)
            if parameter is None:
                continue
            values = [{"start": v.start.isoformat(), "value": "未公布" if v.value is None else f"{v.value:g}{parameter.unit}",
                       "when": v.date_text, "source": citation(v.ref, kb.sources) if v.ref else ""} for v in parameter.values]
            amounts.append({"label": line.label or parameter.label, "dated": values})
        by_category[m.category].append({"title": m.title, "mark": _mark(m.mandatory), "gives": m.gives, "amounts": amounts,
                                        "source": citation(m.source, kb.sources), "how": m.how_to_apply})
    documents = [{"title": s.title, "number": s.number, "date": s.date_label, "valid_from": s.valid_from, "valid_to": s.valid_to,
                  "expired": s.valid_to is not None and s.valid_to < today, "region": kb.regions[s.region].name if s.region in kb.regions else s.region}
                 for s in kb.sources.values()]
    return {"region": view.region, "regions": list(kb.regions.values()), "categories": sorted(by_category.items()), "documents": documents}


def trial(console: Console, text: str, region: str | None) -> tuple[str, str]:
    """(compact result, error): a description in words, or a household in YAML."""
    services = console.core.services  # type: ignore[attr-defined]
    understander, engine = services.understander, services.engine
    data = None
    if "members:" in text:  # household YAML (a description in words never names this key)
        try:
            data = load_yaml("<试算>", text)
        except DataFileError as exc:
            return "", str(exc)
    if not isinstance(data, dict):
        described = parse_description(understander.canonical(text), understander.region_names, understander.homes, region)
        if described.empty:
            return "", "没看出家里有哪些人。请说说家里几口人、各多大、在做什么，或贴家庭 YAML。"
        data = {**{k: sorted(v) if isinstance(v, frozenset) else v for k, v in described.household.items()},
                "members": [dict(m) for m in described.members]}
        region = described.region or region
    try:
        household = parse_household(data, "<试算>")
    except DataFileError as exc:
        return "", str(exc)
    where = household.region or region
    result = engine.evaluate(household, where, console.today())
    return compact_result(result, console.kb.view(where).parameters), ""


def routes(console: Console) -> list[web.RouteDef]:
    async def page(request: web.Request) -> web.Response:
        actor = await console.staff(request)
        region = request.query.get("region") or actor.region
        if region not in console.kb.regions:
            region = actor.region
        context = catalogue(console, region)
        context.update(text="", result="", error="")
        if request.method == "POST":
            form = await console.form(request)
            text = str(form.get("household") or "")[:MAX_INPUT].strip()
            result, error = await console.run(trial, console, text, region) if text else ("", "请先填写家庭情况。")
            context.update(text=text, result=result, error=error)
        return console.render(request, "policy.html", context)

    return [web.get(console.url("policy"), page), web.post(console.url("policy"), page)]
