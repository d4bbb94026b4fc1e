"""Connector clients that share one keep-alive connection pool.

The SDK's factory gives every turn a connector client with an ``aiohttp.ClientSession`` of
its own, so every reply opens a new TCP (and in production TLS) connection to the Bot
Connector and closes it after the turn. This factory makes the same clients (same token,
same endpoint) on sessions that share one pool, kept for the life of the process; an
agentic or Copilot Studio request still goes through the SDK's own code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from microsoft_agents.activity import ConversationReference, RoleTypes
from microsoft_agents.hosting.core import (
    ChannelServiceAdapter,
    ClaimsIdentity,
    ConnectorClientBase,
    RestChannelServiceClientFactory,
    TeamsConnectorClient,
    TurnContext,
)

POOL_SIZE = 100  # connections kept open to the connector hosts, all of them together


class PooledConnectorClients(RestChannelServiceClientFactory):
    _pool: aiohttp.TCPConnector | None = None

    async def create_connector_client(
        self, context: TurnContext | None, claims_identity: ClaimsIdentity, service_url: str,
        audience: str, scopes: list[str] | None = None, use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        if not service_url or not audience or (context is not None and sdk_only(context)):
            return await super().create_connector_client(
                context, claims_identity, service_url, audience, scopes, use_anonymous)
        provider = (self._ANONYMOUS_TOKEN_PROVIDER if use_anonymous else
                    self._connection_manager.get_token_provider(claims_identity, service_url))
        token = await provider.get_access_token(
            audience, scopes or claims_identity.get_token_scope())
        endpoint = service_url if service_url.endswith("/") else service_url + "/"
        session = aiohttp.ClientSession(base_url=endpoint, connector=self.pool(),
                                        connector_owner=False)
        return TeamsConnectorClient(endpoint=endpoint, token=token, session=session)

    def pool(self) -> aiohttp.TCPConnector:
        if self._pool is None or self._pool.closed:
            self._pool = aiohttp.TCPConnector(limit=POOL_SIZE)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def sdk_only(context: TurnContext) -> bool:
    """An agentic request or a Copilot Studio connector: the SDK's own client and token."""
    activity = context.activity
    recipient = activity.recipient
    return bool(activity.is_agentic_request()
                or (recipient is not None and recipient.role == RoleTypes.connector_user))


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
