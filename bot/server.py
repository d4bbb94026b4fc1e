"""``coach serve``: one aiohttp application — GET /healthz and GET /readyz, each
configured surface's own routes and background work (Slack: POST /slack/events, the
OAuth pages, Socket Mode), mounted without the server knowing which, and the operating
rhythm's scheduler (bot/rhythm/hosting.py: on the one elected replica)."""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web

from bot.bootstrap import App
from bot.channels.gateway import Gateway
from bot.channels.hosting import HostedSurface, gateway_lifetime, outbox_loop
from bot.rhythm.hosting import DueWork, RhythmHost
from storage.readiness import check_writable

log = logging.getLogger("coach.server")
DELIVERY_EVERY = 10.0  # seconds between catch-up passes over the outbox
DELIVERY_DELAY = 0.2  # seconds a pass waits after a turn, to serve a busy moment at once
# seconds SQLite work waits for another process's write lock: a view submission must be
# answered within Slack's 3 s, so the user is told to submit again instead
REQUEST_BUSY_TIMEOUT = 1.0
APP_KEY = web.AppKey("coach", App)
MAX_BODY = 1024 * 1024  # bytes, for any surface; aiohttp answers 413 beyond it


def make_web_app(app: App, *surfaces: HostedSurface | None,
                 delivery_every: float | None = DELIVERY_EVERY,
                 rhythm: RhythmHost | None = None) -> web.Application:
    """The health endpoints, then each configured surface's routes and background work
    (None: a surface that is off), then each shared gateway's outbox loop, then the
    rhythm's scheduler (``rhythm``, on its gateway's outbox: stopped first at shutdown)."""
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app[APP_KEY] = app
    web_app.on_startup.append(_settle_heap)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    hosted = [surface for surface in surfaces if surface is not None]
    gateways: list[Gateway] = []
    for surface in hosted:
        if surface.gateway not in gateways:
            gateways.append(surface.gateway)
    if rhythm is not None and rhythm.gateway not in gateways:
        gateways.append(rhythm.gateway)
    # cleanup runs in reverse: loops stop, surfaces close, then the gateways' last work
    web_app.cleanup_ctx.extend(gateway_lifetime(gateway) for gateway in gateways)
    for surface in hosted:
        surface.add_routes(web_app)
        web_app.cleanup_ctx.append(surface.lifetime)
    if delivery_every:
        web_app.cleanup_ctx.extend(outbox_loop(gateway, delivery_every) for gateway in gateways)
    if rhythm is not None:
        web_app.cleanup_ctx.append(rhythm.lifetime)
    return web_app


async def _settle_heap(web_app: web.Application) -> None:
    """Move everything loaded at start out of the garbage collector's way: a full
    collection then scans only what requests create, so it cannot stall an ack."""
    gc.collect()
    gc.freeze()


async def healthz(request: web.Request) -> web.Response:
    """The process answers: no database, no lane, nothing to wait for."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when a turn could commit: a write to every table, rolled back (a read-only
    file or revoked privileges answer 503), in its own thread, never the DB lane."""
    app = request.app[APP_KEY]
    try:
        await asyncio.to_thread(check_writable, app.engine)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        log.warning("not ready: %s", exc)
        return web.json_response({"status": "database unavailable"}, status=503)
    return web.json_response({"status": "ready"})


def serve(app: App, host: str, port: int, due_work: DueWork | None = None) -> int:
    """Serve until stopped. ``due_work``: what the scheduler runs (default: the rhythm's)."""
    from bot.rhythm.hosting import due_work_for, rhythm_host
    from bot.surfaces import configured_surfaces, shared_gateway

    gateway = shared_gateway(app, DELIVERY_DELAY)
    surfaces = configured_surfaces(app, gateway)
    platforms = [surface.platform for surface in surfaces]
    rhythm = rhythm_host(app, gateway, due_work or due_work_for(app, platforms),
                         {surface.platform: surface.finder for surface in surfaces})
    web.run_app(make_web_app(app, *surfaces, rhythm=rhythm),
                host=host, port=port, print=lambda line: print(line, flush=True))
    return 0
