"""One test per kind of mistake a policy officer can make in the knowledge base (and in a
household file). Each test copies policy_kb/data to a temporary folder, breaks one thing, loads
it and checks that the error names the file, the right line and the reason.

Line numbers are found by searching the copied files, so the tests keep working while the real
data is edited; mistakes that need a whole measure are written into a new file
(measures/99_broken.yaml) whose lines the test controls.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eligibility.household import load_household
from foundation.datafile import DataFileError
from policy_kb.loader import load_kb

# A valid measure; each test changes one line of it.
MEASURE = """\
measures:
  - id: test.broken_measure
    title: 测试措施
    category: 其他
    mandatory: false
    target: household
    when:
      all:
        - {fact: household.monitored, is: true}
        - {fact: household.income_per_head, lt: {param: monitoring.income_threshold}}
        - {fact: household.housing, in: [危房, 无房]}
    gives: 测试用措施。
    how_to_apply: 测试用措施。
    responsible: [结对帮扶人]
    source:
      source: mingbaizhi
      section: 10 其他
      quote: ●结对帮扶人应定期进行政策宣传，激发内生动力。
    examples: [测试问题一, 测试问题二, 测试问题三]
    keywords: [测试]
"""

# A valid parameter file; tests change its values.
PARAMETER = """\
test.broken_parameter:
  label: 测试参数
  unit: 元
  period: year
  kind: amount
  values:
    2021-01-01:
      value: 400
      ref:
        source: mingbaizhi
        section: 2 就业帮扶
        quote: 省外的补贴不超过400元
"""


# ---------------------------------------------------------------- helpers
@pytest.fixture
def data(tmp_path, data_dir) -> Path:
    """A private copy of policy_kb/data."""
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    return target


def line_no(text: str, needle: str) -> int:
    """1-based number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")


def replace_line(path: Path, pattern: str, new: str) -> int:
    """Replace the first line matching the regex `pattern` by `new`; return its line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if re.search(pattern, line):
            lines[index] = new.rstrip("\n") + "\n"
            path.write_text("".join(lines), encoding="utf-8")
            return index + 1
    raise AssertionError(f"no line matches {pattern!r} in {path.name}")


def insert_after(path: Path, pattern: str, new: str) -> int:
    """Insert `new` after the first line matching `pattern`; return the new line's number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if re.search(pattern, line):
            lines.insert(index + 1, new.rstrip("\n") + "\n")
            path.write_text("".join(lines), encoding="utf-8")
            return index + 2
    raise AssertionError(f"no line matches {pattern!r} in {path.name}")


def write_measure(data: Path, old: str | None = None, new: str | None = None) -> tuple[Path, int]:
    """Write MEASURE to measures/99_broken.yaml with the line containing `old` replaced by `new`
    (or removed when `new` is None); return the file and that line's number."""
    text = MEASURE
    number = 0
    if old is not None:
        number = line_no(text, old)
        lines = text.splitlines(keepends=True)
        lines[number - 1] = "" if new is None else new.rstrip("\n") + "\n"
        text = "".join(lines)
    path = data / "measures" / "99_broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, number


def expect_error(data: Path, file_name: str, line: int | None, *words: str) -> DataFileError:
    with pytest.raises(DataFileError) as info:
        load_kb(data_dir=data)
    err = info.value
    message = str(err)
    assert Path(err.file).name == file_name, f"error names {err.file}, expected {file_name}: {message}"
    assert file_name in message, message
    if line is not None:
        assert err.line == line, f"error is at line {err.line}, expected line {line}: {message}"
        assert f"{file_name}:{line}:" in message, message
    for word in words:
        assert word in message, f"{word!r} not in the error: {message}"
    return err


# ---------------------------------------------------------------- controls
def test_copy_loads(data):
    """The copy itself is valid (otherwise every test below would fail for the wrong reason)."""
    load_kb(data_dir=data)


def test_template_measure_loads(data):
    write_measure(data)
    kb = load_kb(data_dir=data)
    assert kb.view("base").measure("test.broken_measure") is not None


def test_template_parameter_loads(data):
    (data / "parameters" / "zz_broken.yaml").write_text(PARAMETER, encoding="utf-8")
    assert load_kb(data_dir=data).view("base").parameters["test.broken_parameter"].value_at(dt.date(2024, 1, 1)) == 400


# ---------------------------------------------------------------- YAML
def test_yaml_syntax_error(data):
    path = data / "measures" / "05_education.yaml"
    line = replace_line(path, r"^    title: ", "    title: 教育: 助学补贴")
    expect_error(data, path.name, line, "YAML 语法错误")


def test_duplicate_yaml_key(data):
    path = data / "measures" / "05_education.yaml"
    line = insert_after(path, r"^    title: ", "    title: 又一个标题")
    expect_error(data, path.name, line, "重复的键", "title")


# ---------------------------------------------------------------- measure keys and types
def test_unknown_key_in_measure(data):
    path = data / "measures" / "05_education.yaml"
    line = insert_after(path, r"^    mandatory: ", "    mandatroy: true")
    expect_error(data, path.name, line, "未知的键", "mandatroy")


def test_wrong_type_mandatory_yes(data):
    path = data / "measures" / "05_education.yaml"
    line = replace_line(path, r"^    mandatory: true", '    mandatory: "yes"')
    expect_error(data, path.name, line, "mandatory", "true/false", "yes")


def test_unknown_category(data):
    path, line = write_measure(data, "category: 其他", "    category: 扶贫")
    expect_error(data, path.name, line, "类别", "扶贫")


def test_fewer_than_three_examples(data):
    path, line = write_measure(data, "examples:", "    examples: [测试问题一, 测试问题二]")
    expect_error(data, path.name, line, "examples", "3")


def test_measure_without_source(data):
    text = MEASURE
    start = line_no(text, "    source:")
    lines = text.splitlines(keepends=True)
    del lines[start - 1:start + 3]  # the source: block is four lines
    path = data / "measures" / "99_broken.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    expect_error(data, path.name, line_no(MEASURE, "- id: test.broken_measure"), "缺少", "source")


def test_duplicate_measure_id(data):
    path, line = write_measure(data, "- id: test.broken_measure", "  - id: edu.student_grant")
    expect_error(data, path.name, line, "edu.student_grant", "重复", "05_education.yaml")


# ---------------------------------------------------------------- references
def test_reference_to_missing_parameter(data):
    """The error should point at the `parameter:` line that names the missing parameter."""
    path = data / "measures" / "05_education.yaml"
    line = replace_line(path, r"parameter: edu\.grant\.kindergarten\s*$", "        parameter: edu.grant.kindergarden")
    expect_error(data, path.name, line, "edu.grant.kindergarden", "不存在的参数")


def test_reference_to_missing_source(data):
    path = data / "parameters" / "education.yaml"
    line = replace_line(path, r"^\s+source: mingbaizhi\s*$", "        source: mingbaizi")
    expect_error(data, path.name, line, "mingbaizi", "不存在的文件来源")


def test_quote_not_in_source(data):
    path = data / "parameters" / "education.yaml"
    line = replace_line(path, r"quote: 初中寄宿学生750元/生/学期", "        quote: 初中寄宿学生800元/生/学期")
    expect_error(data, path.name, line, "引文不在原文", "初中寄宿学生800元/生/学期")


# ---------------------------------------------------------------- parameters
def test_dates_out_of_order(data):
    text = PARAMETER + """\
    2020-01-01:
      value: 300
      ref:
        source: mingbaizhi
        section: 2 就业帮扶
        quote: 省外的补贴不超过400元
"""
    path = data / "parameters" / "zz_broken.yaml"
    path.write_text(text, encoding="utf-8")
    expect_error(data, path.name, line_no(text, "2020-01-01:"), "日期", "2020-01-01")


def test_same_date_twice(data):
    text = PARAMETER + """\
    2021-01-01:
      value: 300
"""
    path = data / "parameters" / "zz_broken.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    second = [i + 1 for i, line in enumerate(lines) if line.strip() == "2021-01-01:"][1]
    expect_error(data, path.name, second, "重复", "2021-01-01")


def test_parameter_value_not_a_number(data):
    text = PARAMETER.replace("value: 400", "value: 400元")
    path = data / "parameters" / "zz_broken.yaml"
    path.write_text(text, encoding="utf-8")
    expect_error(data, path.name, line_no(text, "value: 400元"), "数字", "400元")


# ---------------------------------------------------------------- conditions
def test_unknown_fact_in_condition(data):
    path, line = write_measure(data, "household.monitored, is: true", "        - {fact: household.monitord, is: true}")
    expect_error(data, path.name, line, "未知的事实", "household.monitord")


def test_enum_value_not_in_fact_values(data):
    path, line = write_measure(data, "household.housing, in:", "        - {fact: household.housing, in: [危房, 破房]}")
    expect_error(data, path.name, line, "破房", "household.housing")


def test_numeric_literal_in_comparison(data):
    path, line = write_measure(data, "household.income_per_head", "        - {fact: household.income_per_head, lt: 6500}")
    expect_error(data, path.name, line, "6500", "param")


# ---------------------------------------------------------------- regions and overlays
OVERLAY_BAD_PARAMETER = """\
region: heqing
parameters:
  health.premium_subsidy.monitord:
    values:
      2022-01-01:
        value: 100
        ref:
          source: heqing_2020
          section: 二、(五)精准帮扶阶段 2 就业扶持
          quote: 100%推荐就业岗位
"""


def test_overlay_overrides_missing_base_parameter(data):
    path = data / "regions" / "heqing.yaml"
    path.write_text(OVERLAY_BAD_PARAMETER, encoding="utf-8")
    expect_error(data, path.name, 3, "health.premium_subsidy.monitord", "基础政策中不存在")


def test_overlay_region_key_does_not_match_file(data):
    path = data / "regions" / "heqing.yaml"
    line = replace_line(path, r"^region: ", "region: heqin")
    expect_error(data, path.name, line, "heqin")


def test_overlay_file_for_unknown_region(data):
    """regions/xinxian.yaml without an entry in regions.yaml must not be silently ignored."""
    path = data / "regions" / "xinxian.yaml"
    path.write_text("region: xinxian\ndrop: [other.policy_publicity]\n", encoding="utf-8")
    expect_error(data, path.name, None, "xinxian")


def test_source_with_unknown_region(data):
    path = data / "sources.yaml"
    line = replace_line(path, r"^    region: heqing\s*$", "    region: heqin")
    expect_error(data, path.name, line, "heqin")


# ---------------------------------------------------------------- household files
HOUSEHOLD_OK = """\
name: 测试家
statuses: [监测对象]
income_per_head: 5000
members:
  - relation: 户主
    age: 40
    school_stage: 不在读
  - relation: 子女
    age: 12
    school_stage: 初中
"""

BAD_HOUSEHOLDS = {
    "unknown_field": ("income_per_head: 5000", "incom_per_head: 5000", ["incom_per_head", "未知字段"]),
    "negative_age": ("age: 12", "    age: -3", ["age", "-3"]),
    "unknown_school_stage": ("school_stage: 初中", "    school_stage: 大学", ["school_stage", "大学"]),
}


def _bad_household(tmp_path: Path, kind: str) -> tuple[Path, int, list[str]]:
    old, new, words = BAD_HOUSEHOLDS[kind]
    number = line_no(HOUSEHOLD_OK, old)
    lines = HOUSEHOLD_OK.splitlines(keepends=True)
    lines[number - 1] = new + "\n"
    path = tmp_path / f"bad_{kind}.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, number, words


def test_household_ok(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(HOUSEHOLD_OK, encoding="utf-8")
    household = load_household(path)
    assert household.facts["monitored"] is True and household.members[1]["school_stage"] == "初中"


@pytest.mark.parametrize("kind", sorted(BAD_HOUSEHOLDS))
def test_bad_household_file(tmp_path, kind):
    path, number, words = _bad_household(tmp_path, kind)
    with pytest.raises(DataFileError) as info:
        load_household(path)
    message = str(info.value)
    assert path.name in message and info.value.line == number, f"expected {path.name}:{number}, got: {message}"
    for word in words:
        assert word in message, f"{word!r} not in: {message}"


@pytest.mark.parametrize("kind", sorted(BAD_HOUSEHOLDS))
def test_cli_rejects_bad_household(tmp_path, root, kind):
    path, _, words = _bad_household(tmp_path, kind)
    proc = subprocess.run([sys.executable, "bot.py", "entitlements", str(path)], cwd=root, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"exit code 0 for a bad household file:\n{output}"
    assert "Traceback" not in output, output
    assert re.search(r"[\u4e00-\u9fff]", output), f"no Chinese message:\n{output}"
    assert words[0] in output, f"the message does not name {words[0]!r}:\n{output}"


# ---------------------------------------------------------------- defaults may only take away
def test_default_that_grants_is_refused(data):
    """coop_linked defaults to false: `coop_linked is false` would hold for every household nobody asked."""
    path, line = write_measure(data, "{fact: household.housing, in: [危房, 无房]}", "        - {fact: household.coop_linked, is: false}")
    expect_error(data, path.name, line, "household.coop_linked", "默认", "不适用")


def test_default_through_not_is_refused(data):
    """orphan defaults to false, so `not orphan` holds by default: the same mistake one `not` deeper."""
    path, line = write_measure(data, "{fact: household.housing, in: [危房, 无房]}", "        - {not: {any_member: {fact: member.orphan, is: true}}}")
    expect_error(data, path.name, line, "member.orphan", "默认")


def test_default_through_no_member_is_refused(data):
    path, line = write_measure(data, "{fact: household.housing, in: [危房, 无房]}", "        - {no_member: {fact: member.major_illness, is: true}}")
    expect_error(data, path.name, line, "member.major_illness", "默认")


def test_default_that_takes_away_is_allowed(data):
    """A default that can only make the condition fail is fine: orphan must be stated to count."""
    write_measure(data, "{fact: household.housing, in: [危房, 无房]}", "        - {any_member: {fact: member.orphan, is: true}}")
    assert load_kb(data_dir=data).view("base").measure("test.broken_measure") is not None


def test_default_in_an_amount_line_is_refused(data):
    path = data / "measures" / "06_health.yaml"
    line = replace_line(path, r"^      - when: \{fact: member.orphan, is: true\}", "      - when: {not: {fact: member.orphan, is: true}}")
    expect_error(data, path.name, line, "member.orphan", "默认")


# ---------------------------------------------------------------- ★/● belong to the 明白纸
def test_mark_on_a_county_measure_is_refused(data):
    path = data / "regions" / "boluo.yaml"
    line = insert_after(path, r"^    title: 城乡居民养老保险全额资助", "    mandatory: true")
    expect_error(data, path.name, line, "明白纸", "mandatory")


def test_mark_missing_on_a_mingbaizhi_measure_is_refused(data):
    path, line = write_measure(data, "mandatory: false", None)
    expect_error(data, path.name, line_no(MEASURE, "- id: test.broken_measure"), "明白纸", "mandatory")


# ---------------------------------------------------------------- figures the texts do not give
def test_value_and_unknown_together_is_refused(data):
    text = PARAMETER.replace("      value: 400\n", "      value: 400\n      unknown: 每年调整\n")
    (data / "parameters" / "zz_broken.yaml").write_text(text, encoding="utf-8")
    expect_error(data, "zz_broken.yaml", line_no(text, "unknown:"), "unknown", "二选一")


def test_unknown_needs_a_reference(data):
    text = "test.broken_parameter:\n  label: 测试\n  unit: 元\n  period: year\n  kind: limit\n  values:\n    2021-01-01:\n      unknown: 每年调整\n"
    (data / "parameters" / "zz_broken.yaml").write_text(text, encoding="utf-8")
    expect_error(data, "zz_broken.yaml", 8, "出处")


def test_nan_value_is_refused(data):
    path = data / "parameters" / "zz_broken.yaml"
    path.write_text(PARAMETER.replace("value: 400", "value: .nan"), encoding="utf-8")
    expect_error(data, "zz_broken.yaml", line_no(PARAMETER, "value: 400"), "数字")


def test_unknown_placeholder_in_a_topics_month_line(data):
    path = data / "topics" / "base.yaml"
    line = replace_line(path, r"^    with_month: ", '    with_month: "{month}识别的，收入从{begin}算起。"')
    expect_error(data, path.name, line, "with_month", "{begin}")


def test_a_step_that_follows_an_unknown_step(data):
    path = data / "regions" / "heqing.yaml"
    replace_line(path, r"^\s+follows: procedure\.heqing\.review\s*$", "    follows: procedure.heqing.reveiw")
    line = line_no(path.read_text(encoding="utf-8"), "- id: procedure.heqing.township_audit")
    expect_error(data, path.name, line, "procedure.heqing.reveiw", "follows")


def test_a_derived_rule_whose_quiet_is_not_yes_or_no(tmp_path):
    """`quiet` keeps a derived rule out of the read-back; anything but true/false is a mistake."""
    from policy_kb.facts import FACTS_FILE, parse_fact_model

    text = FACTS_FILE.read_text(encoding="utf-8")
    broken = text.replace("    quiet: true\n", "    quiet: 是\n", 1)
    assert broken != text
    path = tmp_path / "facts.yaml"
    path.write_text(broken, encoding="utf-8")
    line = broken[:broken.index("    quiet: 是")].count("\n") + 1
    with pytest.raises(DataFileError) as err:
        parse_fact_model(path)
    assert err.value.file.endswith("facts.yaml") and err.value.line == line and "quiet" in err.value.reason
