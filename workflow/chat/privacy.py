"""我的信息 and 删除我的信息: what is kept about the user, and deleting it on request.

Deletion keeps the application's workflow and audit rows (the county must account for its
decisions) but removes name, phone and ID number from them, including 代填 applications the
user confirmed, which the store does not know are theirs.
"""

from __future__ import annotations

from dialogs.context import Context
from dialogs.flow import HOOKS, ActionResult
from dialogs.messages import Reply
from eligibility.household import Household, parse_household
from policy_kb.yamlio import KBError
from reminders.rules import load_rules
from workflow.chat.common import asker, desk, say, text
from workflow.personal import mask_id, mask_phone
from workflow.views import who


def _household_line(profile: dict | None) -> str:
    household = (profile or {}).get("household")
    if not household:
        return text("data_no_household")
    members = household.get("members") or []
    people = "、".join(f"{m.get('relation') or '家人'}{str(m['age']) + '岁' if 'age' in m else ''}" for m in members)
    return text("data_household", count=len(members), people=people or "—")


def my_data(ctx: Context) -> list[Reply]:
    store = ctx.assistant.store
    d, actor = desk(ctx), asker(ctx)
    consent = store.get_consent(ctx.channel, ctx.user)
    topics = store.get_subscription(ctx.channel, ctx.user)
    lines = [text("data_head"), text("data_role", role=d.texts["role_names"][actor.role], villages="、".join(actor.villages) or "—")]
    lines.append(text("data_consent", consent={True: "同意", False: "不同意", None: "还没问过"}[consent]))
    lines.append(_household_line(store.load_profile(ctx.channel, ctx.user)))
    lines.append(text("data_subscription", topics="、".join(topics)) if topics else text("data_no_subscription"))
    apps = d.own(actor)
    if apps:
        lines.append(text("data_applications"))
        for app in apps:
            phone, id_number = mask_phone(app.data.get("phone")) or "—", mask_id(app.data.get("id_number")) or text("not_given")
            lines.append(f"· {app.number}（{who(app)}）手机{phone}，身份证{id_number}：{d.workflow.states[app.state].label}")
    lines.append(text("data_tail"))
    return [Reply("\n".join(lines))]


@HOOKS.prompt("delete_prompt")
def delete_prompt(ctx: Context, state: dict) -> str:
    return text("delete_question")


@HOOKS.action("delete_my_data")
def delete_my_data(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    d, actor = desk(ctx), asker(ctx)
    blanked = d.forget(actor) + d.store.delete_personal_data(ctx.channel, ctx.user)
    return ActionResult(say("deleted", applications=blanked), end=True)


@HOOKS.action("keep_my_data")
def keep_my_data(ctx: Context, state: dict, answer: str | None) -> ActionResult:
    return ActionResult(say("delete_kept"), end=True)


def _saved_household(ctx: Context) -> Household | None:
    saved = (ctx.assistant.store.load_profile(ctx.channel, ctx.user) or {}).get("household")
    try:
        return parse_household(saved, "<profile>") if saved else None
    except KBError:
        return None


def subscribe(ctx: Context) -> list[Reply]:
    """Subscribes to every topic the user can get, and lists the reminders that fit their household now."""
    store = ctx.assistant.store
    actor = asker(ctx)
    household = _saved_household(ctx)
    rules = [r for r in load_rules() if r.serves(actor.role, household is not None)]
    if not rules:
        return say("subscribe_nothing")
    if store.get_user(ctx.channel, ctx.user) is None:  # the scheduler finds subscribers among users
        store.set_role(ctx.channel, ctx.user, "villager")
    store.upsert_subscription(ctx.channel, ctx.user, list(dict.fromkeys(r.topic for r in rules)))
    params = ctx.engine.plan((household.region if household else None) or ctx.region, ctx.today).params
    fitting = [r for r in rules if r.matches(household, params)]
    lines = [text("subscribed")] + [f"{n}. {r.title}（{r.schedule_text()}）" for n, r in enumerate(fitting, 1)]
    if household is None and actor.role == "villager":
        lines.append(text("subscribe_no_household"))
    lines.append(text("subscribe_tail"))
    return [Reply("\n".join(lines))]


def unsubscribe(ctx: Context) -> list[Reply]:
    store = ctx.assistant.store
    if not store.get_subscription(ctx.channel, ctx.user):
        return say("not_subscribed")
    store.delete_subscription(ctx.channel, ctx.user)
    return say("unsubscribed")
