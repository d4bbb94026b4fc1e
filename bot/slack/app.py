"""Build the Bolt ``AsyncApp`` for our settings: single workspace (bot token), or many
(OAuth with our installation and state stores). Nothing connects until a request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_cacheable_installation_store import (
    AsyncCacheableInstallationStore,
)

from bot.bootstrap import App
from bot.channels.database import Database
from bot.channels.gateway import Gateway
from bot.channels.hosting import SHUTDOWN_WAIT
from bot.channels.limits import TurnLimiter
from bot.channels.outbox import OutboxWorker
from bot.keyring import Keyring
from bot.llm.wiring import assistant_for
from bot.settings import ConfigError
from bot.slack import http
from bot.slack.clients import (
    API_TIMEOUT,
    Clients,
    Sleep,
    api_logger,
    api_session,
    api_url,
    retry_handlers,
    web_client,
)
from bot.slack.handlers import SlackHandlers
from bot.slack.identity import SlackFinder
from bot.slack.installations import InstallationStore, StateStore
from bot.slack.listeners import register
from bot.slack.notifier import SlackNotifier
from bot.slack.parse import PLATFORM

log = logging.getLogger("coach.slack")
BOT_SCOPES = ("commands", "chat:write", "files:write", "im:history", "im:write", "users:read",
              "users:read.email")


@dataclass
class SlackApp:
    """The Slack surface as ``coach serve`` hosts it (bot/channels/hosting.py)."""

    bolt: AsyncApp
    handlers: SlackHandlers
    gateway: Gateway
    oauth: bool
    http: bool  # serve POST /slack/events (only with a signing secret to verify it)
    signing_secret: str = ""
    socket_mode: bool = False  # also listen over Socket Mode (SLACK_APP_TOKEN)
    app_token: str = ""
    api_timeout: float = API_TIMEOUT  # seconds for one Web API call, OAuth's included

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def finder(self) -> SlackFinder:
        """How the rhythm reaches someone who never used the app: by email."""
        return SlackFinder(self.handlers.identity, self.handlers.clients)

    def add_routes(self, web_app: web.Application) -> None:
        http.add_routes(web_app, self.bolt, self.signing_secret if self.http else "")

    async def lifetime(self, web_app: web.Application) -> AsyncIterator[None]:
        """One keep-alive connection pool for every Web API call, Socket Mode when on;
        at shutdown the work after the acks finishes before the pool closes."""
        client = self.bolt.client
        shared = client.session is None
        if shared:
            client.session = api_session(self.api_timeout)
        # the token's own workspace linked now, before the rhythm's first tick places
        # anyone there (a failure is tried again on the first request that needs it)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await self.handlers.workspaces.ensure_linked()
        handler = None
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(self.bolt, self.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
        yield
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gateway.idle(), timeout=SHUTDOWN_WAIT)
        if shared and client.session is not None:
            await client.session.close()
            client.session = None


def enabled(app: App) -> bool:
    """Slack is on with a token (or OAuth client) and a way in: HTTP or Socket Mode."""
    s = app.settings
    return bool((s.slack_bot_token or s.slack_client_id)
                and (s.slack_signing_secret or s.slack_app_token))


def build_slack(app: App, *, sleep: Sleep = asyncio.sleep, threaded: bool | None = None,
                delivery_delay: float = 0.0, api_timeout: float = API_TIMEOUT,
                socket_mode: bool = False, gateway: Gateway | None = None) -> SlackApp:
    """The Slack side of ``coach serve``; ``sleep`` waits out Retry-After (tests record it);
    ``threaded`` picks where database work runs (default: threads for PostgreSQL only);
    every Web API call (the OAuth exchange too: Bolt gives it this client) gives up after
    ``api_timeout`` seconds. ``gateway``: the channel layer shared with other surfaces
    (made here when Slack is the only one); Slack's notifier is registered on its outbox."""
    s = app.settings
    oauth = bool(s.slack_client_id and s.slack_client_secret)
    if not s.slack_signing_secret and (oauth or not s.slack_app_token):
        raise ConfigError("SLACK_SIGNING_SECRET is required for Slack over HTTP "
                          "(set SLACK_APP_TOKEN instead for Socket Mode)")
    if not oauth and not s.slack_bot_token:
        raise ConfigError("set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                          "SLACK_CLIENT_SECRET (many workspaces)")
    client = web_client(token=None if oauth else s.slack_bot_token,
                        base_url=api_url(s.slack_api_url), timeout=api_timeout,
                        retry_handlers=retry_handlers(sleep), logger=api_logger(s.coach_log_level))
    if gateway is None:
        database = Database(app.engine, threaded=threaded)
        outbox = OutboxWorker(app.sessions, app.clock, database, delay=delivery_delay,
                              metrics=app.metrics)
        gateway = Gateway(app.runner, database, outbox, assistant=assistant_for(
            app.settings, app.playbook, app.engine, database.run, app.clock.now),
            metrics=app.metrics,
            limiter=TurnLimiter.configured(app.settings))
    clients = Clients(client, None)
    handlers = SlackHandlers(app, clients, gateway)
    gateway.outbox.register(SlackNotifier(clients, handlers.identity))
    gateway.show_late_with(PLATFORM, handlers.show_late)
    if oauth:
        assert s.slack_client_id and s.slack_client_secret
        # Cached in memory: authorizing a request must not wait for the database or auth.test.
        store = AsyncCacheableInstallationStore(
            InstallationStore(s.slack_client_id, app.engine, gateway.database,
                              Keyring(s.encryption_keys)))
        settings = AsyncOAuthSettings(
            client_id=s.slack_client_id, client_secret=s.slack_client_secret,
            scopes=list(BOT_SCOPES), installation_store=store, installation_store_bot_only=True,
            state_store=StateStore(app.engine, gateway.database))
        settings.authorize = AsyncInstallationStoreAuthorize(
            logger=log, installation_store=store, client_id=s.slack_client_id,
            client_secret=s.slack_client_secret, bot_only=True, cache_enabled=True,
            client=client)
        bolt = AsyncApp(client=client, signing_secret=s.slack_signing_secret,
                        oauth_settings=settings, process_before_response=True)
        clients.store = store
    else:
        # Socket Mode requests skip signature checks; HTTP is not served without a secret.
        bolt = AsyncApp(client=client, signing_secret=s.slack_signing_secret or "",
                        process_before_response=True)
    register(bolt, handlers, oauth=oauth)
    return SlackApp(bolt, handlers, gateway, oauth, http=bool(s.slack_signing_secret),
                    signing_secret=s.slack_signing_secret or "", socket_mode=socket_mode,
                    app_token=s.slack_app_token or "", api_timeout=api_timeout)
