"""订阅提醒 and 退订: subscribing to the reminders the user can get, listing those that fit their
saved household now. Intents: subscribe, unsubscribe."""

from __future__ import annotations

from conversation.context import Context
from conversation.messages import Reply
from conversation.skill import Outcome, Skill
from conversation.skills.shared import say, text
from eligibility.household import Household, parse_household
from foundation.datafile import DataFileError
from understanding.router import Route


def _saved_household(ctx: Context) -> Household | None:
    saved = (ctx.store.load_profile(ctx.channel, ctx.user) or {}).get("household")
    try:
        return parse_household(saved, "<profile>") if saved else None
    except DataFileError:
        return None


def subscribe(ctx: Context, said: str, route: Route) -> Outcome:
    """Subscribes to every topic the user can get, and lists the reminders that fit their household now."""
    from reminders.rules import load_rules  # only when someone subscribes: the rules are not needed to chat

    store = ctx.store
    actor = ctx.actor
    household = _saved_household(ctx)
    rules = [r for r in load_rules() if r.serves(actor.role, household is not None)]
    if not rules:
        return Outcome(say("subscribe_nothing"))
    if store.get_user(ctx.channel, ctx.user) is None:  # the scheduler finds subscribers among users
        store.set_role(ctx.channel, ctx.user, "villager")
    store.upsert_subscription(ctx.channel, ctx.user, list(dict.fromkeys(r.topic for r in rules)))
    params = ctx.engine.params((household.region if household else None) or ctx.region, ctx.today)
    fitting = [r for r in rules if r.matches(household, params)]
    lines = [text("subscribed")] + [f"{n}. {r.title}（{r.schedule_text()}）" for n, r in enumerate(fitting, 1)]
    if household is None and actor.role == "villager":
        lines.append(text("subscribe_no_household"))
    lines.append(text("subscribe_tail"))
    return Outcome([Reply("\n".join(lines))])


def unsubscribe(ctx: Context, said: str, route: Route) -> Outcome:
    store = ctx.store
    if not store.get_subscription(ctx.channel, ctx.user):
        return Outcome(say("not_subscribed"))
    store.delete_subscription(ctx.channel, ctx.user)
    return Outcome(say("unsubscribed"))


SKILL = Skill(name="subscribe", intents={"subscribe": subscribe, "unsubscribe": unsubscribe})
