"""Household descriptions (descriptions.yaml): who is in the family, with what, as the household
check reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eligibility.engine import Engine
from policy_kb.loader import default_kb
from understanding.household_parse import parse_description
from understanding.router import Understander

CASES = yaml.safe_load((Path(__file__).parent / "descriptions.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def understander() -> Understander:
    kb = default_kb()
    return Understander(kb, Engine(kb))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_description(understander: Understander, case: dict) -> None:
    described = parse_description(understander.canonical(case["text"]), understander.region_names, understander.homes)
    if "members" in case:
        got = [{k: m.get(k) for k in want} for m, want in zip(described.members, case["members"], strict=False)]
        assert len(described.members) == len(case["members"]) and got == case["members"], described.members
    for fact in case.get("absent", []):
        assert all(fact not in m for m in described.members), described.members
    for key, value in case.get("household", {}).items():
        assert described.household.get(key) == value, described.household
    if "size" in case:
        assert described.size == case["size"]
