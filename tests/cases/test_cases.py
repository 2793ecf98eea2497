"""Household cases: one YAML file each in this folder, run through the eligibility engine.

Case file format::

    name: 一句话说明
    date: 2024-03-01            # the policy date
    region: base                # region id or Chinese name
    household: {...}            # the household file format (eligibility/household.py)
    expect:                     # entitlements that must be there
      - measure: edu.student_grant
        member: 2               # member index; omit for household measures (or "any member")
        amounts: {edu.grant.junior_boarding: 750}   # optional; the EXACT set of amount lines
                                                      # ({} = the measure applies with no amount line)
        per_year: 1500          # optional; the entitlement's yearly total (null = none)
        warnings: [有效期, 过期]  # optional; each word must occur in a warning ([] = no warning)
    absent:                     # measures that must be decided NOT to apply (not even undecided)
      - measure: edu.dropout_return
        member: 0               # omit: for no member and not for the household
    undecided:                  # optional: measures that cannot be decided yet
      - measure: edu.dropout_return
        member: 1
        missing: [member.age]   # facts that must be among the deciding ones
    deciding_facts: [household.monitored]   # optional: facts the result must still ask for
    seed:                       # the sentences the case is about: each must be in that source text
      - {file: 000_7c66807453e9ec61.txt, quote: （特困人员除外）}

An expect item may also say:
        sources: {health.premium_subsidy.monitored: boluo_2022}   # the document each amount cites
        date_text: {edu.grant.junior_boarding: 2024年春季起}        # the date words each amount carries
        notes: {edu.grant.secondary_vocational: 第三年}             # a word of the note under an amount
        no_notes: true                                               # no amount carries a note
        reasons: [member.age]     # facts the reason must name; no_reasons: facts it must not name
        mark: none                # ★ / ● / none (a county's or township's own measure)
and an undecided item `judged_by: [乡镇民政部门]`.

Every expected amount is written from the seed texts (policy_kb/sources), not from the YAML.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eligibility.engine import Engine, Entitlement, Result, Undecided  # noqa: E402
from eligibility.household import parse_household  # noqa: E402
from policy_kb.loader import load_kb, squeeze  # noqa: E402

CASES_DIR = Path(__file__).parent
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
CASE_KEYS = {"name", "date", "region", "household", "expect", "absent", "undecided", "deciding_facts", "seed"}
EXPECT_KEYS = {"measure", "member", "amounts", "per_year", "warnings", "sources", "date_text", "notes", "no_notes", "reasons",
               "no_reasons", "mark"}
UNDECIDED_KEYS = {"measure", "member", "missing", "judged_by"}
SOURCES_DIR = ROOT / "policy_kb" / "sources"


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.fixture(scope="module")
def engine(kb):
    return Engine(kb)


def load_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    for key in ("name", "date", "region", "household"):
        assert key in case, f"{path.name}: missing {key!r}"
    assert isinstance(case["date"], dt.date), f"{path.name}: date must be YYYY-MM-DD"
    for item in case.get("expect") or []:
        assert set(item) <= EXPECT_KEYS, f"{path.name}: unknown keys in expect item {item}"
    for item in case.get("undecided") or []:
        assert set(item) <= UNDECIDED_KEYS, f"{path.name}: unknown keys in undecided item {item}"
    return case


def run_case(engine: Engine, path: Path) -> tuple[dict[str, Any], Result, list[str]]:
    case = load_case(path)
    household = parse_household(case["household"], str(path))
    result = engine.evaluate(household, case["region"], case["date"])
    labels = [household.member_label(i) for i in range(len(household.members or []))]
    return case, result, labels


def _who(member: int | None, labels: list[str]) -> str:
    if member is None:
        return "household"
    return f"member {member} ({labels[member]})" if member < len(labels) else f"member {member}"


def _matches(item_member: Any, has_member: bool, member: int | None) -> bool:
    return not has_member or member == item_member


def _describe(result: Result, measure_id: str, labels: list[str]) -> str:
    """What the result says about one measure, for failure messages."""
    lines = []
    for e in result.entitlements:
        if e.measure.id == measure_id:
            amounts = {a.parameter: a.value for a in e.amounts}
            lines.append(f"  entitled: {_who(e.member, labels)} amounts={amounts} per_year={e.per_year} warnings={list(e.warnings)}")
    for u in result.undecided:
        if u.measure.id == measure_id:
            lines.append(f"  undecided: {_who(u.member, labels)} missing={u.missing}")
    return "\n".join(lines) or "  (neither entitled nor undecided)"


def _check_expect(item: dict, result: Result, labels: list[str], problems: list[str]) -> None:
    mid = item["measure"]
    has_member = "member" in item
    found: list[Entitlement] = [e for e in result.entitlements if e.measure.id == mid and _matches(item.get("member"), has_member, e.member)]
    where = f"{mid} for {_who(item.get('member'), labels) if has_member else 'anyone'}"
    if not found:
        problems.append(f"expected {where}, but it is not in the entitlements:\n{_describe(result, mid, labels)}")
        return
    e = found[0]
    if "amounts" in item:
        want = {k: float(v) for k, v in (item["amounts"] or {}).items()}
        got = {a.parameter: a.value for a in e.amounts}
        if got != want:
            problems.append(f"{where}: amounts {got}, expected (from the seed text) {want}")
    if "per_year" in item:
        want_year = item["per_year"]
        if (want_year is None) != (e.per_year is None) or (want_year is not None and abs(e.per_year - want_year) > 1e-6):
            problems.append(f"{where}: per_year {e.per_year}, expected {want_year}")
    by_param = {a.parameter: a for a in e.amounts}
    for param, source in (item.get("sources") or {}).items():
        got_ref = by_param[param].ref if param in by_param else None
        if got_ref is None or got_ref.source != source:
            problems.append(f"{where}: amount {param} cites {got_ref.source if got_ref else None}, expected {source}")
    for param, words in (item.get("date_text") or {}).items():
        got_text = by_param[param].date_text if param in by_param else None
        if got_text != words:
            problems.append(f"{where}: amount {param} is dated {got_text!r}, expected {words!r}")
    for param, word in (item.get("notes") or {}).items():
        if param not in by_param or word not in by_param[param].note:
            problems.append(f"{where}: amount {param} has no note with {word!r}")
    if item.get("no_notes") and any(a.note for a in e.amounts):
        problems.append(f"{where}: expected no note under its amounts, got {[a.note for a in e.amounts]}")
    reasons = {path for _, path in e.reasons}
    for path in item.get("reasons") or []:
        if path not in reasons:
            problems.append(f"{where}: the reason names {sorted(reasons)}, not {path}")
    for path in item.get("no_reasons") or []:
        if path in reasons:
            problems.append(f"{where}: the reason must not name {path} ({e.why})")
    if "mark" in item:
        want_mark = "" if item["mark"] == "none" else item["mark"]
        if e.measure.mark != want_mark:
            problems.append(f"{where}: marked {e.measure.mark!r}, expected {want_mark!r}")
    if "warnings" in item:
        words = item["warnings"] or []
        text = " ".join(e.warnings)
        if not words and e.warnings:
            problems.append(f"{where}: expected no warning, got {list(e.warnings)}")
        for word in words:
            if word not in text:
                problems.append(f"{where}: expected a warning mentioning {word!r}, got {list(e.warnings)}")


def _check_absent(item: dict, result: Result, labels: list[str], problems: list[str]) -> None:
    mid = item["measure"]
    has_member = "member" in item
    entitled = [e for e in result.entitlements if e.measure.id == mid and _matches(item.get("member"), has_member, e.member)]
    undecided = [u for u in result.undecided if u.measure.id == mid and _matches(item.get("member"), has_member, u.member)]
    where = f"{mid} for {_who(item.get('member'), labels) if has_member else 'anyone'}"
    if entitled or undecided:
        problems.append(f"{where} must not apply (and must be decided), but:\n{_describe(result, mid, labels)}")


def _check_undecided(item: dict, result: Result, labels: list[str], problems: list[str]) -> None:
    mid = item["measure"]
    has_member = "member" in item
    found: list[Undecided] = [u for u in result.undecided if u.measure.id == mid and _matches(item.get("member"), has_member, u.member)]
    where = f"{mid} for {_who(item.get('member'), labels) if has_member else 'anyone'}"
    if not found:
        problems.append(f"expected {where} to be undecided:\n{_describe(result, mid, labels)}")
        return
    facts = {fact for u in found for _, fact in u.missing}
    for fact in item.get("missing") or []:
        if fact not in facts:
            problems.append(f"{where}: undecided, but the deciding facts {sorted(facts)} do not name {fact}")
    offices = {office for u in found for office in u.judged_by}
    for office in item.get("judged_by") or []:
        if office not in offices:
            problems.append(f"{where}: undecided, but not left to {office} (judged_by {sorted(offices)})")


def _check_deciding(wanted: list, result: Result, problems: list[str]) -> None:
    have = result.deciding_facts
    for item in wanted:
        if isinstance(item, dict):
            ok = (item.get("member"), item["fact"]) in have
        else:
            ok = any(fact == item for _, fact in have)
        if not ok:
            problems.append(f"deciding_facts {have} do not name {item}")


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(engine, path):
    case, result, labels = run_case(engine, path)
    problems: list[str] = []
    for item in case.get("expect") or []:
        _check_expect(item, result, labels, problems)
    for item in case.get("absent") or []:
        _check_absent(item, result, labels, problems)
    for item in case.get("undecided") or []:
        _check_undecided(item, result, labels, problems)
    _check_deciding(case.get("deciding_facts") or [], result, problems)
    for seed in case.get("seed") or []:
        text = squeeze((SOURCES_DIR / seed["file"]).read_text(encoding="utf-8"))
        if squeeze(seed["quote"]) not in text:
            problems.append(f"seed sentence not in {seed['file']}: {seed['quote']}")
    if problems:
        pytest.fail(f"{path.name} — {case['name']} ({result.region.id}, {case['date']}):\n- " + "\n- ".join(problems), pytrace=False)


def test_enough_cases():
    assert len(CASE_FILES) >= 45, f"only {len(CASE_FILES)} case files"


def test_every_measure_is_covered(kb):
    """Every measure of every region appears in some case as applying, and every ★ measure also
    in some case (of a region where it exists) as not applying."""
    positive: set[str] = set()
    negative: set[str] = set()
    for path in CASE_FILES:
        case = load_case(path)
        view = kb.view(case["region"])
        present = {m.id for m in view.measures}
        positive |= {item["measure"] for item in case.get("expect") or [] if item["measure"] in present}
        # a measure that rests on a figure no text publishes (岳阳's 老年人 age) can only ever be undecided
        positive |= {item["measure"] for item in case.get("undecided") or []
                     if item["measure"] in present and any(str(f).startswith("param:") for f in item.get("missing") or [])}
        negative |= {item["measure"] for item in case.get("absent") or [] if item["measure"] in present}
    measures = kb.all_measures()
    no_positive = sorted(m.id for m in measures if m.id not in positive)
    no_negative = sorted(m.id for m in measures if m.mandatory and m.id not in negative)
    assert not no_positive, f"measures with no case where they apply: {no_positive}"
    assert not no_negative, f"★ measures with no case where they do not apply: {no_negative}"


def test_case_measures_exist(kb):
    """A case that names a measure id nobody has is a typo."""
    known = {m.id for m in kb.all_measures()}
    bad = []
    for path in CASE_FILES:
        case = load_case(path)
        for key in ("expect", "absent", "undecided"):
            bad += [f"{path.name}: {item['measure']}" for item in case.get(key) or [] if item["measure"] not in known]
    assert not bad, f"unknown measure ids in cases: {bad}"


def test_reasons_name_only_given_facts(engine):
    """No defaulted fact behind a granted line: every fact a reason names was given (stated, answered)
    or follows from given ones, in every case of this folder."""
    bad = []
    for path in CASE_FILES:
        _case, result, _labels = run_case(engine, path)
        household = result.household
        for e in result.entitlements:
            for member, fact in e.reasons:
                name = fact.split(".", 1)[1]
                if not household.given(member, name):
                    bad.append(f"{path.name}: {e.measure.id} gives the reason {fact} for {member}, which nobody stated ({e.why})")
    assert not bad, "\n".join(bad)
