"""states.yaml, texts.yaml and rules.yaml are checked on load; a mistake names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.datafile import DataFileError
from policy_kb.loader import default_kb
from reminders.rules import RULES_FILE, load_rules
from tests.kit.datafiles import broken, line_of
from workflow.model import STATES_FILE, TEXTS_FILE, load_texts, load_workflow


def test_shipped_files_load_and_name_real_parameters() -> None:
    workflow = load_workflow()
    load_texts()
    load_rules()
    parameters = {p for view in default_kb().views.values() for p in view.parameters}
    assert {s.deadline for s in workflow.states.values() if s.deadline} <= parameters
    assert workflow.report_due_param in parameters


@pytest.mark.parametrize("old, new, needle, reason", [
    ("    to: visited\n", "    to: visitted\n", "to: visitted", "不是 states 里的状态"),
    ("    roles: [cadre]\n    label: 走访排查完成", "    roles: [mayor]\n    label: 走访排查完成", "roles: [mayor]", "角色 'mayor' 未知"),
    ("    words: [评议, 民主评议, 公示]", "    words: [走访, 民主评议, 公示]", "words: [走访, 民主评议, 公示]", "会分不清"),
    ("    tell: 原因：{note}", "    tell: 原因：{reason}", "tell: 原因", "未知的占位符"),
    ("    label: 已提交，等待村里走访排查\n", "    lable: 已提交，等待村里走访排查\n", "lable:", "未知的键 'lable'"),
])
def test_states_mistakes(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    path = broken(tmp_path, STATES_FILE, old, new)
    with pytest.raises(DataFileError) as caught:
        load_workflow(path)
    assert reason in caught.value.reason and caught.value.file == str(path)
    assert caught.value.line in (line_of(path, needle), line_of(path, needle) - 1)


def test_texts_mistake(tmp_path: Path) -> None:
    path = broken(tmp_path, TEXTS_FILE, "status_head: 申请号 {number}", "status_head: 申请号 {number")
    with pytest.raises(DataFileError) as caught:
        load_texts(path)
    assert caught.value.line == line_of(path, "status_head:") and "格式不对" in caught.value.reason


@pytest.mark.parametrize("old, new, needle, reason", [
    ('    dates: ["03-01", "09-01"]\n', '    dates: ["03-01", "02-30"]\n', '"02-30"', "应为 MM-DD"),
    ("    fresh_days: 45\n", "    fresh_days: 100\n", "fresh_days: 100", "要小于两次提醒的间隔"),
    ("{fact: member.school_stage, in: [幼儿园", "{fact: member.school_grade, in: [幼儿园", "school_grade", "未知的事实"),
    ("    for: [cadre, township]\n", "    for: [cadre, mayor]\n", "for: [cadre, mayor]", "应为 household"),
    ("    monthly: 10\n", "    monthly: 10\n    dates: [\"01-01\"]\n", "monthly: 10", "有且只有一种时间"),
    ("还剩2个工作日。", "还剩{days}个工作日。", "还剩{days}", "不能用的占位符"),
])
def test_rules_mistakes(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    path = broken(tmp_path, RULES_FILE, old, new)
    with pytest.raises(DataFileError) as caught:
        load_rules(path)
    assert reason in caught.value.reason and caught.value.file == str(path)
    found = line_of(path, needle)
    assert caught.value.line is not None and found - 3 <= caught.value.line <= found
