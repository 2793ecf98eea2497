"""The one web server: every adapter's webhook routes, plus /healthz and /metrics.

All channels of a process share it, so one port and one reverse-proxy entry serve them. What
runs behind it (store, assistant, adapters) is built by the composition root, app/wiring.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from channels.base import Adapter
from channels.metrics import Metrics

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADAPTERS = web.AppKey("adapters", list[Adapter])
METRICS = web.AppKey("metrics", Metrics)
ROUTE_CHANNELS = web.AppKey("route_channels", dict[Any, str])  # each adapter route's channel, for the error count


async def healthz(request: web.Request) -> web.Response:
    channels = [adapter.channel for adapter in request.app[ADAPTERS]]
    return web.json_response({"status": "ok", "channels": channels})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")


@web.middleware
async def count_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A handler that raises is logged (with its traceback, in the log only) and answered 500, and
    every 500 is counted in errors_total under the route's channel ("server" for /healthz, /metrics)."""
    channel = request.app[ROUTE_CHANNELS].get(request.match_info.route, "server")
    try:
        response = await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s: %s %s failed", channel, request.method, request.path)
        request.app[METRICS].inc("errors", channel)
        return web.Response(status=500, text="internal error")
    if response.status >= 500:
        request.app[METRICS].inc("errors", channel)
    return response


async def _start_adapters(app: web.Application) -> None:
    for adapter in app[ADAPTERS]:
        await adapter.start()


async def _stop_adapters(app: web.Application) -> None:
    for adapter in reversed(app[ADAPTERS]):
        await adapter.stop()


def build_app(adapters: Sequence[Adapter], metrics_: Metrics) -> web.Application:
    """The adapters must share `metrics_`, so /metrics shows every channel once."""
    app = web.Application(middlewares=[count_errors])
    app[ADAPTERS] = list(adapters)
    app[METRICS] = metrics_
    app[ROUTE_CHANNELS] = {}
    for adapter in adapters:
        for route in app.add_routes(adapter.routes()):
            app[ROUTE_CHANNELS][route] = adapter.channel
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.on_startup.append(_start_adapters)
    app.on_shutdown.append(_stop_adapters)
    return app


async def start_server(adapters: Sequence[Adapter], metrics_: Metrics, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Starts serving and returns the runner and the bound port (port 0 picks a free one).

    The access log is off: one line per message costs more than the rest of a WeChat
    request; /metrics counts what matters.
    """
    runner = web.AppRunner(build_app(adapters, metrics_), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, bound


async def serve_forever(adapters: Sequence[Adapter], metrics_: Metrics, host: str, port: int) -> None:
    """Serves until SIGINT or SIGTERM, then stops the adapters cleanly."""
    runner, bound = await start_server(adapters, metrics_, host, port)
    names = "、".join(adapter.channel for adapter in adapters)
    print(f"已启动 {names}：http://{host}:{bound}（/healthz，/metrics）。按 Ctrl+C 停止。", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()
