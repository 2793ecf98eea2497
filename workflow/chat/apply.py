"""Hooks of the application flows (dialogs/flows/apply_monitoring.yaml, confirm_application.yaml).

Submitting is idempotent and crash-safe. The flow instance gets an id when it starts; the
idempotency key is derived from it, so it is in the saved session long before the user confirms.
Right before submitting, a "submitting" mark is written into the session; if the process dies,
the next message finds the mark and asks the store whether that key's application exists, and
says so. A double tap or a retried message finds the same key: the store returns the stored
application instead of making a second one.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from dialogs.answers import Reprompt, is_unknown, parse_number
from dialogs.context import Context
from dialogs.flow import HOOKS, ActionResult
from dialogs.lexicon import normalize_width
from dialogs.messages import Choice, Reply
from workflow.access import PROXY_CHANNEL, normalize_village
from workflow.calendar import previous_month
from workflow.chat.common import asker, desk, numbered, persist_flow, pick, say, text
from workflow.personal import mask_id, mask_phone, normalize_id_number, normalize_phone
from workflow.views import status_text, who

THRESHOLD = "monitoring.income_threshold"  # the knowledge base's monitoring income standard (元/人/年)
SUBMITTED_MARK_TTL = 600.0  # seconds a repeated "确认" is recognised as a double tap
YES_NO = [Choice("1", "是"), Choice("2", "不是")]
_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z·]{2,12}$")
PROXY_NAME = re.compile(r"帮([\u4e00-\u9fff·]{2,6}?)(?:申请|代填|填|报)")


def _proxy(slots: dict) -> bool:
    return slots.get("mode") == "proxy"


# -- starting -------------------------------------------------------------------------------------
@HOOKS.action("apply_begin")
def apply_begin(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    slots = state["slots"]
    slots.setdefault("instance", uuid.uuid4().hex)
    if asker(ctx).role != "cadre":
        slots["mode"] = "self"
    intro = text("apply_intro_proxy", name=slots["name"]) if slots.get("name") else text("apply_intro")
    return ActionResult([Reply(intro)])


@HOOKS.predicate("mode_known")
def mode_known(ctx: Context, state: dict) -> bool:
    return "mode" in state["slots"]


@HOOKS.predicate("name_known")
def name_known(ctx: Context, state: dict) -> bool:
    return bool(state["slots"].get("name"))


@HOOKS.prompt("name_prompt")
def name_prompt(ctx: Context, state: dict) -> str:
    return text("ask_name_proxy" if _proxy(state["slots"]) else "ask_name")


@HOOKS.parser("person_name")
def person_name(ctx: Context, answer: str) -> str:
    name = re.sub(r"^(我叫|我是|叫|户主是|户主叫)", "", normalize_width(answer).strip()).strip(" 。.，,")
    if not _NAME.match(name):
        raise Reprompt(text("bad_name"))
    return name


@HOOKS.prompt("phone_prompt")
def phone_prompt(ctx: Context, state: dict) -> str:
    slots = state["slots"]
    return text("ask_phone_proxy", name=slots.get("name", "")) if _proxy(slots) else text("ask_phone")


@HOOKS.parser("phone")
def phone(ctx: Context, answer: str) -> str:
    found = normalize_phone(answer)
    if found is None:
        raise Reprompt(text("bad_phone"))
    return found


@HOOKS.parser("id_number")
def id_number(ctx: Context, answer: str) -> str:
    if is_unknown(answer) or normalize_width(answer).strip() in ("不填", "没有", "不方便", "无"):
        return ""
    found = normalize_id_number(answer)
    if found is None:
        raise Reprompt(text("bad_id_number"))
    return found


# -- a villager whose application a cadre already filled in ----------------------------------------
def _offer_proxy(ctx: Context, state: dict, answer: str | None, inside_application: bool) -> ActionResult:
    """Offers the 代填 application waiting under this phone number, and links it to the asker on "yes"."""
    slots, sub = state["slots"], state["sub"]
    d = desk(ctx)
    if answer is None:
        waiting = [] if _proxy(slots) else d.proxy_waiting(slots["phone"], slots["village"])
        waiting = [a for a in waiting if a.filled_by != (ctx.channel, ctx.user)]  # whoever filled it in cannot confirm it
        if not waiting:
            return ActionResult([]) if inside_application else ActionResult(say("proxy_none"), end=True)
        app = waiting[0]
        sub["number"] = app.number
        return ActionResult([Reply(text("proxy_found", number=app.number, who=who(app)), YES_NO)], asking=True)
    chosen = pick(answer, YES_NO, yes_no=True)
    if chosen is None:
        return ActionResult([Reply(text("answer_yes_no"), YES_NO)], asking=True)
    if chosen == 1:
        return ActionResult(say("proxy_not_mine_continue")) if inside_application else ActionResult(say("proxy_not_mine"), end=True)
    app = d.store.get_application(sub["number"])
    linked = d.link(app, asker(ctx)) if app is not None else None
    if linked is None:
        return ActionResult(say("proxy_taken"), end=True)
    return ActionResult([Reply(text("proxy_linked", number=linked.number)), Reply(status_text(d, linked))], end=True)


@HOOKS.action("offer_proxy_in_application")
def offer_proxy_in_application(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    return _offer_proxy(ctx, state, answer, inside_application=True)


@HOOKS.action("offer_proxy")
def offer_proxy(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    return _offer_proxy(ctx, state, answer, inside_application=False)


# -- village, household, income ---------------------------------------------------------------------
@HOOKS.action("ask_village")
def ask_village(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    """A cadre filling in picks one of their villages; anyone else types the village's name."""
    slots = state["slots"]
    villages = list(asker(ctx).villages) if _proxy(slots) else []
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
    if not 2 <= len(name) <= 20 or any(c.isdigit() for c in name):
        return ActionResult([Reply(text("bad_village")), question], asking=True)
    slots["village"] = name
    return ActionResult([])


@HOOKS.parser("household_size")
def household_size(ctx: Context, answer: str) -> int:
    size = int(parse_number(answer))
    if not 1 <= size <= 30:
        raise Reprompt(text("bad_size"))
    return size


def income_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the first day of this month a year ago to the last day of last month (the township's rule)."""
    return dt.date(today.year - 1, today.month, 1), previous_month(today)[1]


@HOOKS.prompt("income_prompt")
def income_prompt(ctx: Context, state: dict) -> str:
    start, end = income_window(ctx.today)
    return text("ask_income", start=f"{start.year}年{start.month}月{start.day}日", end=f"{end.year}年{end.month}月{end.day}日")


@HOOKS.parser("income")
def income(ctx: Context, answer: str) -> float:
    if is_unknown(answer):
        raise Reprompt(text("income_estimate"))
    value = parse_number(answer)
    if value > 10_000_000:
        raise Reprompt(text("bad_income"))
    return value


def _region(ctx: Context, slots: dict) -> str:
    """A cadre's application goes to their region; a villager's to the region of the conversation."""
    return (asker(ctx).region if _proxy(slots) else None) or ctx.region


@HOOKS.action("compare_income")
def compare_income(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    """Says how the income per head compares with the standard; it never turns the application away."""
    slots = state["slots"]
    per_head = round(slots["income"] / slots["size"])
    slots["income_per_head"] = per_head
    region = _region(ctx, slots)
    view = ctx.assistant.kb.view(region)
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
                            region=ctx.assistant.kb.view(region).region.name, year=value.start.year))


@HOOKS.prompt("consent_prompt")
def consent_prompt(ctx: Context, state: dict) -> str:
    slots = state["slots"]
    return text("ask_consent_proxy", name=slots["name"]) if _proxy(slots) else text("ask_consent")


@HOOKS.action("decline_without_consent")
def decline_without_consent(ctx: Context, state: dict, answer: str | None) -> ActionResult:
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


def _submitted(slots: dict, number: str, again: bool) -> list[Reply]:
    lead = text("already_submitted", number=number) if again else ""
    if _proxy(slots):
        body = text("submitted_proxy", number=number, name=slots["name"], phone=mask_phone(slots["phone"]))
    else:
        body = text("submitted", number=number)
    return [Reply(f"{lead}{body}")]


@HOOKS.action("confirm_and_submit")
def confirm_and_submit(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    slots = state["slots"]
    d = desk(ctx)
    key, owner = _key_and_owner(ctx, slots)
    if answer is None:
        return ActionResult([_summary(slots)], asking=True)
    if slots.pop("submitting", False):  # the process handling the confirmation stopped mid-way
        app = d.find_submitted(key, owner)
        if app is not None:
            return ActionResult(_submitted(slots, app.number, again=True), end=True)
        return ActionResult([Reply(text("submit_interrupted")), _summary(slots)], asking=True)
    chosen = pick(answer, CONFIRM)
    if chosen is None:
        return ActionResult([Reply(text("not_yet_submitted")), _summary(slots)], asking=True)
    if chosen == 1:
        keep = {k: slots[k] for k in ("instance", "mode") if k in slots}
        slots.clear()
        slots.update(keep)
        return ActionResult(say("fill_again"), goto="name")
    if chosen == 2:
        return ActionResult(say("apply_dropped"), end=True)
    slots["submitting"] = True
    persist_flow(ctx, state)
    app, _created = d.submit(key, _data(slots), owner, slots["village"], _region(ctx, slots),
                             (ctx.channel, ctx.user) if _proxy(slots) else None)
    slots.pop("submitting")
    d.store.kv_set(f"workflow:submitted:{ctx.channel}:{ctx.user}", app.number, SUBMITTED_MARK_TTL)
    return ActionResult(_submitted(slots, app.number, again=False), end=True)


def recently_submitted(ctx: Context) -> str | None:
    """The application this user submitted in the last minutes (so a repeated "确认" is not taken as new)."""
    return ctx.assistant.store.kv_get(f"workflow:submitted:{ctx.channel}:{ctx.user}")


def status_replies(ctx: Context) -> list[Reply]:
    """我的申请到哪一步了: each of the asker's applications, the latest last."""
    d, actor = desk(ctx), asker(ctx)
    apps = d.own(actor)
    if not apps:
        return say("no_application_staff" if actor.staff else "no_application")
    return [Reply(status_text(d, app)) for app in apps[-3:]]


def proxy_name(message: str) -> str | None:
    """张三 in "帮张三申请纳入监测" (not 我妈 in "帮我妈申请")."""
    match = PROXY_NAME.search(normalize_width(message))
    return match.group(1) if match and not match.group(1).startswith(("我", "你", "他", "她", "咱")) else None
