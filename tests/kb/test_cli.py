"""The command line: `bot.py kb check` and `bot.py entitlements`, run as separate processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policy_kb.loader import squeeze
from policy_kb.model import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/household.yaml"
DATE = "2026-11-22"


def bot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


@pytest.fixture(scope="module")
def kb_check():
    return bot("kb", "check")


@pytest.fixture(scope="module")
def text_output():
    return bot("entitlements", EXAMPLE, "--region", "博罗县", "--date", DATE)


@pytest.fixture(scope="module")
def json_output():
    proc = bot("entitlements", EXAMPLE, "--region", "博罗县", "--date", DATE, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- kb check
def test_kb_check_exits_zero(kb_check):
    assert kb_check.returncode == 0, kb_check.stdout + kb_check.stderr
    assert "校验通过" in kb_check.stdout


def test_kb_check_prints_counts_per_category_and_region(kb_check, kb):
    out = kb_check.stdout
    regions = list(kb.regions.values())
    for region in regions:
        assert region.name in out, f"region {region.name} missing from:\n{out}"
    for category in CATEGORIES:
        rows = [line for line in out.splitlines() if line.startswith(category)]
        assert rows, f"no row for category {category}:\n{out}"
        cells = re.findall(r"(\d+)★(\d+)●(\d+)◇", rows[0])
        assert len(cells) == len(regions), f"row {rows[0]!r} should have one ★/●/◇ count per region"
        for region, (star, dot, own) in zip(regions, cells, strict=True):
            measures = [m for m in kb.views[region.id].measures if m.category == category]
            want = tuple(sum(m.mandatory is mark for m in measures) for mark in (True, False, None))
            assert (int(star), int(dot), int(own)) == want, f"{category}/{region.name}: printed {star}★{dot}●{own}◇, KB has {want}"


# ---------------------------------------------------------------- entitlements, text
def test_text_exits_zero(text_output):
    assert text_output.returncode == 0, text_output.stdout + text_output.stderr
    assert "博罗县" in text_output.stdout.splitlines()[0]


def test_text_lists_mandatory_items_first(text_output):
    out = text_output.stdout
    marks = re.findall(r"^\d+\. ([★●])", out, flags=re.M)
    assert "★" in marks and "●" in marks, out[:2000]
    first_optional = marks.index("●")
    assert all(m == "●" for m in marks[first_optional:]), f"a ★ item comes after a ● item: {''.join(marks)}"
    assert out.index("★ 必须落实") < out.index("● 可以争取")


def test_text_amounts_have_units(text_output):
    out = text_output.stdout
    lines = [line for line in out.splitlines() if line.strip().startswith("金额：")]
    assert lines, "no amount lines"
    for line in lines:
        assert re.search(r"\d(元|%|次|个百分点|万元|个|门|人)", line), f"amount without a unit: {line!r}"
    # numbers from the seed texts, as the household gets them
    for text in ("初中寄宿：750元/生/学期", "全日制中职：1000元/生/期", "雨露计划：1500元/生/期", "幼儿园：500元/生/期",
                 "最高400元", "监测对象：100%"):
        assert text in out, f"{text!r} not in the output"


def test_text_warns_that_boluo_document_expired(text_output):
    assert "有效期到2025年12月31日" in text_output.stdout and "过期" in text_output.stdout


def test_text_says_an_expired_document_once(text_output):
    """The warning stands once at the top with the measures it concerns, not under each line."""
    out = text_output.stdout
    assert out.count("有效期到2025年12月31日") == 1, out
    head = re.split(r"(?m)^(?=\d+\. )", out)[0]
    assert "有效期到2025年12月31日" in head and "城乡居民医保资助参保" in head, head


def test_text_boluo_full_subsidy_cites_boluo(text_output):
    """博罗县's 100% cites “落实全额资助监测对象参加城乡居民基本医疗保险政策”, not the 明白纸's 50% sentence."""
    out = text_output.stdout
    at = out.index("监测对象：100%")
    assert "落实全额资助监测对象参加城乡居民基本医疗保险政策" in out[at:at + 300], out[at:at + 300]


def test_text_dates_belong_to_amounts(text_output):
    """“2024年春季起” on education amounts, “从2021年起” on the transport subsidy; the 明白纸 itself is undated."""
    out = text_output.stdout
    assert "初中寄宿：750元/生/学期（每年1500元，2024年春季起）" in out
    assert "省外务工：最高400元（从2021年起）" in out
    assert "未注明印发日期" not in out and "2024年春季起，交通补贴" not in out
    for line in out.splitlines():
        if line.strip().startswith("金额：") and ("体检" in line or "自费" in line or "医疗机构" in line):
            assert "2024" not in line and "2021" not in line, line


def test_text_vocational_note_only_under_its_amount(text_output):
    out = text_output.stdout
    for block in re.split(r"(?m)^(?=\d+\. )", out):
        if "幼儿园：500元/生/期" in block:
            assert "第三年" not in block, block
        if "全日制中职：1000元/生/期" in block:
            assert "第三年不享受" in block, block


# ---------------------------------------------------------------- entitlements, JSON
def test_json_entitlements_cite_sources(json_output, source_texts):
    entitlements = json_output["entitlements"]
    assert entitlements, "no entitlements"
    for e in entitlements:
        source = e["source"]
        assert source["file"] in source_texts, f"{e['measure']}: unknown source file {source['file']!r}"
        assert source["section"].strip(), f"{e['measure']}: empty section"
        assert source["quote"].strip(), f"{e['measure']}: empty quote"
        assert squeeze(source["quote"]) in source_texts[source["file"]], f"{e['measure']}: quote not in {source['file']}"
        for amount in e["amounts"]:
            assert amount["unit"], f"{e['measure']}: amount {amount['parameter']} has no unit"


def test_json_amounts_cite_their_own_sentence(json_output):
    entitlement = next(e for e in json_output["entitlements"] if e["measure"] == "health.premium_subsidy")
    amount = entitlement["amounts"][0]
    assert amount["value"] == 100 and amount["ref"]["source"] == "boluo_2022", amount
    assert amount["ref"]["quote"] == "落实全额资助监测对象参加城乡居民基本医疗保险政策"
    assert amount["expired"] == ["boluo_2022"]
    grant = next(e for e in json_output["entitlements"] if e["measure"] == "edu.student_grant")
    assert grant["amounts"][0]["date_text"] == "2024年春季起"


def test_json_mandatory_first_and_amounts(json_output):
    ranks = [{True: 0, None: 1, False: 2}[e["mandatory"]] for e in json_output["entitlements"]]
    assert ranks == sorted(ranks), "★ entitlements first, then the county's own, then ●"
    grants = {(e["member_label"], a["parameter"]): a["value"] for e in json_output["entitlements"] for a in e["amounts"]}
    assert grants[("张小明", "edu.grant.junior_boarding")] == 750
    assert grants[("张小红", "edu.grant.secondary_vocational")] == 1000
    assert grants[("张三", "employment.transport.out_of_province")] == 400
    assert json_output["region"] == "boluo" and json_output["date"] == DATE


@pytest.mark.parametrize("alias", ["boluo", "博罗", "广东省惠州市博罗县"])
def test_region_by_id_alias_and_name_agree(json_output, alias):
    proc = bot("entitlements", EXAMPLE, "--region", alias, "--date", DATE, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == json_output


def test_unknown_region_is_an_error():
    proc = bot("entitlements", EXAMPLE, "--region", "火星县", "--date", DATE)
    assert proc.returncode != 0
    assert "火星县" in proc.stdout + proc.stderr
