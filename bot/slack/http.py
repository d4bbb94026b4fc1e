"""Slack's HTTP endpoints on the aiohttp app: events (verified on the raw bytes before
Bolt parses anything), and the OAuth install pages when OAuth is configured."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.slack.request import Refused, bolt_request, verified_text

log = logging.getLogger("coach.slack.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
VERIFIER_KEY = web.AppKey("slack_verifier", SignatureVerifier)


def add_routes(web_app: web.Application, bolt: AsyncApp, signing_secret: str) -> None:
    """Slack over HTTP (only with a signing secret to verify it): events, and the OAuth
    pages when OAuth is configured."""
    if not signing_secret:
        return
    web_app[VERIFIER_KEY] = SignatureVerifier(signing_secret)
    web_app.router.add_post("/slack/events", _events(bolt))
    flow = bolt.oauth_flow
    if flow is not None:
        web_app.router.add_get(flow.install_path, _install(bolt))
        web_app.router.add_get(flow.redirect_uri_path, _redirect(bolt))


def _events(bolt: AsyncApp) -> Handler:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        """Verify the raw bytes, read them defensively, then hand Bolt the request."""
        text = verified_text(await request.read(), request.headers, request.app[VERIFIER_KEY])
        bolt_req = text if isinstance(text, Refused) else bolt_request(
            text, request.query_string, request.headers)
        if isinstance(bolt_req, Refused):
            log.warning("slack request refused (%d): %s", bolt_req.status, bolt_req.reason)
            return web.json_response({"error": bolt_req.reason}, status=bolt_req.status)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_req))

    return slack_events


def _install(bolt: AsyncApp) -> Handler:
    async def slack_install(request: web.Request) -> web.StreamResponse:
        flow = bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_installation(
            await to_bolt_request(request)))

    return slack_install


def _redirect(bolt: AsyncApp) -> Handler:
    async def slack_redirect(request: web.Request) -> web.StreamResponse:
        flow = bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(
            await to_bolt_request(request)))

    return slack_redirect
