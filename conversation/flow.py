"""Runs dialog flows declared in YAML beside each skill (conversation/skills/<skill>.yaml).

A flow is a list of steps. A *question step* asks `prompt` (or the text a `prompt_from`
builder makes), reads the answer with numbered `choices`, a `type` (yes_no, int, number,
text) or a named `parse` validator, stores it in `slot`, then goes to the step `branch` names for
that value, else the next one. An *action step* runs Python (`action`) that may ask its own
questions (household facts, a measure's amount facts) until it is done. `skip_if` names a
predicate. The Python a flow names comes from the skills handed to the Assistant; a name no skill
defines stops start-up with the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conversation.messages import Choice, Reply
from conversation.session import FlowState
from conversation.skill import ActionResult, Hooks, Start
from foundation import checks
from foundation.datafile import DataFileError, load_data
from foundation.privacy import mask_text
from understanding.answers import Reprompt, parse_choice, parse_typed

ANSWER_TYPES = ("yes_no", "int", "number", "text")


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    prompt: str = ""
    prompt_from: str = ""
    choices: tuple[Choice, ...] = ()
    values: tuple[Any, ...] = ()
    type: str = ""
    parse: str = ""
    slot: str = ""
    on: dict[Any, str] = field(default_factory=dict)
    action: str = ""
    skip_if: str = ""
    expect: str = ""  # what a reprompt says is expected
    # A question typed instead of the answer is answered and this step asked again, nothing stored.
    # Question steps always; an action step when it reads a plain value (a village, a fact), not
    # when the message itself is what it reads (a household description).
    asides: bool = True


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    title: str
    steps: tuple[Step, ...]

    def index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise KeyError(step_id)

    def step(self, step_id: str) -> Step:
        return self.steps[self.index(step_id)]


@dataclass(slots=True)
class FlowTurn:
    """What running a flow produced for one user message."""

    replies: list[Reply]
    done: bool
    start: Start | None = None  # a flow to start next (the action asked for it)
    reroute: bool = False  # the message was no answer: understand it afresh


def load_flows(paths: list[Path], hooks: Hooks) -> dict[str, Flow]:
    flows: dict[str, Flow] = {}
    for path in paths:
        flow = _parse_flow(path, hooks)
        if flow.id in flows:
            raise DataFileError(path, None, f"流程 id '{flow.id}' 重复")
        flows[flow.id] = flow
    return flows


def _parse_flow(path: Path, hooks: Hooks) -> Flow:
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("id", "title", "steps"))
    raw_steps = checks.sequence(data["steps"], f, data.line_of("steps"), "steps")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        raw = checks.mapping(raw, f, raw_steps.line_of(i), "step")
        what = f"步骤 {raw.get('id')}"
        checks.keys(raw, f, what, ("id",), ("prompt", "prompt_from", "choices", "type", "parse", "slot", "branch", "action", "skip_if", "expect", "asides"))
        choices: list[Choice] = []
        values: list[Any] = []
        for j, item in enumerate(checks.sequence(raw.get("choices") or [], f, raw.line_of("choices"), "choices")):
            item = checks.mapping(item, f, raw.line_of("choices"), f"{what} 的选项")
            checks.keys(item, f, f"{what} 的选项", ("label",), ("value",))
            choices.append(Choice(str(j + 1), str(item["label"])))
            values.append(item.get("value", item["label"]))
        for key, table in (("prompt_from", hooks.prompts), ("parse", hooks.parsers), ("action", hooks.actions), ("skip_if", hooks.predicates)):
            if key in raw and raw[key] not in table:
                raise DataFileError(f, raw.line_of(key), f"{what} 的 {key} '{raw[key]}' 没有对应的 Python 实现")
        if "type" in raw and raw["type"] not in ANSWER_TYPES:
            raise DataFileError(f, raw.line_of("type"), f"{what} 的 type 应为 {', '.join(ANSWER_TYPES)}")
        if "action" not in raw and not ("prompt" in raw or "prompt_from" in raw):
            raise DataFileError(f, raw.line, f"{what} 既没有 prompt 也没有 action")
        steps.append(Step(
            id=str(raw["id"]), prompt=str(raw.get("prompt", "")), prompt_from=str(raw.get("prompt_from", "")),
            choices=tuple(choices), values=tuple(values), type=str(raw.get("type", "")), parse=str(raw.get("parse", "")),
            slot=str(raw.get("slot", "")), on=dict(raw.get("branch") or {}), action=str(raw.get("action", "")),
            skip_if=str(raw.get("skip_if", "")), expect=str(raw.get("expect", "")),
            asides=bool(checks.typed(raw, "asides", (bool,), f, what, "action" not in raw)),
        ))
    ids = [s.id for s in steps]
    for step in steps:
        for target in step.on.values():
            if target not in ids:
                raise DataFileError(f, None, f"步骤 {step.id} 的 branch 指向不存在的步骤 '{target}'")
    return Flow(id=str(data["id"]), title=str(data["title"]), steps=tuple(steps))


class FlowRunner:
    """Advances one user's FlowState by one message."""

    def __init__(self, flows: dict[str, Flow], hooks: Hooks) -> None:
        self.flows = flows
        self.hooks = hooks

    def start(self, flow_id: str, ctx: Any, slots: dict | None = None) -> tuple[FlowState, FlowTurn]:
        state = FlowState(flow_id, self.flows[flow_id].steps[0].id, dict(slots or {}))
        return state, self._enter(state, ctx, [])

    def answer(self, state: FlowState, text: str, ctx: Any) -> FlowTurn:
        step = self.flows[state.flow].step(state.step)
        if step.action:
            result = self.hooks.actions[step.action](ctx, state, text)
            return self._after_action(state, ctx, step, result, [])
        try:
            value = self._read(step, text, ctx)
        except Reprompt as exc:
            state.retries += 1
            return FlowTurn([self._reprompt(step, state, ctx, str(exc))], done=False)
        state.retries = 0
        if step.slot:
            state.slots[step.slot] = value
        return self._advance(state, ctx, step, value, [])

    def step(self, state: FlowState) -> Step:
        return self.flows[state.flow].step(state.step)

    def prompt(self, state: FlowState, ctx: Any) -> Reply:
        """The current question again (after 返回 or a timeout notice)."""
        step = self.flows[state.flow].step(state.step)
        if step.action:
            result = self.hooks.actions[step.action](ctx, state, None)
            return result.replies[-1] if result.replies else Reply("")
        return self._question(step, state, ctx)

    # -- internals -----------------------------------------------------------------------
    def _read(self, step: Step, text: str, ctx: Any) -> Any:
        if step.choices:
            return step.values[parse_choice(text, step.choices, yes_no=step.type == "yes_no")]
        if step.parse:
            return self.hooks.parsers[step.parse](ctx, text)
        value = parse_typed(step.type or "text", text)
        return mask_text(value) if isinstance(value, str) else value  # free text keeps no phone, ID or card number

    def _reprompt(self, step: Step, state: FlowState, ctx: Any, why: str) -> Reply:
        question = self._question(step, state, ctx)
        lead = why or (f"没看明白，请{step.expect}。" if step.expect else "没看明白您的回答。")
        text = f"{lead}\n{question.text}"
        if state.retries >= 3:
            text += "\n如果不好回答，可以回复“菜单”看看我能做什么，或回复“取消”结束。"
        return Reply(text, question.choices)

    def _question(self, step: Step, state: FlowState, ctx: Any) -> Reply:
        text = self.hooks.prompts[step.prompt_from](ctx, state) if step.prompt_from else step.prompt
        return Reply(text, list(step.choices))

    def _advance(self, state: FlowState, ctx: Any, step: Step, value: Any, replies: list[Reply]) -> FlowTurn:
        flow = self.flows[state.flow]
        target = step.on.get(value)
        if target is None and isinstance(value, bool):
            target = step.on.get(str(value).lower())
        if target is not None:
            state.step = target
        else:
            position = flow.index(step.id) + 1
            if position >= len(flow.steps):
                return FlowTurn(replies, done=True)
            state.step = flow.steps[position].id
        state.sub = {}
        return self._enter(state, ctx, replies)

    def _enter(self, state: FlowState, ctx: Any, replies: list[Reply]) -> FlowTurn:
        step = self.flows[state.flow].step(state.step)
        if step.skip_if and self.hooks.predicates[step.skip_if](ctx, state):
            return self._advance(state, ctx, step, None, replies)
        if step.action:
            result = self.hooks.actions[step.action](ctx, state, None)
            return self._after_action(state, ctx, step, result, replies)
        return FlowTurn(replies + [self._question(step, state, ctx)], done=False)

    def _after_action(self, state: FlowState, ctx: Any, step: Step, result: ActionResult, replies: list[Reply]) -> FlowTurn:
        replies = replies + result.replies
        if result.reroute:
            return FlowTurn(replies, done=True, reroute=True)
        if result.start is not None:
            return FlowTurn(replies, done=True, start=result.start)
        if result.end:
            return FlowTurn(replies, done=True)
        if result.asking:
            return FlowTurn(replies, done=False)
        if result.goto:
            state.step = result.goto
            state.sub = {}
            return self._enter(state, ctx, replies)
        return self._advance(state, ctx, step, None, replies)
