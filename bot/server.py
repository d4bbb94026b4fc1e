"""``coach serve``: one aiohttp application — GET /healthz, /readyz and /metrics, each
configured surface's own routes and background work (Slack: POST /slack/events, the
OAuth pages, Socket Mode), mounted without the server knowing which, and the operating
rhythm's scheduler (bot/rhythm/hosting.py: on the one elected replica).

Every request gets a request id (bot/observability/context.py) that its log lines and
the work after its ack carry. On SIGTERM (or SIGINT) the process stops taking work
(:func:`run_until_stopped`): new requests and /readyz answer 503, in-flight requests and
the turns after the acks finish, the scheduler stops and its lock is released, then the
process exits."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from bot.bootstrap import App
from bot.channels.gateway import Gateway
from bot.channels.hosting import SHUTDOWN_WAIT, HostedSurface, gateway_lifetime, outbox_loop
from bot.observability import context
from bot.rhythm.hosting import DueWork, RhythmHost
from storage.readiness import SchemaNotAtHead, check_ready

log = logging.getLogger("coach.server")
DELIVERY_EVERY = 10.0  # seconds between catch-up passes over the outbox
DELIVERY_DELAY = 0.2  # seconds a pass waits after a turn, to serve a busy moment at once
# seconds SQLite work waits for another process's write lock: a view submission must be
# answered within Slack's 3 s, so the user is told to submit again instead
REQUEST_BUSY_TIMEOUT = 1.0
APP_KEY = web.AppKey("coach", App)
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)  # set when a stop signal arrives
MAX_BODY = 1024 * 1024  # bytes, for any surface; aiohttp answers 413 beyond it
REQUEST_ID_HEADER = "X-Request-Id"
# Answered while stopping too: the process is alive (/healthz, so no orchestrator kills
# it mid-drain), says it is not ready (/readyz) and can still be scraped (/metrics).
ANSWERED_WHILE_STOPPING = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER = "5"  # seconds a caller refused while this process stops should wait
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Status:
    """The operational endpoints' answers: ``{"status": ...}``."""

    alive = "ok"
    ready = "ready"
    stopping = "shutting down"
    no_database = "database unavailable"
    schema = "schema not at the migration head"


def status(text: str, code: int = 200, **headers: str) -> web.Response:
    return web.json_response({"status": text}, status=code, headers=headers)


def make_web_app(app: App, *surfaces: HostedSurface | None,
                 delivery_every: float | None = DELIVERY_EVERY,
                 rhythm: RhythmHost | None = None) -> web.Application:
    """The operational endpoints, then each configured surface's routes and background
    work (None: a surface that is off), then each shared gateway's outbox loop, then the
    rhythm's scheduler (``rhythm``, on its gateway's outbox: stopped first at shutdown)."""
    web_app = web.Application(client_max_size=MAX_BODY, middlewares=[request_scope])
    web_app[APP_KEY] = app
    web_app[STOPPING_KEY] = asyncio.Event()
    web_app.on_startup.append(_settle_heap)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)
    hosted = [surface for surface in surfaces if surface is not None]
    gateways: list[Gateway] = []
    for surface in hosted:
        if surface.gateway not in gateways:
            gateways.append(surface.gateway)
    if rhythm is not None and rhythm.gateway not in gateways:
        gateways.append(rhythm.gateway)
    app.metrics.watch_outbox(app.sessions, app.clock.now,
                             sorted({c for g in gateways for c in g.outbox.notifiers}))
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


@web.middleware
async def request_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's id on its log lines (and on the work it starts, which copies the
    context) and on the response; while the process stops, 503 for new work."""
    request_id = context.request_id_from(request.headers.get(REQUEST_ID_HEADER))
    context.request_id.set(request_id)  # this request's own task: nothing to reset
    if request.app[STOPPING_KEY].is_set() and request.path not in ANSWERED_WHILE_STOPPING:
        return status(Status.stopping, 503, **{
            "Retry-After": RETRY_AFTER, "Connection": "close", REQUEST_ID_HEADER: request_id})
    response = await handler(request)
    if not response.prepared:  # a streamed answer has sent its headers already
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


async def _settle_heap(web_app: web.Application) -> None:
    """Move everything loaded at start out of the garbage collector's way: a full
    collection then scans only what requests create, so it cannot stall an ack."""
    gc.collect()
    gc.freeze()


async def healthz(request: web.Request) -> web.Response:
    """The process answers: no database, no lane, nothing to wait for."""
    return status(Status.alive)


async def readyz(request: web.Request) -> web.Response:
    """Ready when a turn could commit: the schema at this code's migration head and a
    write to every table, rolled back (a read-only file or revoked privileges answer
    503), in its own thread, never the DB lane. Not ready once the process stops."""
    if request.app[STOPPING_KEY].is_set():
        return status(Status.stopping, 503)
    app = request.app[APP_KEY]
    try:
        await asyncio.to_thread(check_ready, app.engine)
    except SchemaNotAtHead as exc:
        log.warning("not ready: %s", exc)
        return status(Status.schema, 503)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        log.warning("not ready: %s", exc)
        return status(Status.no_database, 503)
    return status(Status.ready)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' text format (or OpenMetrics, when the scraper asks for it); the outbox
    backlog is read in a thread of its own."""
    body, content_type = await asyncio.to_thread(request.app[APP_KEY].metrics.exposition,
                                                 request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


class AccessLog(AbstractAccessLogger):
    """One INFO line per request: method, path (never the query string, which may hold
    an OAuth code), status, size and seconds."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse,
            time: float) -> None:
        self.logger.info("%s %s %s %s %.3fs", request.method, request.path, response.status,
                         response.body_length, time)


def serve(app: App, host: str, port: int, due_work: DueWork | None = None) -> int:
    """Serve until stopped. ``due_work``: what the scheduler runs (default: the rhythm's)."""
    from bot.rhythm.hosting import due_work_for, rhythm_host
    from bot.surfaces import configured_surfaces, shared_gateway

    gateway = shared_gateway(app, DELIVERY_DELAY)
    surfaces = configured_surfaces(app, gateway)
    platforms = [surface.platform for surface in surfaces]
    rhythm = rhythm_host(app, gateway, due_work or due_work_for(app, platforms),
                         {surface.platform: surface.finder for surface in surfaces})
    asyncio.run(run_until_stopped(make_web_app(app, *surfaces, rhythm=rhythm), host, port,
                                  stop_delay=app.settings.coach_shutdown_delay))
    return 0


async def run_until_stopped(web_app: web.Application, host: str, port: int, *,
                            stop_delay: float = 0.0) -> None:
    """Serve on ``host:port`` until SIGTERM or SIGINT, then stop without losing work:

    1. stop taking work: new requests and /readyz answer 503 (for ``stop_delay``
       seconds the port stays open, so a load balancer polling /readyz moves away);
    2. close the port; requests in flight finish (up to ``SHUTDOWN_WAIT`` seconds);
    3. the application's cleanup, in order: the scheduler stops (its tick done) and
       releases its lock, the outbox loop stops, each surface waits for the turns after
       its acks and closes, the gateways finish their last work.

    A second signal during the stop ends the process at once (the default handlers are
    back)."""
    runner = web.AppRunner(web_app, handle_signals=False, shutdown_timeout=SHUTDOWN_WAIT,
                           access_log_class=AccessLog)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        print(f"======== Running on {site.name} ========", flush=True)
        await _stop_signal()
        log.warning("stopping: new work is refused; finishing the work in flight")
        web_app[STOPPING_KEY].set()
        if stop_delay:
            await asyncio.sleep(stop_delay)
    finally:
        await runner.cleanup()
    log.warning("stopped")


async def _stop_signal() -> None:
    loop = asyncio.get_running_loop()
    received = asyncio.Event()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, received.set)
    try:
        await received.wait()
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
