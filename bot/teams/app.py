"""The Teams surface of ``coach serve``: ``POST /api/messages`` through the Microsoft 365
Agents SDK (``CloudAdapter`` and an ``AgentApplication``), with the SDK's JWT check
whenever an app id is configured, and Teams's notifier on the shared outbox.

Without TEAMS_APP_ID the endpoint is anonymous (local development with the Agents
Playground or the Bot Framework Emulator), logged loudly at start. Nothing connects
until a request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentApplication,
    AgentAuthConfiguration,
    ApplicationOptions,
    ConnectionManager,
    MemoryStorage,
    OutboundHostValidator,
    Storage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.authorization import AuthTypes
from microsoft_agents.hosting.core.http import HttpResponse
from yarl import URL

from bot.bootstrap import App
from bot.channels.database import Database
from bot.channels.gateway import Gateway
from bot.channels.hosting import SHUTDOWN_WAIT
from bot.channels.limits import TurnLimiter
from bot.channels.outbox import OutboxWorker
from bot.llm.wiring import assistant_for
from bot.services.context import ServiceContext
from bot.settings import ConfigError, Settings
from bot.teams.connector import PooledConnectorClients
from bot.teams.handlers import TeamsHandlers
from bot.teams.identity import TeamsFinder
from bot.teams.notifier import Sleep, TeamsNotifier
from bot.teams.parse import PLATFORM
from bot.teams.store import TeamsStore

log = logging.getLogger("coach.teams")
ROUTE = "/api/messages"
TokenProviders = Callable[[AgentAuthConfiguration], AccessTokenProviderBase]
AUTH_CONFIG_KEY = "agent_configuration"  # where the SDK's JWT check reads its settings
CLAIMS_KEY = "claims_identity"  # where it leaves the claims it checked, on the request


@dataclass
class TeamsApp:
    """The Teams surface as ``coach serve`` hosts it (bot/channels/hosting.py)."""

    agent: AgentApplication[TurnState]
    adapter: CloudAdapter
    auth: AgentAuthConfiguration
    handlers: TeamsHandlers
    gateway: Gateway
    store: TeamsStore
    tenants: tuple[str, ...]
    clients: PooledConnectorClients

    finder: TeamsFinder

    @property
    def platform(self) -> str:
        return PLATFORM

    def add_routes(self, web_app: web.Application) -> None:
        quiet_sdk_keys()
        web_app[AUTH_CONFIG_KEY] = self.auth
        web_app.router.add_post(ROUTE, jwt_authorization_decorator(  # type: ignore[no-untyped-call]
            self.messages))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        """An authenticated activity (the decorator answered 401 otherwise): refuse what the
        SDK could not read with 400, hand the rest, read once, to its pipeline."""
        activity = read(await request.read())
        if isinstance(activity, str):
            log.warning("teams activity refused: %s", activity)
            return web.json_response({"error": activity}, status=400)
        answered = await self.adapter.process_request(ReadRequest(request, activity),
                                                      self.agent)
        return aiohttp_response(answered)

    async def lifetime(self, web_app: web.Application) -> AsyncIterator[None]:
        """Link the configured tenants before the first request; at shutdown, let the last
        turns finish, then close the connections to the Bot Connector."""
        await self.gateway.database.run(self.store.link_tenants, self.tenants)
        yield
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gateway.idle(), timeout=SHUTDOWN_WAIT)
        await self.clients.close()


def read(body: bytes) -> Activity | str:
    """The activity in this body, or why the SDK could not handle it: not a JSON object,
    not an activity, no conversation, or a service URL no reply could be sent to."""
    try:
        raw = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(raw, dict):
        return "the body is not an activity"
    try:
        activity = Activity.model_validate(raw)
    except Exception:  # noqa: BLE001 - the SDK's validators raise bare Exceptions too
        return "the body is not an activity"
    if not activity.type or not activity.conversation or not activity.conversation.id:
        return "the activity has no type or conversation"
    if activity.service_url is not None and not reachable(activity.service_url):
        return "the activity's serviceUrl is not an http(s) URL"
    return activity


class ReadRequest:
    """The request as the SDK's HTTP adapter reads it (its ``HttpRequestProtocol``), with
    the activity :func:`read` found in the body: the SDK validates what ``json()`` gives
    with ``Activity.model_validate``, which takes a validated Activity as it is, so a body
    is parsed and validated once, not twice (bench/RESULTS.md, "Teams CPU per activity")."""

    def __init__(self, request: web.Request, activity: Activity) -> None:
        self.request, self.activity = request, activity

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request.headers

    async def json(self) -> Any:
        return self.activity

    def get_claims_identity(self) -> Any:
        """What the SDK's JWT check found (it keeps it under this key of the request)."""
        return self.request.get(CLAIMS_KEY)

    def get_path_param(self, name: str) -> str:
        return self.request.match_info[name]


def aiohttp_response(answer: HttpResponse) -> web.Response:
    """The SDK's framework-neutral answer as aiohttp's (as its CloudAdapter converts it)."""
    if answer.body is not None:
        return web.json_response(answer.body, status=answer.status_code,
                                 headers=answer.headers)
    return web.Response(status=answer.status_code, headers=answer.headers,
                        content_type=answer.content_type)


def reachable(service_url: Any) -> bool:
    try:
        url = URL(str(service_url))
    except (ValueError, TypeError):
        return False
    return url.absolute and url.scheme in ("http", "https") and bool(url.host)


class StatelessTurnState(TurnState):
    """The SDK's turn state without its conversation and user scopes: our state is the
    database's (the turn runner's), so loading and saving those scopes from the SDK's
    in-memory storage on every activity was work for nothing (about 0.1 ms per activity,
    bench_teams) and memory that grew with every conversation. The temp scope, which the
    SDK fills on every turn, stays (it lives for the turn only: nothing to save)."""

    async def load(self, context: TurnContext, storage: Storage) -> TurnState:
        return self

    async def save(self, turn_context: TurnContext, force: bool = False) -> None:
        return None


def enabled(app: App) -> bool:
    """Teams is on with an app id, or with a tenant to serve anonymously (development)."""
    return bool(app.settings.teams_app_id or app.settings.teams_tenants)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's connection settings from ours: the app id and its credential (a client
    secret, a certificate, or a managed identity), or anonymous when there is no app id."""
    if not settings.teams_app_id:
        return AgentAuthConfiguration(anonymous_allowed=True)
    tenants = settings.teams_tenants
    if settings.teams_auth_type:
        try:
            auth_type = AuthTypes(settings.teams_auth_type)
        except ValueError:
            names = ", ".join(t.value for t in AuthTypes)
            raise ConfigError(f"TEAMS_AUTH_TYPE must be one of: {names}") from None
    elif settings.teams_app_password:
        auth_type = AuthTypes.client_secret
    elif settings.teams_cert_file:
        auth_type = AuthTypes.certificate
    else:
        auth_type = AuthTypes.user_managed_identity
    return AgentAuthConfiguration(
        auth_type=auth_type, client_id=settings.teams_app_id,
        tenant_id=tenants[0] if len(tenants) == 1 else None,
        client_secret=settings.teams_app_password, cert_pfx_file=settings.teams_cert_file,
        anonymous_allowed=False)


def quiet_sdk_keys() -> None:
    """The SDK keeps its settings and claims under plain string keys of the aiohttp app and
    request, which aiohttp warns about on every request: not ours to fix, so not shown."""
    for module in (__name__, r"microsoft_agents\.hosting\.aiohttp\..*"):
        warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=module)


def msal_provider(config: AgentAuthConfiguration) -> AccessTokenProviderBase:
    from microsoft_agents.authentication.msal import MsalAuth

    provider: AccessTokenProviderBase = MsalAuth(config)
    return provider


def build_teams(app: App, *, gateway: Gateway | None = None,
                token_providers: TokenProviders = msal_provider,
                sleep: Sleep = asyncio.sleep, delivery_delay: float = 0.0) -> TeamsApp:
    """The Teams side of ``coach serve``. ``token_providers`` makes the token provider for
    the app's credential (MSAL; tests pass a recording fake); ``sleep`` waits between the
    notifier's retries. ``gateway``: the channel layer shared with other surfaces (made
    here, its outbox passes ``delivery_delay`` seconds after a turn, when Teams is alone)."""
    s = app.settings
    auth = auth_configuration(s)
    if not s.teams_tenants:
        log.warning("no TEAMS_TENANT_ID: every Teams user will be told their organisation "
                    "is not connected")
    if not s.teams_app_id:
        log.warning("Teams is ANONYMOUS: no TEAMS_APP_ID, so POST %s accepts activities "
                    "without a token. Use this for local development only.", ROUTE)
    connections = ConnectionManager(token_providers,
                                    connections_configurations={"SERVICE_CONNECTION": auth})
    hosts = [h.strip() for h in (s.teams_service_hosts or "").split(",") if h.strip()]
    checked = bool(s.teams_app_id) and s.teams_outbound_check
    clients = PooledConnectorClients(connections)
    adapter = CloudAdapter(channel_service_client_factory=clients,
                           host_validator=OutboundHostValidator(hosts, enabled=checked))
    if gateway is None:
        database = Database(app.engine, answers_after_turn=True)
        gateway = Gateway(app.runner, database, OutboxWorker(app.sessions, app.clock, database,
                                                             delay=delivery_delay,
                                                             metrics=app.metrics),
                          assistant=assistant_for(app.settings, app.playbook, app.engine,
                                                  database.run, app.clock.now),
                          metrics=app.metrics,
                          limiter=TurnLimiter.configured(app.settings))
    store = TeamsStore(app.sessions, app.clock)
    handlers = TeamsHandlers(gateway, store, ServiceContext(app.sessions, app.clock,
                                                            app.playbook))
    agent = AgentApplication[TurnState](
        ApplicationOptions(storage=MemoryStorage(), bot_app_id=s.teams_app_id or "",
                           start_typing_timer=False, remove_recipient_mention=False,
                           turn_state_factory=StatelessTurnState),
        connection_manager=connections)
    agent.activity("message")(handlers.on_message)
    agent.activity("conversationUpdate")(handlers.on_conversation_update)
    agent.activity("installationUpdate")(handlers.on_installation_update)
    agent.error(handlers.on_error)
    adapter.on_turn_error = handlers.on_error
    gateway.outbox.register(TeamsNotifier(adapter, s.teams_app_id or "", store,
                                          gateway.database, sleep))
    finder = TeamsFinder(store, gateway.database, adapter, s.teams_app_id or "")
    return TeamsApp(agent, adapter, auth, handlers, gateway, store, s.teams_tenants, clients,
                    finder)
