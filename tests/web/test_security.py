"""What the console refuses: each refusal changes nothing, logs one WARNING line and is counted
in /metrics as console_refused_total{reason}."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.web.conftest import CSRF, Site, browser, open_application, overdue_audit, signed_in


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "channels.web.app"]


async def login_with(staff, link: str):
    return await staff.login(link)


def test_a_login_link_works_once(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    link = site.link("cadre")

    async def scenario() -> None:
        async with browser(site) as first:
            assert (await first.login(link)).status == 303
        caplog.clear()
        async with browser(site) as second:
            response = await second.login(link)
            assert response.status == 403 and "已经用过" in await response.text()
            assert (await second.client.get("/console/todo", allow_redirects=False)).status == 303
            metrics = await (await second.client.get("/metrics")).text()
            assert 'fanpin_console_refused_total{channel="web",reason="login_used"} 1' in metrics

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert len(warnings_of(caplog)) == 1 and "login_used" in warnings_of(caplog)[0]


def test_an_expired_link_opens_nothing(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    link = site.link("cadre")
    site.world.clock.advance(601)

    async def scenario() -> None:
        async with browser(site) as staff:
            response = await staff.login(link)
            assert response.status == 403 and "已过期" in await response.text()
            assert (await staff.client.get("/console/todo", allow_redirects=False)).status == 303

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert site.refused("login_invalid") == 1 and len(warnings_of(caplog)) == 1


def test_an_unknown_token_opens_nothing(site: Site) -> None:
    async def scenario() -> None:
        async with browser(site) as staff:
            page = await (await staff.client.get("/console/login?t=forged")).text()
            response = await staff.client.post("/console/login", data={"t": "forged", "csrf": CSRF.search(page).group(1)})
            assert response.status == 403

    asyncio.run(scenario())
    assert site.refused("login_invalid") == 1


@pytest.mark.parametrize("csrf", ["", "wrong-token"])
def test_a_step_without_the_right_csrf_token_is_refused(site: Site, caplog: pytest.LogCaptureFixture, csrf: str) -> None:
    number = site.submit("a1")

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            ref = await open_application(staff, site, number)
            caplog.clear()
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "走访", "note": "x"}, csrf=csrf)
            assert status == 403 and "安全校验失败" in page

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert site.store.get_application(number).state == "submitted"
    assert len(site.store.events(number)) == 1
    assert site.refused("csrf") == 1 and len(warnings_of(caplog)) == 1


def test_login_form_without_csrf_is_refused(site: Site) -> None:
    link = site.link("cadre")

    async def scenario() -> None:
        async with browser(site) as staff:
            response = await staff.client.post("/console/login", data={"t": link.split("t=")[1]})
            assert response.status == 403

    asyncio.run(scenario())
    assert site.refused("csrf") == 1
    assert site.store.kv_get("console:login:" + __import__("hashlib").sha256(link.split("t=")[1].encode()).hexdigest())  # still usable


def test_another_countys_township_gets_404_by_url(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    number = overdue_audit(site)

    async def scenario() -> None:
        async with signed_in(site, "boluo_township") as staff:
            ref = site.console.ref(number)
            missing = site.console.ref("SQ2026-999999")
            caplog.clear()
            status, page = await staff.get(f"/console/a/{ref}")
            status_missing, page_missing = await staff.get(f"/console/a/{missing}")
            assert status == status_missing == 404 and page == page_missing
            await staff.get("/console/todo")
            status, _ = await staff.post(f"/console/a/{ref}/step", {"step": "审核", "note": "x"})
            assert status == 404
            status, _ = await staff.get("/console/a/not-a-ref")
            assert status == 404

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert site.store.get_application(number).state == "township_audit"
    assert site.refused("not_found") == 4 and len(warnings_of(caplog)) == 4


def test_a_cadre_posting_the_townships_step_is_refused(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    number = overdue_audit(site)
    events = len(site.store.events(number))

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            ref = site.console.ref(number)
            status, page = await staff.get(f"/console/a/{ref}")
            assert status == 200 and "乡镇核查完成" not in page  # no form for it
            caplog.clear()
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "审核", "note": "我来审"})
            assert status == 403 and "不由您的角色办理" in page
            status, _ = await staff.post(f"/console/a/{ref}/step", {"step": "纳入", "note": ""})  # not even this state's
            assert status == 403

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert site.store.get_application(number).state == "township_audit"
    assert len(site.store.events(number)) == events
    assert site.refused("not_your_step") == 2 and len(warnings_of(caplog)) == 2


def test_staff_cannot_take_a_step_on_their_own_application(site: Site) -> None:
    number = site.submit("own", owner="cadre")

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            ref = site.console.ref(number)
            status, page = await staff.get(f"/console/a/{ref}")
            assert "需回避" in page
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "走访", "note": "x"})
            assert status == 403 and "回避" in page

    asyncio.run(scenario())
    assert site.store.get_application(number).state == "submitted"
    assert site.refused("conflict_of_interest") == 1


def test_refs_are_opaque_and_not_sequential(site: Site) -> None:
    refs = [site.console.ref(f"SQ2026-{n:06d}") for n in (1, 2, 3)]
    assert len(set(refs)) == 3 and not any("SQ" in r or "00000" in r for r in refs)
    assert site.console.number_of(refs[1]) == "SQ2026-000002"
    for i in range(len(refs[1])):
        tampered = refs[1][:i] + ("A" if refs[1][i] != "A" else "B") + refs[1][i + 1:]
        assert site.console.number_of(tampered) is None


def test_a_villager_cannot_sign_in_even_with_a_link_record(site: Site) -> None:
    from conversation.skills.staff_login import issue_login_link

    assert issue_login_link(site.store, site.actor("villager"), site.world.clock.now()) is None
