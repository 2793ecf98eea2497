"""The web console over a real store and the real assistant: people (World), seeded applications,
and a logged-in aiohttp test client per staff member.

`Site` is the whole set-up; `Staff` is one signed-in browser-like client (cookies, CSRF token).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from channels.metrics import Metrics
from channels.server import build_app
from channels.web.app import Console
from conversation.skills.staff_login import issue_login_link
from foundation.clock import at
from tests.kit.world import World
from workflow.access import actor_of

MONDAY = dt.date(2026, 11, 23)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
APP_LINK = re.compile(r'href="/console/a/([A-Za-z0-9_-]+)">(SQ\d{4}-\d+)<')


class Site:
    """Villager, cadre (金墩村), township and county of 鹤庆, a township of 博罗, on one store."""

    def __init__(self, url: str) -> None:
        self.world = World(url, day=MONDAY)
        self.store = self.world.store
        self.metrics = Metrics()
        self.console = Console(self.world.assistant, self.store, self.metrics, clock=self.world.clock, public_url="http://127.0.0.1/console/")
        self.desk = self.console.desk
        self.accounts: dict[str, tuple[str, str]] = {}
        for name, role, region, villages in (("cadre", "cadre", "heqing", ["金墩村"]), ("other_cadre", "cadre", "heqing", ["上村"]),
                                             ("township", "township", "heqing", []), ("county", "county", "heqing", []),
                                             ("boluo_township", "township", "boluo", [])):
            channel, user = self.world.person(name)
            self.store.set_role(channel, user, role, region=region, villages=villages)
            self.accounts[name] = (channel, user)
        self.accounts["villager"] = self.world.person("villager")

    def actor(self, name: str):
        return actor_of(self.store, *self.accounts[name])

    def submit(self, key: str, name: str = "张三", village: str = "金墩村", region: str = "heqing", risk: str = "因病",
               owner: str = "villager") -> str:
        data = {"name": name, "phone": "13812345678", "id_number": "530123199001011234", "village": village, "size": 4, "income": 20000,
                "income_per_head": 5000, "risk": risk, "risk_detail": "老伴住院花了3万元，电话13812345678"}
        app, _ = self.desk.submit(key, data, self.accounts.get(owner) or (owner, key), village, region, None)
        return app.number

    def move(self, number: str, *words: str, who: str = "cadre") -> None:
        for word in words:
            app = self.store.get_application(number)
            self.desk.take(self.actor(who), app, self.desk.workflow.by_word(word), "ok", self.world.today)

    def link(self, name: str) -> str:
        link = issue_login_link(self.store, self.actor(name), self.world.clock.now(), "http://127.0.0.1/console/")
        assert link is not None
        return link

    def refused(self, reason: str | None = None) -> int:
        return self.metrics.count("console_refused", "web", reason)


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    made = Site(f"sqlite:///{tmp_path / 'store.db'}")
    yield made
    made.world.close()


class Staff:
    """One browser: an aiohttp test client with its cookies."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    async def login(self, link: str) -> web.StreamResponse:
        path = link.split("127.0.0.1", 1)[1]
        page = await self.client.get(path)
        text = await page.text()
        token = path.split("t=", 1)[1]
        return await self.client.post("/console/login", data={"t": token, "csrf": CSRF.search(text).group(1)}, allow_redirects=False)

    async def get(self, path: str) -> tuple[int, str]:
        response = await self.client.get(path)
        text = await response.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return response.status, text

    async def post(self, path: str, data: dict[str, Any], csrf: str | None = None) -> tuple[int, str]:
        response = await self.client.post(path, data={**data, "csrf": self.csrf if csrf is None else csrf})
        return response.status, await response.text()


@asynccontextmanager
async def browser(site: Site):
    app = build_app([site.console], site.metrics)
    async with TestClient(TestServer(app)) as client:
        yield Staff(client)


@asynccontextmanager
async def signed_in(site: Site, name: str):
    async with browser(site) as staff:
        response = await staff.login(site.link(name))
        assert response.status == 303, await response.text()
        yield staff


def overdue_audit(site: Site, key: str = "late", name: str = "李四") -> str:
    """An application submitted 22 days ago, visited the day after, now in 乡镇审核 whose 7 working days ran out."""
    site.world.clock.at = at(MONDAY - dt.timedelta(days=22), 10)
    number = site.submit(key, name=name)
    site.world.clock.at = at(MONDAY - dt.timedelta(days=21), 10)
    site.move(number, "走访", "评议", "上报")
    site.world.clock.at = at(MONDAY, 10)
    return number


async def open_application(staff, site: Site, number: str) -> str:
    """Opens the application's page as staff would (the page carries the step form's CSRF token)
    and returns its reference in URLs."""
    ref = site.console.ref(number)
    await staff.get(f"/console/a/{ref}")
    return ref
