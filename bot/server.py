"""``coach serve``: one aiohttp application — Slack at POST /slack/events (plus
/slack/install and /slack/oauth_redirect with OAuth), GET /healthz and GET /readyz —
with Socket Mode on the same loop when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import App
from bot.slack.app import SlackApp
from bot.slack.clients import api_session
from bot.slack.request import MAX_BODY, Refused, bolt_request, verified_text
from storage.readiness import check_writable

log = logging.getLogger("coach.server")
DELIVERY_EVERY = 10.0  # seconds between catch-up passes over the outbox
DELIVERY_DELAY = 0.2  # seconds a pass waits after a turn, to serve a busy moment at once
# seconds SQLite work waits for another process's write lock: a view submission must be
# answered within Slack's 3 s, so the user is told to submit again instead
REQUEST_BUSY_TIMEOUT = 1.0
APP_KEY = web.AppKey("coach", App)
SLACK_KEY = web.AppKey("slack", SlackApp)
VERIFIER_KEY = web.AppKey("slack_verifier", SignatureVerifier)


def make_web_app(app: App, slack: SlackApp | None, *, socket_mode: bool = False,
                 delivery_every: float | None = DELIVERY_EVERY) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app[APP_KEY] = app
    web_app.on_startup.append(_settle_heap)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    if slack is not None:
        web_app[SLACK_KEY] = slack
        if slack.http:
            web_app[VERIFIER_KEY] = SignatureVerifier(app.settings.slack_signing_secret or "")
            web_app.router.add_post("/slack/events", slack_events)
        flow = slack.bolt.oauth_flow
        if flow is not None and slack.http:
            web_app.router.add_get(flow.install_path, slack_install)
            web_app.router.add_get(flow.redirect_uri_path, slack_redirect)
        web_app.cleanup_ctx.append(_background(slack, socket_mode, delivery_every))
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


async def slack_events(request: web.Request) -> web.Response:
    """Verify the raw bytes, read them defensively, then hand Bolt the request."""
    text = verified_text(await request.read(), request.headers, request.app[VERIFIER_KEY])
    bolt_req = text if isinstance(text, Refused) else bolt_request(
        text, request.query_string, request.headers)
    if isinstance(bolt_req, Refused):
        log.warning("slack request refused (%d): %s", bolt_req.status, bolt_req.reason)
        return web.json_response({"error": bolt_req.reason}, status=bolt_req.status)
    return await to_aiohttp_response(await request.app[SLACK_KEY].bolt.async_dispatch(bolt_req))


async def slack_install(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_installation(
        await to_bolt_request(request)))


async def slack_redirect(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


def _background(slack: SlackApp, socket_mode: bool, every: float | None,
                ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(web_app: web.Application) -> AsyncIterator[None]:
        client = slack.bolt.client
        shared = client.session is None
        if shared:  # one keep-alive connection pool for every Web API call
            client.session = api_session(slack.api_timeout)
        tasks = []
        if every:
            tasks.append(asyncio.create_task(_deliver_forever(slack, every)))
        handler = None
        if socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            token = web_app[APP_KEY].settings.slack_app_token
            handler = AsyncSocketModeHandler(slack.bolt, token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
        yield
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(slack.surface.background.idle(), timeout=10)
        if shared and client.session is not None:
            await client.session.close()
            client.session = None
        slack.surface.close()

    return context


async def _deliver_forever(slack: SlackApp, every: float) -> None:
    """Catch up on outbox rows that were rescheduled (429, 5xx, unknown recipient)."""
    while True:
        await asyncio.sleep(every)
        try:
            await slack.surface.delivery.run_once()
        except Exception:
            log.exception("slack delivery pass failed")


def serve(app: App, host: str, port: int) -> int:
    from bot.slack.app import build_slack, enabled

    slack = build_slack(app, delivery_delay=DELIVERY_DELAY) if enabled(app) else None
    if slack is None:
        log.warning("Slack is off: no SLACK_SIGNING_SECRET with a token or client id")
    socket_mode = slack is not None and bool(app.settings.slack_app_token)
    web.run_app(make_web_app(app, slack, socket_mode=socket_mode), host=host, port=port,
                print=lambda line: print(line, flush=True))
    return 0
