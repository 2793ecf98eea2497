"""The staff web console (/console/): server-rendered Chinese HTML over aiohttp + Jinja2.

`Console` is an `Adapter` (channel "web"), so `bot.py web` serves it alone and `bot.py wechat` /
`telegram` mount it beside their webhooks on the one server (channels/server.py). Pages are plain
modules in this package; this file lists them explicitly (no registry filled by importing).

How a page module plugs in (report_page.py, stats_page.py, policy_page.py, …)
------------------------------------------------------------------------------
* The module defines ``routes(console: Console) -> list[web.RouteDef]`` and optionally
  ``NAV: list[tuple[str, str]]`` = [(path below the prefix, menu label)], e.g. [("report", "月报")].
  Paths are absolute: build them with ``console.url("report")`` -> "/console/report".
  `Console.routes()` below imports the module and adds its routes and its NAV entries when the
  file exists (``_PAGE_MODULES``); nothing else to register.
* The current user: ``actor = await console.staff(request)`` -> `workflow.access.Actor`. It
  checks the session cookie and the idle timeout and re-reads the role from the store on every
  request; without a valid session it raises a redirect to the login page, for a user who is no
  longer staff it ends the session. Call it first in every handler. Scope is
  `workflow.access.in_scope(actor, app)` / `scoped_applications(...)`: never re-implement it.
* Rendering: ``return console.render(request, "report.html", {"rows": ...})``. A template
  ``{% extends "base.html" %}`` and fills ``{% block title %}`` and ``{% block content %}``.
  Templates live in channels/web/templates/ (name yours after your module: report.html …);
  the context always has ``actor``, ``nav``, ``url`` (= console.url), ``csrf_field()`` and
  ``static(name)``. Autoescape is on. CSS: channels/web/static/console.css (classes: table.list,
  .overdue, .pill, form.inline, .muted, .error, .pager) — add rules at the end if needed.
* Forms: put ``{{ csrf_field() }}`` in every <form method="post">. In the POST handler read the
  body with ``form = await console.form(request)``: it checks the CSRF token (refused -> 403,
  logged and counted) and returns the MultiDict. GET handlers must not change anything.
* Refusals: ``raise console.refuse(request, "reason", status)`` logs one WARNING line, counts
  console_refused_total{reason=…} in /metrics and returns the HTTP error to raise (404 for
  anything outside scope, the same as a missing one).
* Applications in URLs: ``console.ref(number)`` gives the opaque id, ``console.number_of(ref)``
  reads it back (None for a bad one); link an application as ``console.url("a/" + ref)``.
* Services: ``console.store``, ``console.desk`` (workflow.desk.Desk), ``console.kb``,
  ``console.clock``, ``console.today()`` (Asia/Shanghai date). The store is synchronous; a slow
  query may go through ``await console.run(fn, *args)`` (a worker thread).
* Downloads (XLSX): return a plain ``web.Response(body=..., content_type=...,
  headers={"Content-Disposition": ...})`` after ``await console.staff(request)``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from channels.base import Adapter, Core
from channels.metrics import Metrics
from channels.web.auth import IDLE, PRE_COOKIE, SESSION_COOKIE, Auth, Refs, Session, same
from conversation.messages import ChannelLimits, Reply
from conversation.skills.staff_login import base_url
from foundation.clock import Clock, local
from workflow.access import Actor, actor_of
from workflow.desk import Desk

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PREFIX = "/console/"
SESSION = web.RequestKey("console_session", Session)
ACTOR = web.RequestKey("console_actor", Actor)
PRE = web.RequestKey("console_pre", str)
# Page modules of this package, in menu order: each has routes(console) and optionally NAV.
_PAGE_MODULES = ("todo_page", "application_page", "report_page", "stats_page", "policy_page")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the login link's token never leaves in a Referer
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class Console(Adapter):
    """The web console as a channel of the shared server (it pushes nothing)."""

    channel = "web"
    limits = ChannelLimits(max_chars=100_000)

    def __init__(self, core: Core, store: Any, metrics: Metrics | None = None, desk: Desk | None = None,
                 clock: Clock | None = None, prefix: str = PREFIX, public_url: str | None = None) -> None:
        super().__init__(core, metrics)
        services = getattr(core, "services", None)
        self.desk: Desk = desk or services.desk  # type: ignore[union-attr]
        self.store = store
        self.kb = self.desk.kb
        self.clock = clock or self.desk.clock
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.public_url = public_url or base_url()
        self.auth = Auth(store, self.clock)
        self._refs: Refs | None = None
        self.nav: list[tuple[str, str]] = []
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(url=self.url, static=self.static)

    # -- what page modules use -------------------------------------------------------------------
    def url(self, path: str = "") -> str:
        return self.prefix + path.lstrip("/")

    def static(self, name: str) -> str:
        return self.url("static/" + name)

    def today(self):
        return local(self.clock.now()).date() if self.clock.fixed_today is None else self.clock.fixed_today

    def ref(self, number: str) -> str:
        return self.refs.ref(number)

    def number_of(self, ref: str) -> str | None:
        return self.refs.number(ref)

    @property
    def refs(self) -> Refs:
        if self._refs is None:
            self._refs = Refs(self.auth.secret())
        return self._refs

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def staff(self, request: web.Request) -> Actor:
        """The signed-in staff member (role and scope read from the store now), or a redirect to
        the login page; a session whose user is no longer staff is ended."""
        session = self.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise self._to_login(request)
        actor = actor_of(self.store, session.channel, session.user)
        if not actor.staff:
            self.auth.close(session)
            self.refuse(request, "role_revoked", 403)
            raise self._to_login(request, "您的工作人员身份已被收回，不能再使用后台。")
        request[SESSION] = session
        request[ACTOR] = actor
        return actor

    async def form(self, request: web.Request) -> Any:
        """The POSTed form, after checking its CSRF token against the session's."""
        form = await request.post()
        session: Session | None = request.get(SESSION)
        if session is None:
            await self.staff(request)
            session = request[SESSION]
        if not same(str(form.get("csrf") or ""), session.csrf):
            raise self.refuse(request, "csrf", 403, "页面已过期或来源不明（安全校验失败）。请返回重新打开页面再提交。")
        return form

    def refuse(self, request: web.Request, reason: str, status: int = 403, message: str | None = None) -> web.HTTPException:
        """Logs one WARNING line, counts console_refused_total{reason}, returns the error to raise."""
        actor: Actor | None = request.get(ACTOR)
        log.warning("console refused %s: %s %s by %s", reason, request.method, request.path, actor.id if actor else "-")
        self.metrics.inc("console_refused", self.channel, reason=reason)
        if status == 404:
            message = message or "没有找到这条申请（可能不存在，或不在您的管辖范围内）。"
        body = self.env.get_template("message.html").render(
            title="无法办理" if status != 404 else "没有找到", message=message or "您没有权限办理这项操作。", actor=actor,
            nav=self.nav, csrf_field=lambda: self._csrf_field(request), back=self.url("todo"))
        error = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}.get(status, web.HTTPForbidden)
        return error(text=body, content_type="text/html", headers=SECURITY_HEADERS)

    def render(self, request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
        page = self.env.get_template(template).render(
            actor=request.get(ACTOR), nav=self.nav, csrf_field=lambda: self._csrf_field(request), **context)
        response = web.Response(text=page, content_type="text/html", charset="utf-8", status=status)
        response.headers.update(SECURITY_HEADERS)
        return response

    def _csrf_field(self, request: web.Request) -> Markup:
        session: Session | None = request.get(SESSION)
        token = session.csrf if session else request.get(PRE, "")
        return Markup('<input type="hidden" name="csrf" value="%s">') % escape(token)

    def secure(self, request: web.Request) -> bool:
        """HTTPS as the browser sees it: the request itself, the proxy's header, or an https base URL."""
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return request.secure or forwarded == "https" or urlsplit(self.public_url).scheme == "https"

    def set_session_cookie(self, request: web.Request, response: web.StreamResponse, sid: str) -> None:
        response.set_cookie(SESSION_COOKIE, sid, path=self.prefix, httponly=True, samesite="Strict",
                            secure=self.secure(request), max_age=int(IDLE * 16))

    def _to_login(self, request: web.Request, why: str = "") -> web.HTTPException:
        if request.method == "GET":
            return web.HTTPSeeOther(self.url("login") + ("?gone=1" if why else ""), headers=SECURITY_HEADERS)
        return web.HTTPForbidden(text=self.env.get_template("message.html").render(
            title="请重新登录", message=why or "登录已过期（30分钟未操作会自动退出）。请在聊天里发送“后台登录”获取新链接。",
            actor=None, nav=[], csrf_field=lambda: Markup(""), back=self.url("login")), content_type="text/html", headers=SECURITY_HEADERS)

    # -- login / logout ---------------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.Response:
        """GET shows a button: link previews (WeChat fetches links) must not use up the link."""
        token = request.query.get("t", "")
        pre = request.cookies.get(PRE_COOKIE) or _random()
        request[PRE] = pre
        gone = "gone" in request.query
        response = self.render(request, "login.html", {"token": token, "gone": gone})
        response.set_cookie(PRE_COOKIE, pre, path=self.prefix, httponly=True, samesite="Strict", secure=self.secure(request), max_age=900)
        return response

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not same(str(form.get("csrf") or ""), request.cookies.get(PRE_COOKIE)):
            raise self.refuse(request, "csrf", 403, "安全校验失败。请重新点开登录链接。")
        who = self.auth.redeem(str(form.get("t") or ""))
        if isinstance(who, str):
            message = "这个登录链接已经用过了。每个链接只能用一次，请在聊天里发送“后台登录”获取新链接。" if who == "login_used" \
                else "登录链接无效或已过期（10分钟内有效）。请在聊天里发送“后台登录”获取新链接。"
            raise self.refuse(request, who, 403, message)
        channel, user = who
        if not actor_of(self.store, channel, user).staff:
            raise self.refuse(request, "not_staff", 403, "后台只对村干部、乡镇和县级审核人员开放。")
        sid = self.auth.open_session(channel, user)
        log.info("console: %s:%s signed in", channel, user)
        response = web.HTTPSeeOther(self.url("todo"), headers=SECURITY_HEADERS)
        self.set_session_cookie(request, response, sid)
        response.del_cookie(PRE_COOKIE, path=self.prefix)
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        await self.form(request)
        self.auth.close(request[SESSION])
        response = web.HTTPSeeOther(self.url("login"), headers=SECURITY_HEADERS)
        response.del_cookie(SESSION_COOKIE, path=self.prefix)
        raise response

    async def home(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther(self.url("todo"))

    async def static_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in {p.name for p in (HERE / "static").iterdir()}:
            raise web.HTTPNotFound()
        return web.FileResponse(HERE / "static" / name, headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    # -- the adapter -----------------------------------------------------------------------------
    def routes(self) -> list[Any]:
        routes = [
            web.get(self.prefix, self.home),
            web.get(self.prefix.rstrip("/"), self.home),
            web.get(self.url("login"), self.login_page),
            web.post(self.url("login"), self.login),
            web.post(self.url("logout"), self.logout),
            web.get(self.url("static/{name}"), self.static_file),
        ]
        self.nav = []
        for name in _PAGE_MODULES:
            if importlib.util.find_spec(f"channels.web.{name}") is None:
                continue
            module = importlib.import_module(f"channels.web.{name}")
            routes += module.routes(self)
            self.nav += list(getattr(module, "NAV", []))
        return routes

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        return False  # a web page cannot be pushed to


def _random() -> str:
    return secrets.token_urlsafe(24)
