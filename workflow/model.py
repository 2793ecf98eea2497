"""The workflow's data files, read once and checked: states.yaml (the procedure) and texts.yaml.

A mistake in either stops start-up with the file, the line and what is wrong, in Chinese, the
same way the knowledge base does (foundation.checks).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from foundation import checks
from foundation.datafile import DataFileError, LineDict, load_data

HERE = Path(__file__).parent
STATES_FILE = HERE / "states.yaml"
TEXTS_FILE = HERE / "texts.yaml"
STEP_ROLES = ("cadre", "township", "county", "applicant")
STAFF_ROLES = ("cadre", "township", "county")


@dataclass(frozen=True, slots=True)
class State:
    id: str
    label: str
    next: str
    deadline: str = ""  # a working-days parameter id
    final: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    source: str
    target: str
    words: tuple[str, ...]
    roles: tuple[str, ...]
    label: str
    ask_note: str
    note_required: bool = False
    tell: str = ""
    plan: bool = False

    @property
    def word(self) -> str:
        return self.words[0]


@dataclass(frozen=True, slots=True)
class Workflow:
    initial: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]
    verified: str  # entering this state: the township verified the household; the report's new households
    verified_forms: tuple[str, ...]  # the forms they are reported on (附件1、附件2)
    report_due_param: str  # parameter: the day of the month the report is due
    lifted: str  # entering this state lifts an alert (警情解除)
    lifted_form: str  # the form a lifted alert is registered on (附件3)
    lifted_due_param: str  # parameter: its day of the month
    processing: tuple[str, ...]  # states of an application still being processed

    def leaving(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == state]

    def by_word(self, word: str) -> Transition | None:
        return next((t for t in self.transitions if word in t.words), None)

    def waiting_for(self, role: str) -> list[str]:
        """States in which someone with `role` has a step to take."""
        return list(dict.fromkeys(t.source for t in self.transitions if role in t.roles))

    def entered_by(self, target: str) -> Transition | None:
        return next((t for t in self.transitions if t.target == target), None)


def _format_fields(template: str, file: str, line: int, what: str, allowed: tuple[str, ...] | None = None) -> None:
    """Checks that the braces are well-formed and, given `allowed`, that only those names are used."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise DataFileError(file, line, f"{what} 的格式不对：{exc}") from None
    unknown = fields - set(allowed) if allowed is not None else set()
    if unknown:
        raise DataFileError(file, line, f"{what} 里有未知的占位符 {{{', '.join(sorted(unknown))}}}（可用：{', '.join(allowed) or '无'}）")


@lru_cache(maxsize=1)
def load_workflow(path: Path = STATES_FILE) -> Workflow:
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("initial", "states", "transitions", "report"))
    raw_states = checks.mapping(data["states"], f, data.line_of("states"), "states")
    states: dict[str, State] = {}
    for sid, raw in raw_states.items():
        raw = checks.mapping(raw, f, raw_states.line_of(sid), f"状态 {sid}")
        what = f"状态 {sid}"
        checks.keys(raw, f, what, ("label", "next"), ("deadline", "final"))
        states[str(sid)] = State(
            id=str(sid), label=str(checks.text(raw, "label", f, what)), next=str(checks.text(raw, "next", f, what)),
            deadline=checks.text(raw, "deadline", f, what, "") or "", final=bool(checks.typed(raw, "final", (bool,), f, what, False)),
        )
    if data["initial"] not in states:
        raise DataFileError(f, data.line_of("initial"), f"initial '{data['initial']}' 不是 states 里的状态")
    report = checks.mapping(data["report"], f, data.line_of("report"), "report")
    checks.keys(report, f, "report", ("verified", "verified_forms", "due_day", "lifted", "lifted_form", "lifted_due_day", "processing"))
    for key in ("verified", "lifted"):
        if report[key] not in states:
            raise DataFileError(f, report.line_of(key), f"report 的 {key} '{report[key]}' 不是 states 里的状态")
    transitions = [_transition(raw, i, f, data, states) for i, raw in enumerate(checks.sequence(data["transitions"], f, data.line_of("transitions"), "transitions"))]
    seen: dict[str, int] = {}
    for i, t in enumerate(transitions):
        for word in t.words:
            if word in seen:
                line = data["transitions"][i].line_of("words")
                raise DataFileError(f, line, f"words '{word}' 同时用在第 {seen[word] + 1} 和第 {i + 1} 个步骤，会分不清")
            seen[word] = i
    return Workflow(str(data["initial"]), states, tuple(transitions), str(report["verified"]),
                    tuple(checks.text_list(report, "verified_forms", f, "report", minimum=1)), str(checks.text(report, "due_day", f, "report")),
                    str(report["lifted"]), str(checks.text(report, "lifted_form", f, "report")),
                    str(checks.text(report, "lifted_due_day", f, "report")), _states(report, "processing", f, states))


def _states(raw: LineDict, key: str, f: str, states: dict[str, State]) -> tuple[str, ...]:
    names = tuple(checks.text_list(raw, key, f, key, minimum=1))
    for name in names:
        if name not in states:
            raise DataFileError(f, raw.line_of(key), f"{key} 里的 '{name}' 不是 states 里的状态")
    return names


def _transition(raw: Any, index: int, f: str, data: LineDict, states: dict[str, State]) -> Transition:
    line = data["transitions"].line_of(index)
    raw = checks.mapping(raw, f, line, f"第 {index + 1} 个步骤")
    what = f"步骤 {raw.get('from')} → {raw.get('to')}"
    checks.keys(raw, f, what, ("from", "to", "words", "roles", "label", "ask_note"), ("note", "tell", "plan"))
    for key in ("from", "to"):
        if raw[key] not in states:
            raise DataFileError(f, raw.line_of(key), f"{what} 的 {key} '{raw[key]}' 不是 states 里的状态")
    roles = checks.text_list(raw, "roles", f, what, minimum=1)
    for role in roles:
        if role not in STEP_ROLES:
            raise DataFileError(f, raw.line_of("roles"), f"{what} 的角色 '{role}' 未知（可用：{', '.join(STEP_ROLES)}）")
    note = checks.text(raw, "note", f, what)
    if note not in (None, "required"):
        raise DataFileError(f, raw.line_of("note"), f"{what} 的 note 只能是 required")
    tell = checks.text(raw, "tell", f, what, "") or ""
    _format_fields(tell, f, raw.line_of("tell"), f"{what} 的 tell", ("note", "number"))
    return Transition(
        source=str(raw["from"]), target=str(raw["to"]), words=tuple(checks.text_list(raw, "words", f, what, minimum=1)),
        roles=tuple(roles), label=str(checks.text(raw, "label", f, what)), ask_note=str(checks.text(raw, "ask_note", f, what)),
        note_required=note == "required", tell=tell, plan=bool(checks.typed(raw, "plan", (bool,), f, what, False)),
    )


@lru_cache(maxsize=1)
def load_texts(path: Path = TEXTS_FILE) -> dict[str, Any]:
    """Every sentence the workflow says: text, lists of text (command words), or names by key (role names)."""
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    for key, value in data.items():
        if isinstance(value, list):
            checks.text_list(data, key, f, path.name, minimum=1)
        elif isinstance(value, dict):
            names = checks.mapping(value, f, data.line_of(key), key)
            for name in names:
                checks.text(names, name, f, key)
        else:
            checks.text(data, key, f, path.name)
            _format_fields(str(value), f, data.line_of(key), key)
    return dict(data)
