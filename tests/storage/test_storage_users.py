"""Roles, one-time invites, consent and profiles, deleting personal data."""

from __future__ import annotations

import pytest

import tests.storage.storage_workers as workers
from storage.sqlstore import SqlStore


def test_roles(store: SqlStore) -> None:
    assert store.get_user("wechat", "c1") is None
    cadre = store.set_role("wechat", "c1", "cadre", region="河清乡", villages=["河清村", "新田村"], display_name="李书记")
    assert (cadre.role, cadre.region, cadre.villages, cadre.display_name) == ("cadre", "河清乡", ["河清村", "新田村"], "李书记")
    store.set_role("wechat", "t1", "township", region="河清乡")
    store.set_role("telegram", "v1", "villager")
    promoted = store.set_role("wechat", "c1", "township", region="河清乡")
    assert promoted.display_name == "李书记" and promoted.created_at == cadre.created_at
    assert [u.user for u in store.list_users(role="township")] == ["c1", "t1"]
    assert [u.user for u in store.list_users(region="河清乡")] == ["c1", "t1"]
    assert len(store.list_users()) == 3
    assert store.revoke_role("wechat", "c1")
    assert not store.revoke_role("wechat", "c1")
    revoked = store.get_user("wechat", "c1")
    assert revoked is not None and (revoked.role, revoked.villages) == ("villager", [])
    with pytest.raises(ValueError):
        store.set_role("wechat", "c1", "king")


def test_invite_grants_its_role_once(store: SqlStore, clock) -> None:
    invite = store.create_invite("cadre", ["河清村"], "河清乡", "K7Q2")
    assert invite is not None and invite.redeemed_by is None
    assert store.create_invite("county", [], None, "K7Q2") is None
    redeemed = store.redeem_invite("K7Q2", "wechat", "c9")
    assert redeemed is not None and redeemed.redeemed_by == ("wechat", "c9")
    user = store.get_user("wechat", "c9")
    assert user is not None and (user.role, user.region, user.villages) == ("cadre", "河清乡", ["河清村"])
    assert store.redeem_invite("K7Q2", "wechat", "someone-else") is None
    assert store.redeem_invite("NOPE", "wechat", "c9") is None
    store.create_invite("township", [], "河清乡", "LATE", expires_at=clock.now + 60)
    clock.advance(61)
    assert store.redeem_invite("LATE", "wechat", "c9") is None


def test_invite_redeemed_once_under_a_race(store_url: str, store: SqlStore) -> None:
    codes = [f"CODE{i}" for i in range(100)]
    for code in codes:
        store.create_invite("cadre", ["新田村"], "河清乡", code)
    first, second = workers.race(store_url, workers.redeem_codes, codes)
    assert sorted(first + second) == sorted(codes)
    assert not set(first) & set(second)
    winners = {f"cadre{index}" for index, won in enumerate((first, second)) if won}
    assert {user.user for user in store.list_users(role="cadre")} == winners


def test_consent_and_profile(store: SqlStore) -> None:
    assert store.get_consent("wechat", "u1") is None
    store.set_consent("wechat", "u1", True)
    assert store.get_consent("wechat", "u1") is True
    store.set_consent("wechat", "u1", False)
    assert store.get_consent("wechat", "u1") is False
    assert store.load_profile("wechat", "u1") is None
    store.save_profile("wechat", "u1", {"village": "河清村", "household_size": 4})
    assert store.load_profile("wechat", "u1") == {"village": "河清村", "household_size": 4}


def test_delete_personal_data_keeps_workflow_and_audit(store: SqlStore) -> None:
    who = ("wechat", "u1")
    store.save_session(*who, {"dialog": "apply"})
    store.set_consent(*who, True)
    store.save_profile(*who, {"phone": "13800000000"})
    store.upsert_subscription(*who, ["deadline"])
    store.schedule_reminder(*who, "deadline", {"number": "x"}, due_at=0)
    store.set_role(*who, "villager", display_name="王五")
    data = {"name": "王五", "phone": "13800000000", "id_number": "530000199001011234", "income": 6500}
    app, _ = store.submit_application("idem-1", data, channel="wechat", user="u1", village="河清村")
    store.transition(app.number, "submitted", "reviewing", "wechat:c1", "入户核实")
    other, _ = store.submit_application("idem-2", {"name": "赵六"}, channel="wechat", user="u2")

    assert store.delete_personal_data(*who) == 1

    assert store.load_session(*who) is None
    assert store.get_consent(*who) is None
    assert store.load_profile(*who) is None
    assert store.get_subscription(*who) is None
    assert store.claim_due(10**10, 10, "w") == []
    user = store.get_user(*who)
    assert user is not None and user.display_name is None
    kept = store.get_application(app.number)
    assert kept is not None and kept.state == "reviewing" and kept.village == "河清村"
    assert kept.data == {"name": None, "phone": None, "id_number": None, "income": 6500}
    assert [e.to_state for e in store.events(app.number)] == ["submitted", "reviewing", "reviewing"]
    assert store.get_application(other.number).data == {"name": "赵六"}
