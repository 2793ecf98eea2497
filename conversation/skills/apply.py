"""Applying to be included in monitoring (申请纳入监测), for one's own household or, by a cadre,
for a villager (代填); and "我的申请到哪一步了".

Flow: apply.yaml. Intents: apply_monitoring, application_status. Reader: a repeated "确认/1"
just after submitting is told the application is already in.

Submitting is idempotent and crash-safe without writing anything mid-message: the flow instance
gets an id when it starts, the idempotency key is derived from it, and it is in the saved session
long before the user confirms. If the process dies after the application was stored but before the
session was saved, the user's next answer at the confirmation finds the stored application by that
key (a double tap or a WeChat retry finds it too) and is told the truth: submitted, once.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

from conversation.context import Context
from conversation.messages import Choice, Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from conversation.skills.shared import THRESHOLD, income_against_line, numbered, pick, say, text, words
from foundation.clock import previous_month
from foundation.privacy import mask_id, mask_phone, normalize_id_number, normalize_phone
from foundation.text import clean, normalize_width
from storage.records import Application
from understanding.answers import Reprompt, is_refusal, is_unknown, parse_number
from understanding.numerals import to_digits
from understanding.router import Route
from workflow.access import PROXY_CHANNEL, normalize_village
from workflow.views import status_text

FLOW = "apply_monitoring"
SUBMITTED_FOR = 600.0  # seconds a repeated "确认" is recognised as a double tap
YES_NO = [Choice("1", "是"), Choice("2", "不是")]
_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z·]{2,12}$")
PROXY_NAME = re.compile(r"帮([\u4e00-\u9fff·]{2,6}?)(?:申请|代填|填|报)")


def _proxy(slots: dict) -> bool:
    return slots.get("mode") == "proxy"


# -- intents and the reader -----------------------------------------------------------------------
def apply_monitoring(ctx: Context, said: str, route: Route) -> Outcome:
    name = proxy_name(said) if ctx.actor.role == "cadre" else None
    return Outcome(start=Start(FLOW, {"mode": "proxy", "name": name} if name else {}))


def monitoring_check(ctx: Context, said: str, route: Route) -> Outcome:
    """"我家五口人一年挣三万，够不够得上监测": income per head against the year's line, said with its
    source; the form is offered, not opened."""
    entities = route.reading.entities if route.reading else None
    per_head = entities.household.get("income_per_head") if entities else None
    if per_head is None:
        return apply_monitoring(ctx, said, route)
    lines = income_against_line(ctx, said, per_head, entities.size if entities else None)
    lines.append(text("check_offer"))
    return Outcome([Reply("\n".join(lines))])


def application_status(ctx: Context, said: str, route: Route) -> Outcome:
    """我的申请到哪一步了: each of the asker's applications, the latest last."""
    d, actor = ctx.desk, ctx.actor
    apps = d.own(actor)
    if not apps:
        return Outcome(say("no_application_staff" if actor.staff else "no_application"))
    return Outcome([Reply(status_text(d, app)) for app in apps[-3:]])


def submitted_again(ctx: Context, said: str) -> Outcome | None:
    """A second "确认" or "1" right after submitting (a double tap) is not a new application."""
    recent = ctx.session.recent.get("submitted")
    if clean(said) not in words("again_words") or not recent or ctx.services.clock.now() - recent["at"] > SUBMITTED_FOR:
        return None
    return Outcome(say("already_submitted_tap", number=recent["number"]))


def proxy_name(message: str) -> str | None:
    """张三 in "帮张三申请纳入监测" (not 我妈 in "帮我妈申请")."""
    match = PROXY_NAME.search(normalize_width(message))
    return match.group(1) if match and not match.group(1).startswith(("我", "你", "他", "她", "咱")) else None


# -- starting -------------------------------------------------------------------------------------
def apply_begin(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    """Opens the form, unless the asker's own household already has an application in progress:
    one household, one open application (a second would be visited and reviewed twice)."""
    slots = state.slots
    slots.setdefault("instance", uuid.uuid4().hex)
    if ctx.actor.role != "cadre":
        slots["mode"] = "self"
    open_app = _open_application(ctx) if slots.get("mode") == "self" else None
    if open_app is not None:
        return _already_open(ctx, open_app)
    intro = text("apply_intro_proxy", name=slots["name"]) if slots.get("name") else text("apply_intro")
    return ActionResult([Reply(intro)])


def _open_application(ctx: Context, except_key: str | None = None) -> Application | None:
    d = ctx.desk
    return next((a for a in reversed(d.own(ctx.actor)) if not d.workflow.states[a.state].final and a.idem_key != except_key), None)


def _already_open(ctx: Context, app: Application) -> ActionResult:
    return ActionResult([Reply(text("already_open", number=app.number)), Reply(status_text(ctx.desk, app))], end=True)


def mode_known(ctx: Context, state: FlowState) -> bool:
    return "mode" in state.slots


def name_known(ctx: Context, state: FlowState) -> bool:
    return bool(state.slots.get("name"))


def name_prompt(ctx: Context, state: FlowState) -> str:
    return text("ask_name_proxy" if _proxy(state.slots) else "ask_name")


def person_name(ctx: Context, answer: str) -> str:
    if is_unknown(answer) or is_refusal(answer):
        raise Reprompt(text("bad_name"))
    name = re.sub(r"^(我叫|我是|叫|户主是|户主叫)", "", normalize_width(answer).strip()).strip(" 。.，,")
    if not _NAME.match(name):
        raise Reprompt(text("bad_name"))
    return name


def phone_prompt(ctx: Context, state: FlowState) -> str:
    slots = state.slots
    return text("ask_phone_proxy", name=slots.get("name", "")) if _proxy(slots) else text("ask_phone")


def phone(ctx: Context, answer: str) -> str:
    found = normalize_phone(to_digits(answer))  # 一三八…, 幺三八… are digits too
    if found is None:
        raise Reprompt(text("bad_phone"))
    return found


def id_number(ctx: Context, answer: str) -> str:
    if is_unknown(answer) or normalize_width(answer).strip() in ("不填", "没有", "不方便", "无"):
        return ""
    found = normalize_id_number(answer)
    if found is None:
        raise Reprompt(text("bad_id_number"))
    return found


# -- village, household, income ---------------------------------------------------------------------
def ask_village(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    """A cadre filling in picks one of their villages; anyone else types the village's name."""
    slots = state.slots
    villages = list(ctx.actor.villages) if _proxy(slots) else []
    if len(villages) == 1:
        slots["village"] = villages[0]
        return ActionResult([])
    choices = numbered(villages[:9])
    question = Reply(text("ask_village_pick" if choices else "ask_village"), choices)
    if answer is None:
        return ActionResult([question], asking=True)
    if choices:
        index = pick(answer, choices)
        if index is None:
            return ActionResult([Reply(text("choose_number")), question], asking=True)
        slots["village"] = villages[index]
        return ActionResult([])
    name = normalize_village(answer)
    if not 2 <= len(name) <= 20 or any(c.isdigit() for c in name) or is_unknown(answer) or is_refusal(answer):
        return ActionResult([Reply(text("bad_village")), question], asking=True)
    slots["village"] = name
    return ActionResult([])


def household_size(ctx: Context, answer: str) -> int:
    size = int(parse_number(answer))
    if not 1 <= size <= 30:
        raise Reprompt(text("bad_size"))
    return size


def income_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the first day of this month a year ago to the last day of last month (the township's rule)."""
    return dt.date(today.year - 1, today.month, 1), previous_month(today)[1]


def income_prompt(ctx: Context, state: FlowState) -> str:
    start, end = income_window(ctx.today)
    return text("ask_income", start=f"{start.year}年{start.month}月{start.day}日", end=f"{end.year}年{end.month}月{end.day}日")


def income(ctx: Context, answer: str) -> float:
    if is_unknown(answer):
        raise Reprompt(text("income_estimate"))
    value = parse_number(answer)
    if value > 10_000_000:
        raise Reprompt(text("bad_income"))
    return value


def _region(ctx: Context, slots: dict) -> str:
    """A cadre's application goes to their region; a villager's to the region of the conversation."""
    return (ctx.actor.region if _proxy(slots) else None) or ctx.region


def compare_income(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    """Says how the income per head compares with the standard; it never turns the application away."""
    slots = state.slots
    per_head = round(slots["income"] / slots["size"])
    slots["income_per_head"] = per_head
    view = ctx.kb.view(_region(ctx, slots))
    parameter = view.parameters.get(THRESHOLD)
    value = parameter.at(ctx.today) if parameter else None
    if value is not None and value.unknown:  # in force, but no text gives this year's figure
        last = parameter.last_published(ctx.today) if parameter else None
        earlier = text("income_last_published", year=last.start.year, threshold=f"{last.value:g}") if last else ""
        return ActionResult(say("income_unpublished", size=slots["size"], per_head=per_head, region=view.region.name,
                                unknown=value.unknown, last=earlier))
    if value is None or value.value is None:
        return ActionResult(say("income_no_standard", size=slots["size"], per_head=per_head))
    threshold = value.value
    slots["threshold"] = threshold
    relation = "低于" if per_head < threshold else "不低于"
    return ActionResult(say("income_compare", size=slots["size"], per_head=per_head, relation=relation, threshold=f"{threshold:g}",
                            region=view.region.name, year=value.start.year))


def consent_prompt(ctx: Context, state: FlowState) -> str:
    slots = state.slots
    return text("ask_consent_proxy", name=slots.get("name") or "村民") if _proxy(slots) else text("ask_consent")


def decline_without_consent(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    return ActionResult(say("no_consent"), end=True)


# -- confirming and submitting ---------------------------------------------------------------------
CONFIRM = numbered(["确认提交", "重新填写", "不提交了"])


def _key_and_owner(ctx: Context, slots: dict) -> tuple[str, tuple[str, str]]:
    instance = slots["instance"]
    owner = (PROXY_CHANNEL, instance) if _proxy(slots) else (ctx.channel, ctx.user)
    return f"apply:{ctx.channel}:{ctx.user}:{instance}", owner


def _summary(slots: dict) -> Reply:
    risk = slots["risk"] + (f"：{slots['risk_detail']}" if slots.get("risk_detail") else "")
    body = text("confirm_summary", name=slots["name"], village=slots["village"], phone=mask_phone(slots["phone"]),
                id_number=mask_id(slots.get("id_number")) or text("not_given"), size=slots["size"], income=f"{slots['income']:g}",
                per_head=slots["income_per_head"], risk=risk)
    return Reply(body, list(CONFIRM))


def _data(slots: dict) -> dict[str, Any]:
    keys = ("name", "phone", "village", "size", "income", "income_per_head", "threshold", "risk", "risk_detail")
    return {**{k: slots.get(k) for k in keys}, "id_number": slots.get("id_number") or None, "consent_checks": True}


def _submitted(ctx: Context, slots: dict, app: Application, again: bool) -> ActionResult:
    number = app.number
    ctx.session.recent["submitted"] = {"number": number, "at": ctx.services.clock.now()}
    lead = text("already_submitted", number=number) if again else ""
    if _proxy(slots):  # a new code each time it is shown: a reply lost in a crash leaves no code nobody saw
        code = ctx.desk.new_proxy_code(app)
        body = text("submitted_proxy", number=number, name=slots["name"], phone=mask_phone(slots["phone"]), code=code)
    else:
        body = text("submitted", number=number)
    return ActionResult([Reply(f"{lead}{body}")], end=True)


def confirm_and_submit(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    slots = state.slots
    d = ctx.desk
    key, owner = _key_and_owner(ctx, slots)
    if answer is None:
        return ActionResult([_summary(slots)], asking=True)
    chosen = pick(answer, CONFIRM)
    if chosen == 0:
        open_app = None if _proxy(slots) else _open_application(ctx, except_key=key)  # a form opened twice, or a cadre's own
        if open_app is not None:
            return _already_open(ctx, open_app)
        app, created = d.submit(key, _data(slots), owner, slots["village"], _region(ctx, slots),
                                (ctx.channel, ctx.user) if _proxy(slots) else None)
        return _submitted(ctx, slots, app, again=not created)
    # Anything else: first make sure an earlier "确认" whose reply was lost did not already submit it.
    stored = d.find_submitted(key, owner)
    if stored is not None:
        return _submitted(ctx, slots, stored, again=True)
    if chosen is None:
        return ActionResult([Reply(text("not_yet_submitted")), _summary(slots)], asking=True)
    if chosen == 1:
        keep = {k: slots[k] for k in ("instance", "mode", "consent") if k in slots}
        slots.clear()
        slots.update(keep)
        return ActionResult(say("fill_again"), goto="name")
    return ActionResult(say("apply_dropped"), end=True)


SKILL = Skill(
    name="apply",
    flows=(Path(__file__).with_name("apply.yaml"),),
    hooks=Hooks(
        parsers={"person_name": person_name, "phone": phone, "id_number": id_number, "household_size": household_size, "income": income},
        prompts={"name_prompt": name_prompt, "phone_prompt": phone_prompt, "income_prompt": income_prompt, "consent_prompt": consent_prompt},
        predicates={"mode_known": mode_known, "name_known": name_known},
        actions={"apply_begin": apply_begin, "ask_village": ask_village,
                 "compare_income": compare_income, "confirm_and_submit": confirm_and_submit, "decline_without_consent": decline_without_consent},
    ),
    intents={"apply_monitoring": apply_monitoring, "monitoring_check": monitoring_check, "application_status": application_status},
    readers=(submitted_again,),
)
