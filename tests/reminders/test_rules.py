"""Reminder rules against sample households and dates: what the real scheduler plans for a subscriber."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from foundation.clock import at
from policy_kb.loader import default_kb
from reminders.rules import load_rules
from reminders.scheduler import Scheduler
from storage.open import open_store
from tests.kit.world import RecordingPusher

ALL_TOPICS = list(dict.fromkeys(r.topic for r in load_rules()))
PUPIL = {"relation": "子女", "age": 14, "school_stage": "初中"}
HYPERTENSION = {"relation": "户主", "age": 60, "chronic_diseases": ["高血压"]}


def disabled(grade: str) -> dict[str, Any]:
    return {"relation": "户主", "age": 50, "disability": grade, "disability_certificate": True}


CASES = {
    "pupil at the autumn term": ({"members": [PUPIL]}, "villager", dt.date(2026, 9, 1), {"edu_term", "insurance_season"}),
    "pupil, three weeks later (still fresh)": ({"members": [PUPIL]}, "villager", dt.date(2026, 9, 22), {"edu_term", "insurance_season"}),
    "no pupil at the autumn term": ({"members": [{"relation": "户主", "age": 40}]}, "villager", dt.date(2026, 9, 1), {"insurance_season"}),
    "no household saved": (None, "villager", dt.date(2026, 9, 1), {"insurance_season"}),
    "chronic disease in April": ({"members": [HYPERTENSION]}, "villager", dt.date(2026, 4, 10), {"chronic_checkup", "chronic_followup"}),
    "chronic disease in October": ({"members": [HYPERTENSION]}, "villager", dt.date(2026, 10, 12), {"chronic_followup", "insurance_season"}),
    "monitored household in January": ({"monitored": True, "members": []}, "villager", dt.date(2027, 1, 5), {"family_doctor", "insurance_season"}),
    "grade 2 disability certificate": ({"dibao": False, "members": [disabled("二级")]}, "villager", dt.date(2026, 11, 10), {"disability_subsidy"}),
    "grade 4 certificate, not 低保": ({"dibao": False, "members": [disabled("四级")]}, "villager", dt.date(2026, 11, 10), set()),
    "grade 4 certificate in a 低保 household": ({"dibao": True, "members": [disabled("四级")]}, "villager", dt.date(2026, 11, 10), {"disability_subsidy"}),
    "unknown whether 低保": ({"members": [disabled("四级")]}, "villager", dt.date(2026, 11, 10), set()),
    "cadre on the 3rd": (None, "cadre", dt.date(2026, 12, 3), {"monthly_report"}),
    "cadre on the 6th (report reminder stale)": (None, "cadre", dt.date(2026, 12, 6), set()),
    "county reviewer on the 3rd": (None, "county", dt.date(2026, 12, 3), set()),
}


def planned(url: str, household: dict | None, role: str, day: dt.date, topics: list[str] = ALL_TOPICS) -> set[str]:
    now = at(day, 10)
    with open_store(url) as store:
        store.set_role("wechat", "u1", role, region="heqing", villages=["金墩村"] if role == "cadre" else [])
        store.upsert_subscription("wechat", "u1", topics)
        if household is not None:
            store.save_profile("wechat", "u1", {"household": household})
        Scheduler(store, default_kb(), RecordingPusher(), plan_every=0).plan(now)
        return {r.payload["rule"] for r in store.claim_due(now + 1, 100, "test")}


@pytest.mark.parametrize("household, role, day, rules", CASES.values(), ids=CASES.keys())
def test_rules_for_sample_households(store_url: str, household: dict | None, role: str, day: dt.date, rules: set[str]) -> None:
    assert planned(store_url, household, role, day) == rules


def test_only_subscribed_topics(store_url: str) -> None:
    assert planned(store_url, {"members": [PUPIL]}, "villager", dt.date(2026, 9, 1), topics=["教育"]) == {"edu_term"}


def test_planning_twice_queues_nothing_twice(store_url: str) -> None:
    now = at(dt.date(2026, 9, 1), 10)
    with open_store(store_url) as store:
        store.set_role("wechat", "u1", "villager")
        store.upsert_subscription("wechat", "u1", ALL_TOPICS)
        store.save_profile("wechat", "u1", {"household": {"members": [PUPIL]}})
        scheduler = Scheduler(store, default_kb(), RecordingPusher(), plan_every=0)
        assert scheduler.plan(now) == 2
        assert scheduler.plan(now) == 0
        assert scheduler.plan(now + 7 * 86400) == 0
        assert len(store.claim_due(now + 8 * 86400, 100, "test")) == 2
