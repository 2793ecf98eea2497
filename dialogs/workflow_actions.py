"""Plugs the workflow into the conversation core.

Registers the intents of dialogs/lexicon/intents.yaml that the workflow answers (申请纳入监测,
我的申请, 订阅提醒, 退订, 我的信息, 删除我的信息), the flow hooks of workflow/chat/, and the
commands that are not phrases an intent can list: invite codes ("邀请码 ABCD-1234"), application
numbers with a step word ("走访 SQ2026-000001 已入户核实"), 我的待办, 月报, 申请复核, 确认申请.
Those commands are read before intent matching (a command reader), so they win over the
fuzzy policy search. The Assistant imports this module as a plugin when it is made.
"""

from __future__ import annotations

import workflow.chat.apply as apply
import workflow.chat.privacy as privacy
import workflow.chat.work as work
from dialogs.answers import clean
from dialogs.assistant import Assistant, command_reader, intent
from dialogs.context import Context
from dialogs.messages import Reply
from workflow.access import invite_code_in
from workflow.chat.common import find_number, say, words


@intent("apply_monitoring")
def _apply(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    name = apply.proxy_name(text) if work.asker(ctx).role == "cadre" else None

    def prefill(flow_state: dict) -> None:
        if name:
            flow_state["slots"].update({"mode": "proxy", "name": name})

    return assistant._start_flow("apply_monitoring", state, ctx, prefill)


@intent("application_status")
def _status(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return apply.status_replies(ctx)


@intent("subscribe")
def _subscribe(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return privacy.subscribe(ctx)


@intent("unsubscribe")
def _unsubscribe(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return privacy.unsubscribe(ctx)


@intent("my_data")
def _my_data(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return privacy.my_data(ctx)


@intent("delete_data")
def _delete_data(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply]:
    return assistant._start_flow("delete_data", state, ctx)


@command_reader
def workflow_command(assistant: Assistant, text: str, state: dict, ctx: Context) -> list[Reply] | None:
    """Replies to a workflow command, or None if the message is not one."""
    code = invite_code_in(text)
    if code:
        return work.invite_command(ctx, code)
    found = find_number(text)
    if found:
        return work.number_command(assistant, state, ctx, *found)
    said = clean(text)
    if said in words("todo_words"):
        return work.todo_command(assistant, state, ctx)
    if said in words("report_words"):
        return work.report_command(ctx)
    if said in words("review_words"):
        return work.review_command(assistant, state, ctx)
    if said in words("confirm_words"):
        return assistant._start_flow("confirm_application", state, ctx)
    if said in words("again_words"):
        number = apply.recently_submitted(ctx)
        if number:
            return say("already_submitted_tap", number=number)
    return None
