"""我的信息 and 删除我的信息: what is kept about the user, and deleting it on request.

Deletion keeps the application's workflow and audit rows (the county must account for its
decisions) but removes name, phone and ID number from them, including 代填 applications the
user confirmed, which the store does not know are theirs.

Flow: my_data.yaml (delete_data). Intents: my_data, delete_data.
"""

from __future__ import annotations

from pathlib import Path

from conversation.context import Context
from conversation.messages import Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Outcome, Skill, Start
from conversation.skills.shared import say, text
from foundation.privacy import mask_id, mask_phone
from understanding.router import Route
from workflow.views import who


def _household_line(profile: dict | None) -> str:
    household = (profile or {}).get("household")
    if not household:
        return text("data_no_household")
    members = household.get("members") or []
    people = "、".join(f"{m.get('relation') or '家人'}{str(m['age']) + '岁' if 'age' in m else ''}" for m in members)
    return text("data_household", count=len(members), people=people or "—")


def my_data(ctx: Context, said: str, route: Route) -> Outcome:
    store, d, actor = ctx.store, ctx.desk, ctx.actor
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
    return Outcome([Reply("\n".join(lines))])


def delete_data(ctx: Context, said: str, route: Route) -> Outcome:
    return Outcome(start=Start("delete_data"))


def delete_prompt(ctx: Context, state: FlowState) -> str:
    return text("delete_question")


def delete_my_data(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    blanked = ctx.desk.forget(ctx.actor) + ctx.store.delete_personal_data(ctx.channel, ctx.user)
    ctx.session.recent = {}
    return ActionResult(say("deleted", applications=blanked), end=True)


def keep_my_data(ctx: Context, state: FlowState, answer: str | None) -> ActionResult:
    return ActionResult(say("delete_kept"), end=True)


SKILL = Skill(
    name="my_data",
    flows=(Path(__file__).with_name("my_data.yaml"),),
    hooks=Hooks(prompts={"delete_prompt": delete_prompt}, actions={"delete_my_data": delete_my_data, "keep_my_data": keep_my_data}),
    intents={"my_data": my_data, "delete_data": delete_data},
)
