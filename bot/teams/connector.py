"""Connector clients kept for the life of the process, on one keep-alive connection pool.

The SDK's factory builds, on every turn, a connector client and a user-token client, each
on an ``aiohttp.ClientSession`` (with a connection pool) of its own and with a User-Agent
read from the installed packages' metadata, and closes them after the turn: every reply
opened a new TCP (in production TLS) connection to the Bot Connector, and building the two
clients cost about as much CPU as running the turn (bench/RESULTS.md). This factory keeps
one client per endpoint on sessions that share one pool. It still asks the token provider
for the token on every turn (MSAL renews it before it expires) and puts the current one on
the kept client; the SDK's close after each turn leaves kept clients open, :meth:`close`
at shutdown closes them. An agentic or Copilot Studio request still goes through the SDK's
own code."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import orjson
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ConversationReference,
    InputHints,
    ResourceResponse,
    RoleTypes,
)
from microsoft_agents.hosting.core import (
    ChannelServiceAdapter,
    ClaimsIdentity,
    Connections,
    ConnectorClientBase,
    RestChannelServiceClientFactory,
    TeamsConnectorClient,
    TurnContext,
    UserTokenClient,
)

POOL_SIZE = 100  # connections kept open to the connector hosts, all of them together
KEPT_CLIENTS = 64  # endpoints with a kept client (Teams has one per region and tenant)


class KeptConnectorClient(TeamsConnectorClient):
    """A connector client that outlives its turn: the SDK's close after the turn does
    nothing; the factory disposes of it."""

    async def close(self) -> None:
        return None

    async def dispose(self) -> None:
        await super().close()


class KeptUserTokenClient(UserTokenClient):
    """The client for the SDK's user sign-in (OAuth): this app signs no user in, but the
    SDK makes one every turn; kept like :class:`KeptConnectorClient`."""

    async def close(self) -> None:
        return None

    async def dispose(self) -> None:
        await super().close()


Kept = TypeVar("Kept", KeptConnectorClient, KeptUserTokenClient)


class PooledConnectorClients(RestChannelServiceClientFactory):
    def __init__(self, connection_manager: Connections) -> None:
        super().__init__(connection_manager)
        self._pool: aiohttp.TCPConnector | None = None
        self._kept: OrderedDict[tuple[str, ...], KeptConnectorClient | KeptUserTokenClient] = (
            OrderedDict())

    async def create_connector_client(
        self, context: TurnContext | None, claims_identity: ClaimsIdentity, service_url: str,
        audience: str, scopes: list[str] | None = None, use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        if not service_url or not audience or (context is not None and sdk_only(context)):
            return await super().create_connector_client(
                context, claims_identity, service_url, audience, scopes, use_anonymous)
        provider = (self._ANONYMOUS_TOKEN_PROVIDER if use_anonymous else
                    self._connection_manager.get_token_provider(claims_identity, service_url))
        scopes = scopes or claims_identity.get_token_scope()
        token = await provider.get_access_token(audience, scopes)
        endpoint = service_url if service_url.endswith("/") else service_url + "/"
        return await self._keep(
            ("connector", endpoint, audience, *scopes), token, endpoint,
            lambda session: KeptConnectorClient(endpoint=endpoint, token=token,
                                                session=session))

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity,
        use_anonymous: bool = False,
    ) -> UserTokenClient:
        if not use_anonymous and context.activity.is_agentic_request():
            return await super().create_user_token_client(context, claims_identity,
                                                          use_anonymous)
        token = ""
        if not use_anonymous:
            provider = self._connection_manager.get_token_provider(
                claims_identity, self._token_service_endpoint)
            token = await provider.get_access_token(self._token_service_audience,
                                                    claims_identity.get_token_scope())
            if not token:
                raise ValueError("Failed to obtain token for user token client")
        endpoint = self._token_service_endpoint
        app_id = claims_identity.get_app_id()
        return await self._keep(
            ("user token", endpoint, app_id or ""), token, endpoint,
            lambda session: KeptUserTokenClient(endpoint=endpoint, token=token, app_id=app_id,
                                                session=session))

    async def _keep(self, key: tuple[str, ...], token: str, endpoint: str,
                    make: Callable[[aiohttp.ClientSession], Kept]) -> Kept:
        """The kept client for ``key``, now with ``token``; made the first time on a session
        of the shared pool. Beyond ``KEPT_CLIENTS`` the least recently used is closed."""
        kept = self._kept.get(key)
        if kept is not None and not kept.client.closed:
            self._kept.move_to_end(key)
            authorize(kept.client, token)
            return kept  # type: ignore[return-value]
        base = endpoint if endpoint.endswith("/") else endpoint + "/"
        made = make(aiohttp.ClientSession(base_url=base, connector=self.pool(),
                                          connector_owner=False, json_serialize=json_text))
        self._kept[key] = made
        while len(self._kept) > KEPT_CLIENTS:
            _, oldest = self._kept.popitem(last=False)
            await oldest.dispose()
        return made

    def pool(self) -> aiohttp.TCPConnector:
        if self._pool is None or self._pool.closed:
            self._pool = aiohttp.TCPConnector(limit=POOL_SIZE)
        return self._pool

    async def close(self) -> None:
        kept, self._kept = list(self._kept.values()), OrderedDict()
        for client in kept:
            await client.dispose()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def json_text(value: object) -> str:
    """An activity's JSON for the connector, by orjson: ``json.dumps`` of a card took a
    twentieth of the CPU of an activity in the server (bench/RESULTS.md, "Teams sends
    through the connector client")."""
    return orjson.dumps(value).decode()


def authorize(session: aiohttp.ClientSession, token: str) -> None:
    """The kept session's bearer token, as the SDK's clients set it (none: anonymous)."""
    if len(token) > 1:
        session.headers["Authorization"] = f"Bearer {token}"
    else:
        session.headers.pop("Authorization", None)


def sdk_only(context: TurnContext) -> bool:
    """An agentic request or a Copilot Studio connector: the SDK's own client and token."""
    activity = context.activity
    recipient = activity.recipient
    return bool(activity.is_agentic_request()
                or (recipient is not None and recipient.role == RoleTypes.connector_user))


def kept_client(context: TurnContext) -> KeptConnectorClient | None:
    """The turn's connector client when it is one of ours (kept on the shared pool); None
    otherwise, and then the SDK's own ``TurnContext`` sends: an agentic request's client is
    the SDK's, and a turn whose replies go back in the HTTP answer (``expectReplies``,
    ``stream``) has no connector client at all."""
    client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    return client if isinstance(client, KeptConnectorClient) else None


REFERENCE_KEY = "coach.conversation_reference"  # in the turn state: made once a turn


def reference_of(context: TurnContext) -> ConversationReference:
    """The turn's conversation reference, made once a turn: the SDK's
    ``get_conversation_reference`` copies the activity's parties on every call (a sixth of
    the CPU of a card update, bench/RESULTS.md). The activities it addresses share them;
    nothing here changes them."""
    reference = context.turn_state.get(REFERENCE_KEY)
    if not isinstance(reference, ConversationReference):
        reference = context.activity.get_conversation_reference()
        context.turn_state[REFERENCE_KEY] = reference
    return reference


async def send_in_turn(context: TurnContext, activity: Activity) -> ResourceResponse:
    """Send ``activity`` in the turn's conversation as ``TurnContext.send_activity`` does
    (addressed with the incoming activity's reference: a reply to it), straight through the
    turn's kept connector client: the SDK's ``send_activity`` first deep-copies the
    activity, runs the send hooks (this app registers none) and opens two telemetry spans
    around the client's own, a tenth of the CPU of an activity (bench/RESULTS.md, "Teams
    sends through the connector client"). ``activity`` is addressed in place."""
    client = kept_client(context)
    if client is None:
        return await context.send_activity(activity)
    activity.apply_conversation_reference(reference_of(context))
    activity.type = activity.type or ActivityTypes.message
    activity.input_hint = activity.input_hint or InputHints.accepting_input
    activity.id = None
    conversation = activity.conversation.id
    if activity.reply_to_id:
        sent = await client.conversations.reply_to_activity(conversation, activity.reply_to_id,
                                                            activity)
    else:
        sent = await client.conversations.send_to_conversation(conversation, activity)
    context.responded = True
    return sent or ResourceResponse(id="")


async def update_in_turn(context: TurnContext, activity: Activity) -> None:
    """Replace the turn conversation's activity ``activity.id`` by ``activity``, as
    ``TurnContext.update_activity`` does, through the kept client (see :func:`send_in_turn`)."""
    client = kept_client(context)
    if client is None:
        await context.update_activity(activity)
        return
    activity.apply_conversation_reference(reference_of(context))
    assert activity.id is not None  # an update names the activity it replaces
    await client.conversations.update_activity(activity.conversation.id, activity.id, activity)


async def proactively(adapter: ChannelServiceAdapter, app_id: str,
                      reference: ConversationReference,
                      work: Callable[[TurnContext], Awaitable[None]]) -> None:
    """One proactive turn in a stored conversation (``work`` with its context: a new
    message in the chat, not a reply to anything), with the app's credential; in local
    development (no app id) the connector takes no token."""
    continuation = reference.get_continuation_activity()
    continuation.id = None
    if app_id:
        await adapter.continue_conversation(app_id, continuation, work)
    else:
        await adapter.continue_conversation_with_claims(ClaimsIdentity(), continuation, work)
