"""The console's pages and actions through aiohttp's test client, over the real store and assistant."""

from __future__ import annotations

import asyncio
import re

from tests.web.conftest import APP_LINK, Site, browser, open_application, overdue_audit, signed_in


def test_chat_gives_staff_a_link_and_villagers_none(site: Site) -> None:
    reply = site.world.say("cadre", "后台登录")
    assert "10分钟内有效" in reply and "http://127.0.0.1:8080/console/login?t=" in reply
    assert "只对村干部" in site.world.say("villager", "后台登录")
    token = reply.split("t=", 1)[1].split()[0]
    assert token not in str(site.store.kv_get("console:secret"))  # only its hash is kept


def test_login_shows_todo_with_overdue_first_and_marked(site: Site) -> None:
    fresh = site.submit("a1", name="王五")
    site.move(fresh, "走访", "评议", "上报")
    late = overdue_audit(site)

    async def scenario() -> None:
        async with signed_in(site, "township") as staff:
            status, page = await staff.get("/console/todo")
            assert status == 200 and "待办" in page and "1条已超期" in page
            numbers = [n for _, n in APP_LINK.findall(page)]
            assert numbers == [late, fresh]
            assert page.index("超期") < page.index(fresh)
            assert "SQ2026" not in "".join(ref for ref, _ in APP_LINK.findall(page))  # opaque ids

    asyncio.run(scenario())


def test_todo_filters_and_pages(site: Site) -> None:
    for i in range(35):
        site.submit(f"k{i}", name=f"户{i}", risk="因学" if i % 5 == 0 else "因病")
    site.submit("up", village="上村")

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            _, page = await staff.get("/console/todo")
            assert "共35条" in page and "第1/2页" in page and len(APP_LINK.findall(page)) == 30
            _, page2 = await staff.get("/console/todo?page=2")
            assert len(APP_LINK.findall(page2)) == 5
            _, risky = await staff.get("/console/todo?risk=因学")
            assert "共7条" in risky
            _, stage = await staff.get("/console/todo?stage=visited")
            assert "没有待办" in stage
        async with signed_in(site, "township") as staff:
            _, page = await staff.get("/console/todo")
            assert "没有待办" in page  # all are still with the village
            site.move(site.submit("up2", village="上村"), "走访", "评议", "上报", who="other_cadre")
            _, page = await staff.get("/console/todo?village=上村")
            assert "共1条" in page

    asyncio.run(scenario())


def test_application_page_masks_numbers_shows_timeline_plan_and_my_steps(site: Site) -> None:
    number = site.submit("a1")

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            _, todo = await staff.get("/console/todo")
            ref = dict((n, r) for r, n in APP_LINK.findall(todo))[number]
            status, page = await staff.get(f"/console/a/{ref}")
            assert status == 200
            assert "13812345678" not in page and "138****5678" in page
            assert "530123199001011234" not in page
            assert "已提交" in page or "提交" in page  # the timeline's first event
            assert "帮扶计划" in page and "★" in page
            assert "走访排查完成" in page and "县级研判" not in page.split("下一步")[1].split("帮扶计划")[0]
            status, shown = await staff.post(f"/console/a/{ref}/reveal", {"reason": "电话联系申请人"})
            assert status == 200 and "13812345678" in shown
            assert any("查看完整号码：电话联系申请人" in e.note for e in site.store.events(number))

    asyncio.run(scenario())


def test_a_step_goes_through_the_desk_and_tells_the_applicant(site: Site) -> None:
    number = site.submit("a1")
    site.world.say("villager", "你好")

    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            ref = await open_application(staff, site, number)
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "走访", "note": "已入户核实，情况属实"})
            assert status == 200 and "已办理：走访排查完成" in page

    asyncio.run(scenario())
    app = site.store.get_application(number)
    assert app.state == "visited"
    assert site.store.events(number)[-1].actor == ":".join(site.accounts["cadre"])
    got = site.world.deliver()["villager"]
    assert any("走访排查完成" in text for text in got)
    assert "已走访排查" in site.world.say("villager", "我的申请到哪一步了")


def test_rejecting_needs_a_reason_and_the_applicant_reads_it(site: Site) -> None:
    number = site.submit("a1")
    site.move(number, "走访", "评议", "上报")
    site.move(number, "审核", who="township")

    async def scenario() -> None:
        async with signed_in(site, "county") as staff:
            ref = await open_application(staff, site, number)
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "不纳入", "note": " "})
            assert status == 400 and "不纳入的原因" in page
            assert site.store.get_application(number).state == "county_decision"
            status, page = await staff.post(f"/console/a/{ref}/step", {"step": "不纳入", "note": "人均收入高于监测标准"})
            assert status == 200

    asyncio.run(scenario())
    assert site.store.get_application(number).state == "not_monitored"
    assert "人均收入高于监测标准" in "\n".join(site.world.deliver()["villager"])


def test_logout_ends_the_session(site: Site) -> None:
    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            await staff.get("/console/todo")
            status, _ = await staff.post("/console/logout", {})
            assert status == 200  # followed to the login page
            response = await staff.client.get("/console/todo", allow_redirects=False)
            assert response.status == 303 and response.headers["Location"].endswith("/console/login")

    asyncio.run(scenario())


def test_idle_timeout_after_30_minutes(site: Site) -> None:
    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            site.world.clock.advance(29 * 60)
            assert (await staff.get("/console/todo"))[0] == 200
            site.world.clock.advance(29 * 60)  # 29 minutes after the last request: still in
            assert (await staff.get("/console/todo"))[0] == 200
            site.world.clock.advance(31 * 60)
            response = await staff.client.get("/console/todo", allow_redirects=False)
            assert response.status == 303

    asyncio.run(scenario())


def test_cookie_flags_and_security_headers(site: Site) -> None:
    async def scenario() -> None:
        async with browser(site) as staff:
            link = site.link("cadre")
            page = await staff.client.get(link.split("127.0.0.1", 1)[1])
            assert page.headers["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
            response = await staff.client.post("/console/login", data={"t": link.split("t=")[1], "csrf": csrf},
                                               headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie and "Path=/console/" in cookie

    asyncio.run(scenario())


def test_revoked_role_ends_the_session(site: Site) -> None:
    async def scenario() -> None:
        async with signed_in(site, "cadre") as staff:
            assert (await staff.get("/console/todo"))[0] == 200
            site.store.revoke_role(*site.accounts["cadre"])
            response = await staff.client.get("/console/todo", allow_redirects=False)
            assert response.status == 303
            site.store.set_role(*site.accounts["cadre"], "cadre", region="heqing", villages=["金墩村"])
            response = await staff.client.get("/console/todo", allow_redirects=False)
            assert response.status == 303  # the session is gone, not paused

    asyncio.run(scenario())
    assert site.refused("role_revoked") == 1


def test_mounted_beside_other_channels_and_metrics(site: Site) -> None:
    async def scenario() -> None:
        async with browser(site) as staff:
            health = await (await staff.client.get("/healthz")).json()
            assert "web" in health["channels"]
            css = await staff.client.get("/console/static/console.css")
            assert css.status == 200
            assert (await staff.client.get("/console/static/../app.py")).status == 404

    asyncio.run(scenario())


def test_admin_login_link_command(site: Site, capsys) -> None:
    from app.cli import main

    channel, user = site.accounts["county"]
    assert main(["admin", "login-link", channel, user, "--db", site.store.url]) == 0
    assert "/console/login?t=" in capsys.readouterr().out
    assert main(["admin", "login-link", *site.accounts["villager"], "--db", site.store.url]) == 1
    assert "不是工作人员" in capsys.readouterr().out
